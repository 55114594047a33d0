"""What every endpoint of the fake Apify API shares (see :mod:`.apify`): the request it records,
Apify's error envelope, the query parameters, timestamps and the one user.

The routes (:mod:`.apify_account`, :mod:`.apify_datasets`, :mod:`.apify_key_value_stores`) raise
:class:`ApiError`; the fake turns it into :func:`error_response`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from ._messages import REDACTED, MaskedHeaders, Response, loads_or_none

FAKE_USER_ID = "FakeUser000000001"

_ERROR_TYPES = {
    400: "invalid-input",
    401: "token-not-provided",
    404: "record-not-found",
    415: "unsupported-content-encoding",
    429: "rate-limit-exceeded",
}


class ApifyHeaders(MaskedHeaders):
    """Request headers with lower-cased names; its ``repr`` masks credentials."""

    secret_names = frozenset({"authorization", "x-apify-token"})


class RecordedRequest(NamedTuple):
    """One request the fake received, in arrival order (faulted requests included).

    ``query`` maps each query parameter to its (last) value; ``json`` is the parsed body, or
    ``None`` when there is no body or it is not JSON (a compressed body is decompressed first);
    ``headers`` has lower-cased names, e.g. ``headers["authorization"] == "Bearer test-token"``.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]

    def __repr__(self) -> str:
        query = {k: (REDACTED if k == "token" else v) for k, v in self.query.items()}
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, query={query!r}, "
            f"json={self.json!r}, headers={ApifyHeaders(self.headers)!r})"
        )


def parse_json_body(body: bytes, content_type: str | None) -> Any:
    if not body or "json" not in (content_type or "application/json").lower():
        return None
    return loads_or_none(body)


class ApiError(Exception):
    def __init__(self, status: int, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


json_response = Response.from_json


def error_response(status: int, message: str, error_type: str | None = None) -> Response:
    if error_type is None:
        error_type = _ERROR_TYPES.get(
            status, "internal-server-error" if status >= 500 else "invalid-input"
        )
    return json_response(status, {"error": {"type": error_type, "message": message}})


def not_found(path: str) -> ApiError:
    return ApiError(404, f"FakeApify: no such resource or endpoint: {path}", "record-not-found")


def int_param(query: dict[str, str], name: str, default: int | None = None) -> int:
    if name not in query or query[name] == "":
        if default is None:
            raise ApiError(400, f"Parameter {name!r} is required.", "invalid-parameter")
        return default
    try:
        value = int(query[name])
    except ValueError:
        raise ApiError(
            400, f"Parameter {name!r} must be an integer.", "invalid-parameter"
        ) from None
    if value < 0:
        raise ApiError(400, f"Parameter {name!r} must be >= 0.", "invalid-parameter")
    return value


def bool_param(query: dict[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("1", "true")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
