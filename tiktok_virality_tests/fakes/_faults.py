"""The faults a test can inject into a local fake (see :mod:`._server`), apart from the serving.

- :class:`Fault`: one queued fault (an error status, a reset connection, a body cut short or a
  stall) for the requests matching a method and a path pattern; a fake subclasses it for its own
  error envelope and conditions.
- :class:`FaultInjection`: the queue and the faults drawn at a rate, as a base of
  :class:`._server.FakeServer`: ``_inject`` (behind each fake's ``fail_next`` family),
  ``fail_at_rate``, ``injected_faults``, ``pending_faults``, ``clear_faults``, and ``_take_fault``,
  which the server asks for each request it serves.

What a fault does to the response is the server's business (:meth:`._server.FakeServer._respond`);
here is only which request gets which fault, so that the reproducible draw can be read on its own.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from ._messages import Request, normalize_method

RequestT = TypeVar("RequestT", bound=Request)


@dataclass
class Fault:
    kind: str  # "status" | "reset" | "truncate" | "stall"
    method: str | None
    pattern: re.Pattern[str]
    remaining: int
    status: int = 500
    after_handling: bool = False
    declare_full_length: bool = True
    stall_seconds: float = 0.0

    def matches(self, request: Request) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method == request.method)
            and self.pattern.search(request.path) is not None
            and self._accepts(request)
        )

    def _accepts(self, request: Request) -> bool:
        """A further condition on the request (the fault raising: ``handler_errors``)."""
        return True


RATE_FAULT_KINDS = ("429", "500", "503", "stall", "reset", "truncate")
"""What :meth:`FaultInjection.fail_at_rate` draws from by default: three error statuses, a stall
(no answer before the client's timeout), a reset connection and a body cut short."""


@dataclass
class _RateFaults:
    """Faults drawn for a share of the matching requests (see :meth:`FaultInjection.fail_at_rate`)."""

    rate: float
    seed: int
    kinds: tuple[str, ...]
    method: str | None
    pattern: re.Pattern[str]
    stall_seconds: float
    key: Callable[[Any], str]
    seen: Counter[str] = field(default_factory=Counter)

    def draw(self, request: Request) -> tuple[str, bool] | None:
        """The fault this request gets, as (kind, after_handling), or None."""
        if (self.method is not None and self.method != request.method) or not self.pattern.search(
            request.path
        ):
            return None
        key = self.key(request)
        self.seen[key] += 1
        digest = hashlib.sha256(f"{self.seed}\0{key}\0{self.seen[key]}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= self.rate:
            return None
        return self.kinds[digest[8] % len(self.kinds)], bool(digest[9] & 1)


def _method_and_path(request: Request) -> str:
    return f"{request.method} {request.path}"


class FaultInjection(Generic[RequestT]):
    """The faults of a fake: queued ones first, then those drawn at a rate (a base of the server,
    which provides the lock and the list of handler errors)."""

    _fault_class: ClassVar[type[Fault]] = Fault
    _lock: threading.RLock
    handler_errors: list[BaseException]

    def __init__(self) -> None:
        self._faults: list[Any] = []
        self._rate_faults: list[_RateFaults] = []
        self._injected: Counter[str] = Counter()

    def _inject(
        self, kind: str, method: str | None, path_pattern: str, times: int, **options: Any
    ) -> None:
        """Queue a fault of the fake's :attr:`_fault_class` (see the fakes' ``fail_next``)."""
        status = options.get("status", 500)
        if kind == "status" and not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status, got {status}")
        fault = self._fault_class(
            kind, normalize_method(method), re.compile(path_pattern), times, **options
        )
        if fault.remaining < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(fault)

    def fail_at_rate(
        self,
        rate: float,
        *,
        seed: int,
        path_pattern: str = "",
        method: str | None = None,
        kinds: Sequence[str] = RATE_FAULT_KINDS,
        stall_seconds: float = 2.0,
        key: Callable[[RequestT], str] | None = None,
    ) -> None:
        """From now on, give each matching request a fault with probability ``rate`` (0 to 1), of a
        kind drawn from ``kinds``: an HTTP error status (``"429"``, ``"500"``, ...) in the fake's
        error envelope; ``"reset"``: the connection is reset without a reply; ``"truncate"``: half
        the body, then the connection closes; ``"stall"``: no reply for ``stall_seconds``, then a
        reset (a client with a shorter timeout times out). A 5xx, a reset or a stall comes, one
        time in two, after the request was processed (a run IS started, the handler DID answer):
        the answer is lost, not the work.

        The draw is a hash of ``seed``, the request's ``key`` (default: method and path) and how
        many requests with that key came before, so the same requests get the same faults whatever
        order concurrent requests arrive in; give a ``key`` that tells requests to one path apart
        (e.g. the video a generateContent body carries). Queued faults (``fail_next``...) go first;
        ``injected_faults`` counts the faults drawn, by kind; ``clear_faults`` stops them.
        """
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        for kind in kinds:
            if kind not in ("reset", "truncate", "stall") and not (
                kind.isdigit() and 400 <= int(kind) <= 599
            ):
                raise ValueError(f"unknown fault kind {kind!r}")
        if not kinds:
            raise ValueError("kinds must not be empty")
        with self._lock:
            self._rate_faults.append(
                _RateFaults(
                    rate,
                    seed,
                    tuple(kinds),
                    normalize_method(method),
                    re.compile(path_pattern),
                    stall_seconds,
                    key or _method_and_path,
                )
            )

    @property
    def injected_faults(self) -> Counter[str]:
        """The faults :meth:`fail_at_rate` has given so far, by kind (``"500"``, ``"reset"``...)."""
        with self._lock:
            return Counter(self._injected)

    @property
    def pending_faults(self) -> int:
        """How many injected faults have not been consumed yet."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def clear_faults(self) -> None:
        """Drop the queued faults and stop the faults drawn at a rate."""
        with self._lock:
            self._faults.clear()
            self._rate_faults.clear()

    def _take_fault(self, request: RequestT) -> Any:
        with self._lock:
            for fault in self._faults:
                try:
                    matches = fault.matches(request)
                except Exception as exc:  # a broken condition: tell the test, do not match
                    self.handler_errors.append(exc)
                    continue
                if matches:
                    fault.remaining -= 1
                    return fault
            for rate_faults in self._rate_faults:
                try:
                    drawn = rate_faults.draw(request)
                except Exception as exc:  # a broken key function: tell the test, do not fault
                    self.handler_errors.append(exc)
                    continue
                if drawn is not None:
                    return self._drawn_fault(rate_faults, *drawn)
        return None

    def _drawn_fault(self, rate_faults: _RateFaults, kind: str, after_handling: bool) -> Any:
        self._injected[kind] += 1
        status = int(kind) if kind.isdigit() else 500
        return self._fault_class(
            "status" if kind.isdigit() else kind,
            rate_faults.method,
            rate_faults.pattern,
            1,
            status=status,
            # A 429 refuses the request: nothing was done.
            after_handling=after_handling and status != 429,
            stall_seconds=rate_faults.stall_seconds,
        )
