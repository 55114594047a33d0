"""The HTTP plumbing the local fakes share (see :mod:`.apify` and :mod:`.gemini`).

- :class:`FakeServer`: a fake's base class. It runs a :class:`ThreadingHTTPServer` on 127.0.0.1
  with an ephemeral port (``start`` / ``stop`` / context manager / ``url``), keeps the fault queue
  (the ``fail_next`` family of the fakes, ``pending_faults``, ``clear_faults``) and the faults
  drawn at a rate (``fail_at_rate``, ``injected_faults``), records the requests (``requests``,
  ``requests_to``, ``clear_requests``) and serves each request: it reads and records it, applies a
  pending or drawn fault, asks the fake for the response, then waits ``latency_seconds`` and sends
  it (or resets, truncates or stalls it).
- :class:`Handler`: the request handler (keep-alive, ``TCP_NODELAY``, socket tracking, no logging).
- :func:`read_body`: a request body, de-chunked and decompressed.

A fake subclasses :class:`FakeServer` and implements :meth:`FakeServer._make_request`,
:meth:`FakeServer._error_response`, :meth:`FakeServer._fault_response` and
:meth:`FakeServer._handle`. The fakes never print or log requests: they may carry credentials.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import re
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

REDACTED = "<redacted>"


class MaskedHeaders(dict[str, str]):
    """Request headers with lower-cased names; its ``repr`` masks :attr:`secret_names`."""

    secret_names: ClassVar[frozenset[str]] = frozenset()

    def __repr__(self) -> str:
        return repr({k: (REDACTED if k in self.secret_names else v) for k, v in self.items()})


class Request(Protocol):
    """What the plumbing needs of a fake's recorded request."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...


RequestT = TypeVar("RequestT", bound=Request)


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, status: int, payload: Any) -> Self:
        """A response whose body is ``payload`` as JSON."""
        return cls(status, json.dumps(payload, ensure_ascii=False).encode())


def loads_or_none(body: bytes) -> Any:
    """``body`` parsed as JSON, or ``None`` if it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


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
"""What :meth:`FakeServer.fail_at_rate` draws from by default: three error statuses, a stall (no
answer before the client's timeout), a reset connection and a body cut short."""


@dataclass
class _RateFaults:
    """Faults drawn for a share of the matching requests (see :meth:`FakeServer.fail_at_rate`)."""

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


class BodyError(Exception):
    """A request body that cannot be read: the fake answers ``status`` with ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def normalize_method(method: str | None) -> str | None:
    return None if method in (None, "*") else method.upper()


class FakeServer(Generic[RequestT]):
    """The base of a fake HTTP API server (see the module docstring)."""

    _handler_class: ClassVar[type[Handler]]
    _fault_class: ClassVar[type[Fault]] = Fault
    _headers_class: ClassVar[type[MaskedHeaders]] = MaskedHeaders
    _poll_interval: ClassVar[float] = 0.05
    _request_queue_size: ClassVar[int] = ThreadingHTTPServer.request_queue_size
    _brotli: ClassVar[bool] = False  # accept Content-Encoding: br (if brotli is installed)
    _unsupported_encoding_status: ClassVar[int] = 400

    def __init__(self, *, latency_seconds: float | Callable[[str, str], float] = 0.0) -> None:
        self.latency_seconds = latency_seconds
        self.handler_errors: list[BaseException] = []
        self._lock = threading.RLock()
        self._requests: list[RequestT] = []
        self._faults: list[Any] = []
        self._rate_faults: list[_RateFaults] = []
        self._injected: Counter[str] = Counter()
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

    # ----------------------------------------------------------------------------- faults

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


def read_body(
    handler: BaseHTTPRequestHandler,
    *,
    name: str,
    brotli: bool = False,
    unsupported_status: int = 400,
) -> bytes:
    """The request body, de-chunked and decompressed (``gzip``, ``deflate``, and ``br`` if
    ``brotli`` and the package is installed). An unknown encoding raises :class:`BodyError` with
    ``unsupported_status``, a body that does not decompress one with 400."""
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        body = b"".join(chunks)
    else:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    encoding = (handler.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity":
        return body
    decompress: Callable[[bytes], bytes] | None = None
    if encoding in ("gzip", "x-gzip"):
        decompress = gzip.decompress
    elif encoding == "deflate":
        decompress = zlib.decompress
    elif encoding == "br" and brotli:  # the Apify client's optional brotli compressor
        with contextlib.suppress(ImportError):
            import brotli as brotli_module  # type: ignore[import-not-found]

            decompress = brotli_module.decompress
    if decompress is None:
        raise BodyError(
            unsupported_status, f"Content-Encoding {encoding!r} is not supported by {name}."
        )
    try:
        return decompress(body)
    except Exception as exc:
        raise BodyError(400, f"The request body is not valid {encoding}: {exc}") from None
