"""A local fake of the Gemini HTTP API (Gemini Developer API) that the real ``google-genai`` 3.4 talks to.

It serves, on 127.0.0.1 with an ephemeral port, the subset of the API the pipeline uses, with the
bodies, headers and error envelopes the SDK parses. ``{ver}`` is ``v1beta``, ``v1`` or ``v1alpha``.

- ``POST /{ver}/models/{model}:generateContent``: the reply comes from a scenario handler
  (:meth:`FakeGemini.on_generate`, returning a :class:`GenerateScript`) or, by default, is a JSON
  value valid against the request's ``responseSchema`` / ``responseJsonSchema``
  (:func:`schema_value`). Before the handler, the request is checked like the API does: a body
  that is not JSON, no ``contents``, both schema kinds, a schema without a JSON mime type, a body
  over :attr:`FakeGemini.max_request_bytes` (400 ``INVALID_ARGUMENT``), a ``fileData`` part naming
  a file of the fake that does not exist (403 ``PERMISSION_DENIED``) or is not ``ACTIVE``
  (400 ``FAILED_PRECONDITION``).
- Files API, resumable upload: ``POST /upload/{ver}/files`` with ``X-Goog-Upload-Protocol:
  resumable`` and ``X-Goog-Upload-Command: start`` answers an absolute ``x-goog-upload-url``; the
  bytes go there with ``upload`` / ``upload, finalize`` (and ``query``) commands; the finalizing
  reply carries ``x-goog-upload-status: final`` and ``{"file": {...}}``.
- ``GET /{ver}/files/{id}`` (a *poll*: see :class:`FileScript`), ``DELETE /{ver}/files/{id}``,
  ``GET /{ver}/files`` (``pageSize``, ``pageToken``). A file that does not exist answers 403
  ``PERMISSION_DENIED``, as the API does.
- Anything else: 404 ``{"error": {"code": 404, "message": ..., "status": "NOT_FOUND"}}``.

Faults and latency can be set at any time, also while a client is talking to the fake:
:meth:`FakeGemini.fail_next`, :meth:`FakeGemini.reset_connection_next`,
:meth:`FakeGemini.truncate_next`, :meth:`FakeGemini.fail_at_rate` (a share of the requests, drawn
reproducibly from a seed), :attr:`FakeGemini.latency_seconds`. Errors use Google's envelope
``{"error": {"code": 429, "message": ..., "status": "RESOURCE_EXHAUSTED"}}``.

Usage::

    from google import genai
    from google.genai import types
    from tiktok_virality_tests.fakes.gemini import FakeGemini, GenerateScript

    with FakeGemini() as fake:
        client = genai.Client(
            api_key="test-key",
            http_options=types.HttpOptions(base_url=fake.url, api_version="v1beta"),
        )
        fake.on_generate(lambda request: GenerateScript(json_value={"score": 3}))
        response = client.models.generate_content(model="gemini-2.5-flash", contents="hi")

Keep the ``genai.Client`` in a variable: a temporary one (``genai.Client(...).files.upload(...)``)
may be garbage-collected mid-call, and its ``__del__`` closes the HTTP client the call is using.

In pytest, take the ``fake_gemini`` fixture (``tiktok_virality_tests/fake_servers.py``), a running
``FakeGemini`` of the test's own::

    def test_something(fake_gemini): ...

The SDK does not retry unless the client has ``HttpRetryOptions``, and then only error statuses
(408, 429, 500, 502, 503, 504 by default), timeouts and connect errors: a reset connection or a cut
body raises at once (:meth:`FakeGemini.reset_connection_next`). The chunk uploads of
``files.upload`` are the exception: a chunk whose reply has no ``x-goog-upload-status`` is sent
up to 3 times in all, with a sleep of 1 s, 2 s and 4 s after each (see
:meth:`FakeGemini.fail_next`, ``upload_status``).

The fake never prints or logs requests: they carry the API key. :attr:`FakeGemini.requests`
records the ``x-goog-api-key`` header (tests assert it), and the ``repr`` of a recorded request
masks it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from . import _http

__all__ = [
    "API_VERSIONS",
    "FILE_STATES",
    "GENERATE_PATH",
    "GRPC_STATUS",
    "UPLOAD_PATH",
    "FakeFile",
    "FakeGemini",
    "FileScript",
    "GeminiApiError",
    "GenerateScript",
    "RecordedRequest",
    "request_schema",
    "request_text",
    "schema_value",
]

API_VERSIONS = frozenset({"v1", "v1beta", "v1alpha"})
"""The API versions the fake serves (the first path segment, or the second under ``/upload``)."""

GENERATE_PATH = r":generateContent$"
"""A ``path_pattern`` for :meth:`FakeGemini.fail_next` and friends matching generateContent."""

UPLOAD_PATH = r"^/upload/"
"""A ``path_pattern`` matching the upload requests (the start and every chunk)."""

FILE_STATES = frozenset({"ACTIVE", "FAILED"})
"""The states a file can end in after processing (see :class:`FileScript`)."""

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

_DEFAULT_SAFETY_RATINGS = (
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
)
_MEDIA_PART_TOKENS = 258  # what the API counts per image, and per second of video
_MAX_PAGE_SIZE = 100
_FILE_ID = re.compile(r"^[a-z0-9-]{1,40}$")
_FILE_TTL = timedelta(hours=48)
_CHUNK_GRANULARITY = 8 * 1024 * 1024
_SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization"})


@dataclass
class GenerateScript:
    """What one generateContent call answers, as returned by a scenario handler.

    Attributes:
        text: The text of the candidate's only part, sent as is: malformed JSON, JSON violating the
            schema, a cut-off answer, plain prose. Wins over ``json_value``.
        json_value: Anything JSON-serializable, sent as the part's text (``json.dumps``). Use
            ``text="null"`` for a JSON null. With neither ``text`` nor ``json_value`` the
            candidate has no content (``response.text`` is ``None``), e.g. with
            ``finish_reason="SAFETY"``.
        finish_reason: The candidate's ``finishReason`` (``STOP``, ``MAX_TOKENS``, ``SAFETY``,
            ``RECITATION``, ``OTHER``, ...); ``None`` leaves it out.
        block_reason: If set, the prompt is blocked: the reply has ``promptFeedback.blockReason``
            (``SAFETY``, ``OTHER``, ``BLOCKLIST``, ``PROHIBITED_CONTENT``, ...) and no candidates.
        safety_ratings: The candidate's (or the prompt feedback's) ``safetyRatings``. ``None``:
            left out, except for a ``SAFETY`` finish or block, which gets a rating with
            ``blocked: true``.
        usage: The ``usageMetadata``. ``None``: an estimate (4 characters of text a token,
            258 tokens a media part).
        no_candidates: Reply without candidates (and without prompt feedback): the API leaves an
            empty ``candidates`` out of the JSON, so ``response.candidates`` is ``None``.
        model_version: The ``modelVersion``; ``None``: the model named in the path.
    """

    text: str | None = None
    json_value: Any = None
    finish_reason: str | None = "STOP"
    block_reason: str | None = None
    safety_ratings: list[dict[str, Any]] | None = None
    usage: dict[str, Any] | None = None
    no_candidates: bool = False
    model_version: str | None = None

    @property
    def response_text(self) -> str | None:
        """The text the candidate's part carries, if any."""
        if self.text is not None:
            return self.text
        if self.json_value is not None:
            return json.dumps(self.json_value, ensure_ascii=False)
        return None


