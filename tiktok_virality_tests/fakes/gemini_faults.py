"""The faults a test can inject into the fake Gemini API (see :mod:`.gemini`): the queued fault
with Google's error envelope, and :class:`GeminiFaultInjection`, a base of
:class:`.gemini.FakeGemini` with ``fail_next``, ``reset_connection_next`` and ``truncate_next``.

They are apart from the fake because their options (a ``when`` predicate, the envelope's message,
status and details, extra headers, the upload status the SDK's chunk retries depend on) and what
the SDK does with each fault take as many lines as the fake's own scenario.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._faults import Fault, FaultInjection
from .gemini_protocol import GeminiResponse, RecordedRequest, error_response


@dataclass
class GeminiFault(Fault):
    """A queued fault whose error carries Google's envelope (and, on an upload, its status)."""

    message: str | None = None
    status_text: str | None = None
    details: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    upload_status: str | None = "final"
    when: Callable[[RecordedRequest], bool] | None = None

    def _accepts(self, request: Any) -> bool:
        return self.when is None or bool(self.when(request))

    def response(self, path: str) -> GeminiResponse:
        response = error_response(
            self.status,
            self.message or f"Injected fault: HTTP {self.status}",
            self.status_text,
            self.details,
        )
        if path.startswith("/upload/") and self.upload_status is not None:
            response.headers["x-goog-upload-status"] = self.upload_status
        response.headers.update(self.headers)
        return response


class GeminiFaultInjection(FaultInjection[RecordedRequest]):
    """The Gemini fake's ways to queue a fault (the seeded draw, ``fail_at_rate``, is the base's)."""

    _fault_class = GeminiFault

    def fail_next(
        self,
        method: str | None,
        path_pattern: str,
        status: int,
        times: int = 1,
        after_handling: bool = False,
        *,
        message: str | None = None,
        status_text: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        upload_status: str | None = "final",
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and Google's error envelope.

        ``method`` is e.g. ``"POST"`` (``None`` or ``"*"``: any); ``path_pattern`` is a regular
        expression searched in the request path (without the query), e.g. :data:`GENERATE_PATH`
        or :data:`UPLOAD_PATH`; ``when``, if given, must also accept the
        :class:`RecordedRequest`, e.g. ``lambda r: r.headers.get("x-goog-upload-command") ==
        "upload, finalize"``. ``status_text`` defaults to :data:`GRPC_STATUS`; ``headers`` are
        added to the reply (e.g. ``Retry-After``, which the SDK ignores).

        With ``after_handling=True`` the request is processed first (the handler runs, a chunk
        is stored, a poll is counted) and only the response is replaced. On an upload request the
        reply carries ``x-goog-upload-status: {upload_status}``: ``final`` makes the SDK raise at
        once; ``None`` leaves the header out, and the SDK sends the chunk up to 3 times in all,
        sleeping 1 s, 2 s and 4 s after each (then raises the last error). Faults are matched in
        the order they were added; a request consumes at most one.
        """
        self._inject(
            "status",
            method,
            path_pattern,
            times,
            status=status,
            after_handling=after_handling,
            message=message,
            status_text=status_text,
            details=details,
            headers=dict(headers or {}),
            upload_status=upload_status,
            when=when,
        )

    def reset_connection_next(
        self,
        path_pattern: str,
        *,
        method: str | None = None,
        times: int = 1,
        after_handling: bool = False,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Close the connection (TCP reset) without any response for the next ``times`` matching
        requests. With ``after_handling=True`` the request is processed first.

        The SDK raises ``httpx2.ReadError`` and does not retry it, not even with
        ``HttpRetryOptions``.
        """
        self._inject("reset", method, path_pattern, times, after_handling=after_handling, when=when)

    def truncate_next(
        self,
        path_pattern: str,
        *,
        method: str | None = None,
        times: int = 1,
        declare_full_length: bool = True,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Send only the first half of the body for the next ``times`` matching requests.

        The request is processed. With ``declare_full_length=True`` (default) the
        ``Content-Length`` is the full length and the connection closes mid-body: the SDK raises
        ``httpx2.RemoteProtocolError``. With ``False`` the response is complete but its body is
        cut JSON: the SDK raises ``json.JSONDecodeError``. The SDK retries neither, not even with
        ``HttpRetryOptions`` (it retries only error statuses, timeouts and connect errors).
        """
        self._inject(
            "truncate",
            method,
            path_pattern,
            times,
            declare_full_length=declare_full_length,
            when=when,
        )
