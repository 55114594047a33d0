"""What every endpoint of the fake Gemini API shares (see :mod:`.gemini`): the paths, the request
it records, the API key check, Google's error envelope and the camelCase/snake_case keys.

The routes (:mod:`.gemini_generate`, :mod:`.gemini_file_store`) raise :class:`GeminiApiError`, as a
scenario handler may; the fake turns it into :func:`api_error_response`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ._messages import REDACTED, MaskedHeaders, Response, loads_or_none

API_VERSIONS = frozenset({"v1", "v1beta", "v1alpha"})
"""The API versions the fake serves (the first path segment, or the second under ``/upload``)."""

GENERATE_PATH = r":generateContent$"
"""A ``path_pattern`` for :meth:`FakeGemini.fail_next` and friends matching generateContent."""

UPLOAD_PATH = r"^/upload/"
"""A ``path_pattern`` matching the upload requests (the start and every chunk)."""

GRPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
"""The ``error.status`` of Google's error envelope for an HTTP status (others: 4xx
``FAILED_PRECONDITION``, 5xx ``INTERNAL``)."""

_SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization"})


class GeminiApiError(Exception):
    """Raise it in a scenario handler to answer with an HTTP error and Google's error envelope.

    ``status_text`` defaults to :data:`GRPC_STATUS` of ``status``; ``details`` is the envelope's
    ``error.details`` list (e.g. a ``google.rpc.RetryInfo``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        status_text: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.status_text = status_text
        self.details = details


class GeminiHeaders(MaskedHeaders):
    """Request headers with lower-cased names; its ``repr`` masks credentials."""

    secret_names = _SECRET_HEADERS


class RecordedRequest(NamedTuple):
    """One request the fake received, in arrival order (faulted requests included).

    ``query`` maps each query parameter to its (last) value; ``json`` is the parsed body, or
    ``None`` when there is none or it is not JSON (upload chunks); ``body_size`` is the body's
    length in bytes; ``headers`` has lower-cased names, e.g.
    ``headers["x-goog-api-key"] == "test-key"``.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    body_size: int

    def __repr__(self) -> str:
        query = {k: (REDACTED if k == "key" else v) for k, v in self.query.items()}
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, query={query!r}, "
            f"json={_short(self.json)}, headers={GeminiHeaders(self.headers)!r}, "
            f"body_size={self.body_size})"
        )


def parse_json_body(body: bytes, headers: dict[str, str], query: dict[str, str]) -> Any:
    if not body or "upload_id" in query:
        return None
    content_type = headers.get("content-type")
    if content_type is None:
        if body.lstrip()[:1] not in (b"{", b"["):
            return None
    elif "json" not in content_type.lower():
        return None
    return loads_or_none(body)


def api_key_error(request: RecordedRequest, required_api_key: str | None) -> GeminiApiError | None:
    """How the API refuses a request without ``required_api_key`` (``None``: it does not)."""
    if required_api_key is None or "upload_id" in request.query:
        return None
    key = request.headers.get("x-goog-api-key") or request.query.get("key")
    if not key:
        return GeminiApiError(
            403,
            "Method doesn't allow unregistered callers (callers without established "
            "identity). Please use API Key or other form of API consumer identity to call "
            "this API.",
        )
    if key != required_api_key:
        return GeminiApiError(
            400,
            "API key not valid. Please pass a valid API key.",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ],
        )
    return None


@dataclass
class GeminiResponse(Response):
    content_type: str | None = "application/json; charset=UTF-8"


json_response = GeminiResponse.from_json


def error_response(
    status: int,
    message: str,
    status_text: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> GeminiResponse:
    if status_text is None:
        status_text = GRPC_STATUS.get(
            status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION"
        )
    error: dict[str, Any] = {"code": status, "message": message, "status": status_text}
    if details:
        error["details"] = details
    return json_response(status, {"error": error})


def api_error_response(error: GeminiApiError) -> GeminiResponse:
    return error_response(error.status, error.message, error.status_text, error.details)


def api_field(mapping: Any, camel: str) -> Any:
    """``mapping[camel]``, or its snake_case spelling (the SDK sends some keys that way)."""
    if not isinstance(mapping, dict):
        return None
    if camel in mapping:
        return mapping[camel]
    return mapping.get(re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}...<{len(text) - limit} more>"