GenerateHandler = Callable[[dict[str, Any]], "GenerateScript | dict[str, Any]"]
"""A scenario: ``handler(request_json) -> GenerateScript``.

``request_json`` is the posted body as the SDK sent it (``contents`` with ``text``,
``inlineData`` and ``fileData`` parts, ``generationConfig`` with ``responseMimeType`` and
``responseSchema`` or ``responseJsonSchema``, ``systemInstruction``, ...). A returned ``dict`` is
sent verbatim as the response body (200), for shapes :class:`GenerateScript` does not cover.
"""


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


@dataclass
class FileScript:
    """How an uploaded file is processed, as returned by an upload handler (:meth:`FakeGemini.on_upload`).

    Attributes:
        processing_polls: How many ``GET``\\s of the file answer ``PROCESSING`` before ``state``.
            0: the finalizing upload reply already has ``state``; otherwise it says
            ``PROCESSING`` too.
        state: The state after processing: ``ACTIVE`` or ``FAILED``.
        error_message: The ``error.message`` of a ``FAILED`` file.
        video_duration_seconds: If set, an ``ACTIVE`` file has
            ``videoMetadata.videoDuration``.
    """

    processing_polls: int = 0
    state: str = "ACTIVE"
    error_message: str = "Video processing failed."
    video_duration_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.state not in FILE_STATES:
            raise ValueError(f"state must be one of {sorted(FILE_STATES)}, got {self.state!r}")
        if self.processing_polls < 0:
            raise ValueError("processing_polls must be >= 0")


UploadHandler = Callable[["FakeFile"], "FileScript | None"]
"""``handler(file) -> FileScript`` (``None``: the fake's defaults), called when an upload is
finalized; ``file.data`` holds the bytes."""


class _Headers(_http.MaskedHeaders):
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
        query = {k: (_http.REDACTED if k == "key" else v) for k, v in self.query.items()}
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, query={query!r}, "
            f"json={_short(self.json)}, headers={_Headers(self.headers)!r}, "
            f"body_size={self.body_size})"
        )


