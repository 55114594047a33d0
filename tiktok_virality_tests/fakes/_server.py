"""The server of the local fakes (see :mod:`.apify` and :mod:`.gemini`): the part every fake shares.

- :class:`FakeServer`: a fake's base class. It runs a :class:`ThreadingHTTPServer` on 127.0.0.1
  with an ephemeral port (``start`` / ``stop`` / context manager / ``url``), records the requests
  (``requests``, ``requests_to``, ``clear_requests``) and serves each request: it reads and
  records it, applies a pending or drawn fault (:class:`._faults.FaultInjection`, its base), asks
  the fake for the response, then waits ``latency_seconds`` and sends it (or resets, truncates or
  stalls it).
- :class:`Handler`: the request handler (keep-alive, ``TCP_NODELAY``, socket tracking, no logging).

A fake subclasses :class:`FakeServer` and implements :meth:`FakeServer._make_request`,
:meth:`FakeServer._error_response`, :meth:`FakeServer._fault_response` and
:meth:`FakeServer._handle`. The messages are in :mod:`._messages`, the choice of faults in
:mod:`._faults`. The fakes never print or log requests: they may carry credentials.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, unquote, urlsplit

from ._faults import FaultInjection, RequestT
from ._messages import BodyError, MaskedHeaders, Response, normalize_method, read_body


class FakeServer(FaultInjection[RequestT]):
    """The base of a fake HTTP API server (see the module docstring)."""

    _handler_class: ClassVar[type[Handler]]
    _headers_class: ClassVar[type[MaskedHeaders]] = MaskedHeaders
    _poll_interval: ClassVar[float] = 0.05
    _request_queue_size: ClassVar[int] = ThreadingHTTPServer.request_queue_size
    _brotli: ClassVar[bool] = False  # accept Content-Encoding: br (if brotli is installed)
    _unsupported_encoding_status: ClassVar[int] = 400

    def __init__(self, *, latency_seconds: float | Callable[[str, str], float] = 0.0) -> None:
        super().__init__()
        self.latency_seconds = latency_seconds
        self.handler_errors: list[BaseException] = []
        self._lock = threading.RLock()
        self._requests: list[RequestT] = []
        self._counters: dict[str, int] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._open_sockets: set[socket.socket] = set()

    # ----------------------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Start serving on 127.0.0.1 with an ephemeral port (idempotent)."""
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": self._poll_interval},
                name=self._name(),
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the connections still open (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            sockets = list(self._open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL of the running fake."""
        if self._server is None:
            raise RuntimeError(
                f"{self._name()} is not running: use it as a context manager or call start()"
            )
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @classmethod
    def _name(cls) -> str:
        """The fake's name, e.g. ``FakeApify`` (the class that first subclasses this one)."""
        for klass in reversed(cls.__mro__):
            if issubclass(klass, FakeServer) and klass is not FakeServer:
                return klass.__name__
        return cls.__name__

    # ----------------------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[RequestT]:
        """A snapshot of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str | None, path_pattern: str) -> list[RequestT]:
        """The recorded requests with this method (``None``: any) whose path matches the regex."""
        pattern = re.compile(path_pattern)
        wanted = normalize_method(method)
        return [
            r
            for r in self.requests
            if (wanted is None or r.method == wanted) and pattern.search(r.path)
        ]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # ----------------------------------------------------------------------------- serving

    def _next(self, prefix: str) -> int:
        with self._lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
            return n

    def _latency(self, method: str, path: str) -> float:
        latency = self.latency_seconds
        return float(latency(method, path) if callable(latency) else latency)

    def _serve(self, handler: Handler) -> None:
        """Serve one request (called in a server thread)."""
        split = urlsplit(handler.path)
        path = unquote(split.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = self._headers_class({k.lower(): v for k, v in handler.headers.items()})
        method = handler.command
        body_error: BodyError | None = None
        try:
            body = read_body(
                handler,
                name=self._name(),
                brotli=self._brotli,
                unsupported_status=self._unsupported_encoding_status,
            )
        except BodyError as exc:
            body, body_error = b"", exc
        request = self._make_request(method, path, query, headers, body)
        with self._lock:
            self._requests.append(request)
            self._request_started(request)
        try:
            self._respond(handler, request, body, body_error)
        finally:
            self._request_finished(request)

    def _respond(
        self, handler: Handler, request: RequestT, body: bytes, body_error: BodyError | None
    ) -> None:
        fault = self._take_fault(request)
        response: Response | None = None
        if fault is not None and not fault.after_handling and fault.kind == "status":
            response = self._fault_response(fault, request)
        elif fault is not None and not fault.after_handling and fault.kind in ("reset", "stall"):
            pass  # no response: the connection is reset (a stall: later)
        elif body_error is not None:
            response = self._error_response(body_error.status, body_error.message)
        else:
            response = self._handle(request, body)
            if fault is not None and fault.kind == "status":
                response = self._fault_response(fault, request)

        time.sleep(self._latency(request.method, request.path))
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.stall_seconds)  # the client has given up by now, or waits on
        if response is None or (fault is not None and fault.kind in ("reset", "stall")):
            handler.reset_connection()
        elif fault is not None and fault.kind == "truncate":
            handler.send(response, truncate=True, declare_full_length=fault.declare_full_length)
        else:
            handler.send(response)

    # ----------------------------------------------------------------------------- to implement

    def _make_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> RequestT:
        """The request to record (the body is decompressed, or ``b""`` if it could not be)."""
        raise NotImplementedError

    def _request_started(self, request: RequestT) -> None:
        """Called under the lock when ``request`` has been recorded."""

    def _request_finished(self, request: RequestT) -> None:
        """Called when the response to ``request`` has been sent (or the connection reset)."""

    def _error_response(self, status: int, message: str) -> Response:
        """An error reply in the API's envelope."""
        raise NotImplementedError

    def _fault_response(self, fault: Any, request: RequestT) -> Response:
        """The reply to a request that consumed a ``status`` fault."""
        raise NotImplementedError

    def _handle(self, request: RequestT, body: bytes) -> Response:
        """The reply to a request without a body error and without a fault before handling."""
        raise NotImplementedError


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeServer[Any]) -> None:
        self.fake = fake
        self.request_queue_size = fake._request_queue_size
        super().__init__(("127.0.0.1", 0), fake._handler_class)


class Handler(BaseHTTPRequestHandler):
    """The request handler; a fake subclasses it to set ``server_version``."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs
    timeout = 60  # an idle keep-alive connection ends after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.fake._lock:
            self.server.fake._open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Print nothing: a request line or header may carry a credential."""

    def _handle(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    def send(
        self, response: Response, *, truncate: bool = False, declare_full_length: bool = True
    ) -> None:
        body = response.body
        sent = body[: len(body) // 2] if truncate else body
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if declare_full_length else len(sent)))
        if truncate and declare_full_length:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(sent)
        self.wfile.flush()

    def reset_connection(self) -> None:
        """Close the socket with a TCP reset, without sending anything."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self.server.fake._lock:
            self.server.fake._open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            self.connection.close()
