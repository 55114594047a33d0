"""The HTTP messages the local fakes exchange (see :mod:`._server`), apart from how they are served.

- :class:`Request`: what the plumbing needs of a fake's recorded request (method and path);
  :func:`normalize_method` turns a method filter into the form requests are matched with.
- :class:`MaskedHeaders`: recorded headers whose ``repr`` hides credentials.
- :func:`read_body`: a request body, de-chunked and decompressed (:class:`BodyError` if it cannot
  be); :func:`loads_or_none`: the body as JSON, if it is.
- :class:`Response`: what a fake answers.

They are apart from the server so that a fake's own modules (its routes, its error envelope, its
recorded request) can use them without the server's threads and sockets.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar, Protocol, Self

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


def normalize_method(method: str | None) -> str | None:
    return None if method in (None, "*") else method.upper()


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


class BodyError(Exception):
    """A request body that cannot be read: the fake answers ``status`` with ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