@dataclass
class FakeFile:
    """A file uploaded to (or added to) the fake. Read them in tests through :attr:`FakeGemini.files`.

    Attributes:
        name: ``files/{id}``.
        display_name: The ``displayName`` given at upload, if any.
        mime_type: The file's mime type.
        size_bytes: The size declared at the start of the upload
            (``X-Goog-Upload-Header-Content-Length``); equals ``len(data)`` once finalized.
        data: The bytes received (left out of the ``repr``).
        chunk_sizes: The size of each chunk request, in order.
        script: How it is processed.
        state: ``PROCESSING``, then ``script.state``.
        polls: How many times it has been read with ``GET``.
    """

    name: str
    display_name: str | None
    mime_type: str
    size_bytes: int
    api_version: str
    uri: str
    created_at: datetime
    data: bytes = field(default=b"", repr=False)
    chunk_sizes: list[int] = field(default_factory=list)
    script: FileScript = field(default_factory=FileScript)
    state: str = "PROCESSING"
    polls: int = 0
    updated_at: datetime | None = None
    _sha256: str | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.name.removeprefix("files/")

    def _begin_processing(self, script: FileScript) -> None:
        self.script = script
        self.updated_at = datetime.now(UTC)
        self.state = "PROCESSING" if script.processing_polls else script.state

    def _poll(self) -> None:
        self.polls += 1
        if self.state == "PROCESSING" and self.polls > self.script.processing_polls:
            self.state = self.script.state
            self.updated_at = datetime.now(UTC)

    def _digest(self) -> str:
        if self._sha256 is None:  # the API sends the hex digest, base64-encoded
            hex_digest = hashlib.sha256(self.data).hexdigest()
            self._sha256 = base64.b64encode(hex_digest.encode()).decode()
        return self._sha256

    def as_api(self) -> dict[str, Any]:
        """The file as ``GET /{ver}/files/{id}`` returns it."""
        updated = self.updated_at or self.created_at
        api: dict[str, Any] = {"name": self.name}
        if self.display_name:
            api["displayName"] = self.display_name
        api.update(
            {
                "mimeType": self.mime_type,
                "sizeBytes": str(self.size_bytes),
                "createTime": _iso(self.created_at),
                "updateTime": _iso(updated),
                "expirationTime": _iso(self.created_at + _FILE_TTL),
                "sha256Hash": self._digest(),
                "uri": self.uri,
                "state": self.state,
                "source": "UPLOADED",
            }
        )
        if self.state == "ACTIVE" and self.script.video_duration_seconds is not None:
            api["videoMetadata"] = {"videoDuration": f"{self.script.video_duration_seconds:g}s"}
        if self.state == "FAILED":
            api["error"] = {"code": 400, "message": self.script.error_message}
        return api


@dataclass
class _UploadSession:
    id: str
    file: FakeFile
    received: bytearray = field(default_factory=bytearray)
    done: bool = False


@dataclass
class _Fault(_http.Fault):
    message: str | None = None
    status_text: str | None = None
    details: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    upload_status: str | None = "final"
    when: Callable[[RecordedRequest], bool] | None = None

    def _accepts(self, request: Any) -> bool:
        return self.when is None or bool(self.when(request))

    def response(self, path: str) -> _Response:
        response = _error_response(
            self.status,
            self.message or f"Injected fault: HTTP {self.status}",
            self.status_text,
            self.details,
        )
        if path.startswith("/upload/") and self.upload_status is not None:
            response.headers["x-goog-upload-status"] = self.upload_status
        response.headers.update(self.headers)
        return response


@dataclass
class _Response(_http.Response):
    content_type: str | None = "application/json; charset=UTF-8"


class _Handler(_http.Handler):
    server_version = "FakeGemini/1.0"


