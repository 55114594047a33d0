"""How many generateContent calls the fake Gemini API is serving (see :mod:`.gemini`): a base of
:class:`.gemini.FakeGemini` that counts them as they arrive and as their responses go out.

The analysis's concurrency limit and the benchmarks' throughput are measured by these counts
(``max_concurrent_generates``), so they have a module of their own rather than lines among the
scenario's.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from .gemini_protocol import GENERATE_PATH, RecordedRequest


class GenerateCallCounts:
    """``generate_calls``, ``generates_in_flight``, ``max_concurrent_generates`` and
    ``reset_stats``, kept by the server's hooks (a base of the fake, which provides the lock)."""

    _lock: threading.RLock

    def __init__(self, **server_options: Any) -> None:
        super().__init__(**server_options)
        self._generate_calls = 0
        self._generates_in_flight = 0
        self._max_concurrent_generates = 0

    @property
    def generate_calls(self) -> int:
        """How many generateContent requests arrived (faulted and refused ones included)."""
        with self._lock:
            return self._generate_calls

    @property
    def generates_in_flight(self) -> int:
        """How many generateContent requests are being served right now."""
        with self._lock:
            return self._generates_in_flight

    @property
    def max_concurrent_generates(self) -> int:
        """The peak number of generateContent requests in flight at once (from arrival until the
        response, latency included, has been sent)."""
        with self._lock:
            return self._max_concurrent_generates

    def reset_stats(self) -> None:
        """Set :attr:`generate_calls` to 0 and :attr:`max_concurrent_generates` to the number in
        flight now, e.g. between the phases of a benchmark."""
        with self._lock:
            self._generate_calls = 0
            self._max_concurrent_generates = self._generates_in_flight

    @staticmethod
    def _is_generate(request: RecordedRequest) -> bool:
        return request.method == "POST" and re.search(GENERATE_PATH, request.path) is not None

    def _request_started(self, request: RecordedRequest) -> None:
        if self._is_generate(request):
            self._generate_calls += 1
            self._generates_in_flight += 1
            self._max_concurrent_generates = max(
                self._max_concurrent_generates, self._generates_in_flight
            )

    def _request_finished(self, request: RecordedRequest) -> None:
        if self._is_generate(request):
            with self._lock:
                self._generates_in_flight -= 1