class FakeGemini(_http.FakeServer[RecordedRequest]):
    """A fake Gemini API server. Use it as a context manager, or :meth:`start` / :meth:`stop`.

    Attributes:
        latency_seconds: Added before every response (fault responses included). A float, or a
            function ``(method, path) -> seconds`` for per-endpoint latency.
        required_api_key: If set, a request without that key (``x-goog-api-key`` header or
            ``key`` parameter) is refused as the API does: 403 ``PERMISSION_DENIED`` when there
            is no key, 400 ``INVALID_ARGUMENT`` when it is another one. Chunks sent to an upload
            URL need no key (the URL's ``upload_id`` authorizes them).
        processing_polls: The default :attr:`FileScript.processing_polls` of uploaded files.
        final_file_state: The default :attr:`FileScript.state` of uploaded files.
        max_request_bytes: A generateContent body larger than this is refused (400), like the
            API's 20 MB request limit for inline data; ``None``: no limit.
        check_file_refs: Refuse a generateContent whose ``fileData.fileUri`` names a file of
            the fake that does not exist (403) or is not ``ACTIVE`` (400).
        handler_errors: Exceptions raised while serving by scenario handlers (the client got a
            500), by ``when`` predicates (the fault did not match) or by the fake itself; the
            ``fake_gemini`` fixture fails the test if any.
    """

    _handler_class = _Handler
    _fault_class = _Fault
    _headers_class = _Headers
    _poll_interval = 0.01
    _request_queue_size = 64  # many concurrent connections in benchmarks

    def __init__(
        self,
        *,
        latency_seconds: float | Callable[[str, str], float] = 0.0,
        required_api_key: str | None = None,
        processing_polls: int = 0,
        final_file_state: str = "ACTIVE",
        max_request_bytes: int | None = 20 * 1024 * 1024,
        check_file_refs: bool = True,
    ) -> None:
        super().__init__(latency_seconds=latency_seconds)
        self.required_api_key = required_api_key
        self.processing_polls = processing_polls
        self.final_file_state = final_file_state
        self.max_request_bytes = max_request_bytes
        self.check_file_refs = check_file_refs
        self._generate_handler: GenerateHandler | None = None
        self._upload_handler: UploadHandler | None = None
        self._files: dict[str, FakeFile] = {}
        self._deleted_files: list[FakeFile] = []
        self._uploads: dict[str, _UploadSession] = {}
        self._generate_calls = 0
        self._generates_in_flight = 0
        self._max_concurrent_generates = 0

    # ----------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """The base URL: ``types.HttpOptions(base_url=fake.url)`` (the SDK adds the version)."""
        return super().url

    # ----------------------------------------------------------------------------- scenario

    def on_generate(self, handler: GenerateHandler | None) -> GenerateHandler | None:
        """Set the scenario of the generateContent calls from now on; ``None`` restores the default.

        Returns the handler, so it can be used as a decorator. The handler runs in a server
        thread, *not* under the fake's lock: concurrent calls run it concurrently, so it must be
        thread-safe. If it raises :class:`GeminiApiError` the client gets that error; if it raises
        anything else, the client gets a 500 and the exception is kept in :attr:`handler_errors`.
        """
        with self._lock:
            self._generate_handler = handler
        return handler

    def default_generate_handler(self, request_json: dict[str, Any]) -> GenerateScript:
        """The default scenario: :meth:`default_json` as the answer, or plain text without a schema."""
        if request_schema(request_json) is None and not _wants_json(request_json):
            return GenerateScript(text="This is a fake answer.")
        return GenerateScript(json_value=self.default_json(request_json))

    @staticmethod
    def default_json(request_json: dict[str, Any]) -> Any:
        """A JSON value valid against the request's response schema (``{}`` without one).

        A fresh value each call: a handler may change it, e.g. set a score out of range.
        """
        schema = request_schema(request_json)
        return {} if schema is None else schema_value(schema)

    def on_upload(self, handler: UploadHandler | None) -> UploadHandler | None:
        """Set how the files uploaded from now on are processed; ``None`` restores the default
        (:attr:`processing_polls`, :attr:`final_file_state`). Runs under the fake's lock."""
        with self._lock:
            self._upload_handler = handler
        return handler

    def add_file(
        self,
        data: bytes,
        mime_type: str = "video/mp4",
        *,
        name: str | None = None,
        display_name: str | None = None,
        script: FileScript | None = None,
        api_version: str = "v1beta",
    ) -> FakeFile:
        """Add a file as if it had been uploaded (processed by ``script``, default: ``ACTIVE``)."""
        with self._lock:
            file = self._new_file(name, display_name, mime_type, len(data), api_version)
            file.data = bytes(data)
            file.chunk_sizes = [len(data)]
            file._begin_processing(script or FileScript())
            self._files[file.name] = file
            return file

    # ----------------------------------------------------------------------------- faults

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

    # ----------------------------------------------------------------------------- inspection

    @property
    def generate_requests(self) -> list[RecordedRequest]:
        """The recorded generateContent requests (``.json`` is the body), faulted ones included."""
        return self.requests_to("POST", GENERATE_PATH)

    def clear_requests(self) -> None:
        """Forget the recorded requests (the counters stay: see :meth:`reset_stats`)."""
        super().clear_requests()

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

    @property
    def files(self) -> list[FakeFile]:
        """A snapshot of the live files (finalized uploads and added ones, not deleted), oldest first."""
        with self._lock:
            return list(self._files.values())

    @property
    def deleted_files(self) -> list[FakeFile]:
        """The files deleted so far, in the order they were deleted."""
        with self._lock:
            return list(self._deleted_files)

    def file(self, name: str) -> FakeFile:
        """A live file by ``files/{id}`` or ``{id}``; ``KeyError`` if there is none."""
        with self._lock:
            return self._files[_file_name(name)]

    # ----------------------------------------------------------------------------- internals

    @staticmethod
    def _is_generate(request: RecordedRequest) -> bool:
        return request.method == "POST" and re.search(GENERATE_PATH, request.path) is not None

    def _make_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> RecordedRequest:
        parsed = _parse_json_body(body, headers, query)
        return RecordedRequest(method, path, query, parsed, headers, len(body))

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

    def _error_response(self, status: int, message: str) -> _Response:
        return _error_response(status, message)

    def _fault_response(self, fault: Any, request: RecordedRequest) -> _Response:
        return fault.response(request.path)

    def _handle(self, request: RecordedRequest, body: bytes) -> _Response:
        auth_error = self._auth_error(request)
        if auth_error is not None:
            return _api_error_response(auth_error)
        return self._route(request, body)

    def _auth_error(self, request: RecordedRequest) -> GeminiApiError | None:
        if self.required_api_key is None or "upload_id" in request.query:
            return None
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            return GeminiApiError(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        if key != self.required_api_key:
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

    def _route(self, request: RecordedRequest, body: bytes) -> _Response:
        try:
            return self._dispatch(request, body)
        except GeminiApiError as exc:
            return _api_error_response(exc)
        except Exception as exc:  # a bug in a scenario handler or in the fake: tell the test
            with self._lock:
                self.handler_errors.append(exc)
            detail = "".join(traceback.format_exception_only(exc)).strip()
            return _error_response(500, f"FakeGemini handler error: {detail}")

    def _dispatch(self, request: RecordedRequest, body: bytes) -> _Response:
        method, path = request.method, request.path
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2 and segments[0] == "upload" and segments[1] in API_VERSIONS:
            if segments[2:] == ["files"] and method == "POST":
                with self._lock:
                    if "upload_id" in request.query:
                        return self._upload_chunk(request, body)
                    return self._start_upload(segments[1], request)
        elif segments and segments[0] in API_VERSIONS:
            rest = segments[1:]
            if len(rest) == 2 and rest[0] == "models" and method == "POST":
                model, _, verb = rest[1].partition(":")
                if verb == "generateContent":
                    return self._generate(model, request, body)
            elif rest == ["files"] and method == "GET":
                with self._lock:
                    return self._list_files(request.query)
            elif len(rest) == 2 and rest[0] == "files" and ":" not in rest[1]:
                with self._lock:
                    file = self._files.get(f"files/{rest[1]}")
                    if file is None:
                        raise _no_file(rest[1])
                    if method == "GET":
                        file._poll()
                        return _json_response(200, file.as_api())
                    if method == "DELETE":
                        del self._files[file.name]
                        self._deleted_files.append(file)
                        return _json_response(200, {})
        raise GeminiApiError(404, f"FakeGemini: no such resource or method: {method} {path}")

    # ----------------------------------------------------------------------------- generate

    def _generate(self, model: str, request: RecordedRequest, body: bytes) -> _Response:
        if self.max_request_bytes is not None and len(body) > self.max_request_bytes:
            raise GeminiApiError(
                400, f"Request payload size exceeds the limit: {self.max_request_bytes} bytes."
            )
        payload = request.json
        if not isinstance(payload, dict):
            raise GeminiApiError(400, "Invalid JSON payload received.")
        if not payload.get("contents"):
            raise GeminiApiError(
                400, "* GenerateContentRequest.contents: contents is not specified\n"
            )
        config = payload.get("generationConfig") or {}
        has_schema = _key(config, "responseSchema") is not None
        has_json_schema = _key(config, "responseJsonSchema") is not None
        if has_schema and has_json_schema:
            raise GeminiApiError(
                400, "response_schema and response_json_schema cannot both be set."
            )
        mime_type = _key(config, "responseMimeType") or "text/plain"
        if (has_schema or has_json_schema) and mime_type not in (
            "application/json",
            "text/x.enum",
        ):
            raise GeminiApiError(
                400,
                "* GenerateContentRequest.generation_config.response_mime_type: "
                "allowed mimetypes are `application/json` and `text/x.enum`.\n",
            )
        if self.check_file_refs:
            self._check_file_refs(payload)

        handler = self._generate_handler or self.default_generate_handler
        script = handler(payload)
        if isinstance(script, dict):
            return _json_response(200, script)
        if not isinstance(script, GenerateScript):
            raise TypeError(
                f"a generate handler must return a GenerateScript or a dict, "
                f"got {type(script).__name__}"
            )
        return _json_response(200, self._generate_response(model, payload, script))

    def _check_file_refs(self, payload: dict[str, Any]) -> None:
        for part in _parts(payload):
            file_data = _key(part, "fileData")
            uri = _key(file_data, "fileUri") if isinstance(file_data, dict) else None
            if not isinstance(uri, str):
                continue
            match = re.search(r"/files/([^/?#:]+)$", uri)
            if match is None or not uri.startswith(self.url):
                continue  # not a file of this fake (e.g. a YouTube URL)
            with self._lock:
                file = self._files.get(f"files/{match.group(1)}")
                state = None if file is None else file.state
            if state is None:
                raise _no_file(match.group(1))
            if state != "ACTIVE":
                raise GeminiApiError(
                    400,
                    f"The File {match.group(1)} is not in an ACTIVE state and usage is not "
                    "allowed.",
                    "FAILED_PRECONDITION",
                )

    def _generate_response(
        self, model: str, payload: dict[str, Any], script: GenerateScript
    ) -> dict[str, Any]:
        text = script.response_text
        ratings = script.safety_ratings
        usage = script.usage or _usage(payload, text)
        response: dict[str, Any] = {}
        if script.block_reason is not None:
            if ratings is None and script.block_reason == "SAFETY":
                ratings = [dict(r) for r in _DEFAULT_SAFETY_RATINGS]
            feedback: dict[str, Any] = {"blockReason": script.block_reason}
            if ratings is not None:
                feedback["safetyRatings"] = ratings
            response["promptFeedback"] = feedback
            usage = script.usage or {
                k: v for k, v in usage.items() if not k.startswith("candidates")
            }
        elif not script.no_candidates:
            if ratings is None and script.finish_reason == "SAFETY":
                ratings = [dict(r) for r in _DEFAULT_SAFETY_RATINGS]
            candidate: dict[str, Any] = {}
            if text is not None:
                candidate["content"] = {"parts": [{"text": text}], "role": "model"}
            if script.finish_reason is not None:
                candidate["finishReason"] = script.finish_reason
            if ratings is not None:
                candidate["safetyRatings"] = ratings
            candidate["index"] = 0
            response["candidates"] = [candidate]
        response["usageMetadata"] = usage
        response["modelVersion"] = script.model_version or model
        response["responseId"] = f"fake-response-{self._next('response'):06d}"
        return response

    # ----------------------------------------------------------------------------- files

    def _new_file(
        self,
        name: str | None,
        display_name: str | None,
        mime_type: str,
        size: int,
        api_version: str,
    ) -> FakeFile:
        if name:
            file_id = name.removeprefix("files/")
            if not _FILE_ID.match(file_id):
                raise GeminiApiError(
                    400,
                    f"Invalid file name {name!r}: the id must be 1-40 characters of "
                    "lower-case letters, digits and dashes.",
                )
            if f"files/{file_id}" in self._files or any(
                s.file.name == f"files/{file_id}" and not s.done for s in self._uploads.values()
            ):
                raise GeminiApiError(409, f"File files/{file_id} already exists.")
        else:
            file_id = f"fakefile{self._next('file'):04d}"
        return FakeFile(
            name=f"files/{file_id}",
            display_name=display_name,
            mime_type=mime_type,
            size_bytes=size,
            api_version=api_version,
            uri=f"{self.url}/{api_version}/files/{file_id}",
            created_at=datetime.now(UTC),
        )

    def _start_upload(self, version: str, request: RecordedRequest) -> _Response:
        headers = request.headers
        protocol = headers.get("x-goog-upload-protocol", "").lower()
        command = _commands(headers)
        if protocol != "resumable" or command != {"start"}:
            raise GeminiApiError(
                400,
                "FakeGemini supports only resumable uploads: X-Goog-Upload-Protocol: resumable "
                f"and X-Goog-Upload-Command: start (got {protocol!r}, {sorted(command)!r}).",
            )
        metadata = request.json if isinstance(request.json, dict) else {}
        file_meta = metadata.get("file") if isinstance(metadata.get("file"), dict) else {}
        size_header = headers.get("x-goog-upload-header-content-length")
        try:
            size = int(size_header if size_header is not None else -1)
        except ValueError:
            size = -1
        if size < 0:
            raise GeminiApiError(400, "X-Goog-Upload-Header-Content-Length is missing or invalid.")
        mime_type = (
            _key(file_meta, "mimeType")
            or headers.get("x-goog-upload-header-content-type")
            or "application/octet-stream"
        )
        file = self._new_file(
            _key(file_meta, "name"), _key(file_meta, "displayName"), mime_type, size, version
        )
        session = _UploadSession(f"fake-upload-{self._next('upload'):06d}", file)
        self._uploads[session.id] = session
        upload_url = (
            f"{self.url}/upload/{version}/files?upload_id={session.id}&upload_protocol=resumable"
        )
        return _Response(
            200,
            b"",
            "text/plain; charset=utf-8",
            {
                "x-goog-upload-url": upload_url,
                "x-goog-upload-status": "active",
                "x-goog-upload-chunk-granularity": str(_CHUNK_GRANULARITY),
                "x-goog-upload-control-url": upload_url,
            },
        )

    def _upload_chunk(self, request: RecordedRequest, body: bytes) -> _Response:
        session = self._uploads.get(request.query["upload_id"])
        if session is None:
            return _upload_error(404, "FakeGemini: no such upload session.")
        command = _commands(request.headers)
        if command == {"query"}:
            return _Response(
                200,
                b"",
                "text/plain; charset=utf-8",
                {
                    "x-goog-upload-status": "final" if session.done else "active",
                    "x-goog-upload-size-received": str(len(session.received)),
                },
            )
        if session.done:
            return _upload_error(400, "The upload has already been finalized.")
        if "upload" not in command or not command <= {"upload", "finalize"}:
            return _upload_error(400, f"Unsupported X-Goog-Upload-Command: {sorted(command)}.")
        offset = request.headers.get("x-goog-upload-offset")
        if offset is None or offset != str(len(session.received)):
            return _upload_error(
                400,
                f"X-Goog-Upload-Offset {offset!r} does not match the "
                f"{len(session.received)} bytes received.",
            )
        file = session.file
        session.received += body
        file.chunk_sizes.append(len(body))
        if "finalize" not in command:
            return _Response(
                200, b"", "text/plain; charset=utf-8", {"x-goog-upload-status": "active"}
            )
        session.done = True
        if len(session.received) != file.size_bytes:
            return _upload_error(
                400,
                f"Received {len(session.received)} bytes, but "
                f"X-Goog-Upload-Header-Content-Length said {file.size_bytes}.",
            )
        file.data = bytes(session.received)
        session.received = bytearray()
        script = None
        if self._upload_handler is not None:
            script = self._upload_handler(file)
        if script is None:
            script = FileScript(processing_polls=self.processing_polls, state=self.final_file_state)
        file._begin_processing(script)
        self._files[file.name] = file
        response = _json_response(200, {"file": file.as_api()})
        response.headers["x-goog-upload-status"] = "final"
        return response

    def _list_files(self, query: dict[str, str]) -> _Response:
        try:
            size = int(query.get("pageSize") or 10)
            start = int(query.get("pageToken") or 0)
        except ValueError:
            raise GeminiApiError(400, "Invalid pageSize or pageToken.") from None
        size = max(1, min(size, _MAX_PAGE_SIZE))
        files = list(self._files.values())
        page: dict[str, Any] = {}
        if files[start : start + size]:
            page["files"] = [f.as_api() for f in files[start : start + size]]
        if start + size < len(files):
            page["nextPageToken"] = str(start + size)
        return _json_response(200, page)


# --------------------------------------------------------------------------------- schemas


def request_schema(request_json: dict[str, Any]) -> dict[str, Any] | None:
    """The response schema of a generateContent body: ``generationConfig.responseSchema`` or
    ``responseJsonSchema`` (either spelling, camelCase or snake_case), or ``None``."""
    config = _key(request_json, "generationConfig") or {}
    schema = _key(config, "responseSchema")
    if schema is None:
        schema = _key(config, "responseJsonSchema")
    return schema if isinstance(schema, dict) else None


def request_text(request_json: dict[str, Any]) -> str:
    """The text parts of a generateContent body's ``contents``, joined by newlines (a handler can
    tell the videos of concurrent requests apart by their prompt)."""
    return "\n".join(
        part["text"]
        for part in _parts(request_json, system=False)
        if isinstance(part.get("text"), str)
    )


def schema_value(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A deterministic value valid against ``schema``: a Gemini ``Schema`` (``type: "OBJECT"``,
    ``nullable``, ``anyOf``, ``propertyOrdering``, ...) or a JSON Schema (``type: "object"`` or a
    list of types, ``$ref`` into ``$defs``, ``const``, ``exclusiveMinimum``, ...).

    Every property is filled (required or not); an enum gives its first value; a number lies in
    the middle of ``minimum``/``maximum`` (at the bound if only one is given, else 0); a string is
    ``"fake"`` (or a date/time for those formats, padded or cut to its length limits); an array
    has ``max(1, minItems)`` elements; a nullable value is ``None``.
    """
    root = schema if root is None else root
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return schema_value(_resolve_ref(ref, root), root)
    if "const" in schema:
        return schema["const"]
    if _key(schema, "nullable") is True:
        return None
    for combinator in ("anyOf", "oneOf", "allOf"):
        branches = _key(schema, combinator)
        if isinstance(branches, list) and branches:
            if combinator != "allOf" and any(_is_null(b, root) for b in branches):
                return None
            return schema_value(branches[0], root)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]

    kind = schema.get("type")
    if isinstance(kind, list):
        if any(str(k).lower() == "null" for k in kind) or not kind:
            return None
        kind = kind[0]
    kind = str(kind).lower() if kind is not None else None
    if kind is None and isinstance(schema.get("properties"), dict):
        kind = "object"
    if kind is None and "items" in schema:
        kind = "array"

    if kind == "object":
        properties = schema.get("properties") or {}
        order = _key(schema, "propertyOrdering") or []
        names = [n for n in order if n in properties] + [n for n in properties if n not in order]
        return {name: schema_value(properties[name], root) for name in names}
    if kind == "array":
        count = max(1, int(_key(schema, "minItems") or 0))
        max_items = _key(schema, "maxItems")
        if max_items is not None:
            count = min(count, int(max_items))
        items = schema.get("items")
        return [schema_value(items if isinstance(items, dict) else {}, root) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number_value(schema, integer=kind == "integer")
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _string_value(schema)


def _number_value(schema: dict[str, Any], *, integer: bool) -> int | float:
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open = schema.get("exclusiveMinimum")
    high_open = schema.get("exclusiveMaximum")
    # JSON Schema 2020-12: exclusiveMinimum is a number; draft 4: a flag on minimum.
    if isinstance(low_open, int | float) and not isinstance(low_open, bool):
        low, low_open = low_open, True
    if isinstance(high_open, int | float) and not isinstance(high_open, bool):
        high, high_open = high_open, True
    if integer:
        lo = None if low is None else math.floor(float(low)) + 1 if low_open else math.ceil(low)
        hi = None if high is None else math.ceil(float(high)) - 1 if high_open else math.floor(high)
        if lo is not None and hi is not None:
            return (lo + hi) // 2
        if lo is not None:
            return lo
        return 0 if hi is None else min(0, hi)
    if low is not None and high is not None:
        return (float(low) + float(high)) / 2
    if low is not None:
        return float(low) + (1.0 if low_open else 0.0)
    if high is not None:
        return min(0.0, float(high) - (1.0 if high_open else 0.0))
    return 0.0


def _string_value(schema: dict[str, Any]) -> str:
    value = {
        "date-time": "2025-01-01T00:00:00Z",
        "date": "2025-01-01",
        "time": "00:00:00",
        "email": "fake@example.com",
        "uri": "https://example.com/fake",
        "uuid": "00000000-0000-4000-8000-000000000000",
    }.get(str(schema.get("format")), "fake")
    min_length = int(_key(schema, "minLength") or 0)
    max_length = _key(schema, "maxLength")
    if len(value) < min_length:
        value = value + "x" * (min_length - len(value))
    if max_length is not None:
        value = value[: int(max_length)]
    return value


def _is_null(schema: Any, root: dict[str, Any]) -> bool:
    if not isinstance(schema, dict):
        return False
    if isinstance(schema.get("$ref"), str):
        schema = _resolve_ref(schema["$ref"], root)
    kind = schema.get("type")
    return str(kind).lower() == "null" or (isinstance(kind, list) and kind == ["null"])


def _resolve_ref(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#"):
        raise ValueError(f"FakeGemini resolves only local $refs, got {ref!r}")
    node: Any = root
    for token in [t for t in ref[1:].split("/") if t]:
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _wants_json(request_json: dict[str, Any]) -> bool:
    config = _key(request_json, "generationConfig") or {}
    return _key(config, "responseMimeType") == "application/json"


def _parts(request_json: dict[str, Any], *, system: bool = True) -> Iterator[dict[str, Any]]:
    """The parts of ``contents`` (a list of contents, as the SDK sends it), then those of
    ``systemInstruction`` if ``system``."""
    contents = request_json.get("contents") or []
    instruction = _key(request_json, "systemInstruction") if system else None
    if isinstance(contents, dict):
        contents = [contents]
    for content in [*contents, *([instruction] if isinstance(instruction, dict) else [])]:
        if isinstance(content, dict):
            for part in content.get("parts") or []:
                if isinstance(part, dict):
                    yield part


def _usage(payload: dict[str, Any], text: str | None) -> dict[str, Any]:
    prompt = 0
    for part in _parts(payload):
        if isinstance(part.get("text"), str):
            prompt += max(1, len(part["text"]) // 4)
        elif _key(part, "inlineData") is not None or _key(part, "fileData") is not None:
            prompt += _MEDIA_PART_TOKENS
    output = 0 if text is None else max(1, len(text) // 4)
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if text is not None:
        usage["candidatesTokenCount"] = output
    usage["totalTokenCount"] = prompt + output
    return usage


def _key(mapping: Any, camel: str) -> Any:
    """``mapping[camel]``, or its snake_case spelling (the SDK sends some keys that way)."""
    if not isinstance(mapping, dict):
        return None
    if camel in mapping:
        return mapping[camel]
    return mapping.get(re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower())


# --------------------------------------------------------------------------------- HTTP plumbing


def _parse_json_body(body: bytes, headers: dict[str, str], query: dict[str, str]) -> Any:
    if not body or "upload_id" in query:
        return None
    content_type = headers.get("content-type")
    if content_type is None:
        if body.lstrip()[:1] not in (b"{", b"["):
            return None
    elif "json" not in content_type.lower():
        return None
    return _http.loads_or_none(body)


def _commands(headers: dict[str, str]) -> set[str]:
    return {
        c.strip().lower() for c in headers.get("x-goog-upload-command", "").split(",") if c.strip()
    }


_json_response = _Response.from_json


def _error_response(
    status: int,
    message: str,
    status_text: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> _Response:
    if status_text is None:
        status_text = GRPC_STATUS.get(
            status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION"
        )
    error: dict[str, Any] = {"code": status, "message": message, "status": status_text}
    if details:
        error["details"] = details
    return _json_response(status, {"error": error})


def _api_error_response(error: GeminiApiError) -> _Response:
    return _error_response(error.status, error.message, error.status_text, error.details)


def _upload_error(status: int, message: str) -> _Response:
    response = _error_response(status, message)
    response.headers["x-goog-upload-status"] = "final"
    return response


def _no_file(file_id: str) -> GeminiApiError:
    return GeminiApiError(
        403, f"You do not have permission to access the File {file_id} or it may not exist."
    )


def _file_name(name: str) -> str:
    return name if name.startswith("files/") else f"files/{name}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}...<{len(text) - limit} more>"
