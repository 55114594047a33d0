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
- ``GET /{ver}/models/{model}`` and ``GET /{ver}/models`` (``models.get``, ``models.list``);
  a model not in :attr:`FakeGemini.models` (the retired ones: :data:`RETIRED_MODELS`) answers
  404 there and on generateContent (:mod:`.gemini_models`). Token usage follows the request's
  media resolution, video metadata and thinking (:mod:`.gemini_usage`); quotas answer 429 with
  ``QuotaFailure`` and ``RetryInfo`` (:attr:`FakeGemini.requests_per_day`,
  :meth:`FakeGemini.exhaust_minute_quota_next`).
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
        response = client.models.generate_content(model="gemini-3.5-flash", contents="hi")

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

This module is the fake's public face: :class:`FakeGemini` (the scenarios and what a test reads)
and the names tests import. The API itself is in the ``gemini_*`` modules: generateContent
(:mod:`.gemini_generate`) and its default answer (:mod:`.gemini_schema_values`), the files
(:mod:`.gemini_files`) and the Files API (:mod:`.gemini_file_store`), and what every endpoint
shares (:mod:`.gemini_protocol`); two bases of the fake add the faults (:mod:`.gemini_faults`) and
the count of generateContent calls in flight (:mod:`.gemini_generate_calls`).

The fake never prints or logs requests: they carry the API key. :attr:`FakeGemini.requests`
records the ``x-goog-api-key`` header (tests assert it), and the ``repr`` of a recorded request
masks it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from ._server import FakeServer, Handler
from .gemini_faults import GeminiFaultInjection
from .gemini_file_store import GeminiFiles
from .gemini_files import FILE_STATES, FakeFile, FileScript, UploadHandler, file_name
from .gemini_generate import (
    GenerateHandler,
    GenerateScript,
    check_generate_request,
    file_uris,
    generate_response,
    request_schema,
    request_text,
    wants_json,
)
from .gemini_generate_calls import GenerateCallCounts
from .gemini_models import (
    LIVE_MODELS,
    PER_DAY_QUOTA_ID,
    PER_MINUTE_QUOTA_ID,
    RETIRED_MODELS,
    GeminiModelsAndQuotas,
    quota_details,
)
from .gemini_protocol import (
    API_VERSIONS,
    GENERATE_PATH,
    GRPC_STATUS,
    UPLOAD_PATH,
    GeminiApiError,
    GeminiHeaders,
    GeminiResponse,
    RecordedRequest,
    api_error_response,
    api_field,
    api_key_error,
    error_response,
    json_response,
    parse_json_body,
)
from .gemini_schema_values import schema_value
from .gemini_usage import thinking_tokens

__all__ = [
    "API_VERSIONS",
    "FILE_STATES",
    "GENERATE_PATH",
    "GRPC_STATUS",
    "LIVE_MODELS",
    "PER_DAY_QUOTA_ID",
    "PER_MINUTE_QUOTA_ID",
    "RETIRED_MODELS",
    "UPLOAD_PATH",
    "FakeFile",
    "FakeGemini",
    "FileScript",
    "GeminiApiError",
    "GenerateScript",
    "RecordedRequest",
    "quota_details",
    "request_schema",
    "request_text",
    "schema_value",
]


class _Handler(Handler):
    server_version = "FakeGemini/1.0"


class FakeGemini(
    GeminiFaultInjection, GeminiModelsAndQuotas, GenerateCallCounts, FakeServer[RecordedRequest]
):
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
            API's request limit for inline data (100 MB since 2026-01-12, 20 MB before);
            ``None``: no limit.
        check_file_refs: Refuse a generateContent whose ``fileData.fileUri`` names a file of
            the fake that does not exist (403) or is not ``ACTIVE`` (400).
        handler_errors: Exceptions raised while serving by scenario handlers (the client got a
            500), by ``when`` predicates (the fault did not match) or by the fake itself; the
            ``fake_gemini`` fixture fails the test if any.
    """

    _handler_class = _Handler
    _headers_class = GeminiHeaders
    _poll_interval = 0.01
    _request_queue_size = 64  # many concurrent connections in benchmarks

    def __init__(
        self,
        *,
        latency_seconds: float | Callable[[str, str], float] = 0.0,
        required_api_key: str | None = None,
        processing_polls: int = 0,
        final_file_state: str = "ACTIVE",
        max_request_bytes: int | None = 100 * 1024 * 1024,
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
        self._file_store = GeminiFiles(lambda: self.url)
        # The `usageMetadata` of every answer sent, what a bill would charge (the ledger's tests).
        self.billed_usage: list[dict[str, Any]] = []

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
        if request_schema(request_json) is None and not wants_json(request_json):
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
            return self._file_store.add(
                data, mime_type, name, display_name, script or FileScript(), api_version
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
    def files(self) -> list[FakeFile]:
        """A snapshot of the live files (finalized uploads and added ones, not deleted), oldest first."""
        with self._lock:
            return list(self._file_store.live.values())

    @property
    def deleted_files(self) -> list[FakeFile]:
        """The files deleted so far, in the order they were deleted."""
        with self._lock:
            return list(self._file_store.deleted)

    def file(self, name: str) -> FakeFile:
        """A live file by ``files/{id}`` or ``{id}``; ``KeyError`` if there is none."""
        with self._lock:
            return self._file_store.live[file_name(name)]

    # ----------------------------------------------------------------------------- internals

    def _make_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> RecordedRequest:
        parsed = parse_json_body(body, headers, query)
        return RecordedRequest(method, path, query, parsed, headers, len(body))

    def _error_response(self, status: int, message: str) -> GeminiResponse:
        return error_response(status, message)

    def _fault_response(self, fault: Any, request: RecordedRequest) -> GeminiResponse:
        return fault.response(request.path)

    def _handle(self, request: RecordedRequest, body: bytes) -> GeminiResponse:
        auth_error = api_key_error(request, self.required_api_key)
        if auth_error is not None:
            return api_error_response(auth_error)
        return self._route(request, body)

    def _route(self, request: RecordedRequest, body: bytes) -> GeminiResponse:
        try:
            return self._dispatch(request, body)
        except GeminiApiError as exc:
            return api_error_response(exc)
        except Exception as exc:  # a bug in a scenario handler or in the fake: tell the test
            with self._lock:
                self.handler_errors.append(exc)
            detail = "".join(traceback.format_exception_only(exc)).strip()
            return error_response(500, f"FakeGemini handler error: {detail}")

    def _dispatch(self, request: RecordedRequest, body: bytes) -> GeminiResponse:
        method, path = request.method, request.path
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2 and segments[0] == "upload" and segments[1] in API_VERSIONS:
            if segments[2:] == ["files"] and method == "POST":
                with self._lock:
                    if "upload_id" in request.query:
                        return self._file_store.upload_chunk(request, body, self._processing_script)
                    return self._file_store.start_upload(segments[1], request)
        elif segments and segments[0] in API_VERSIONS:
            rest = segments[1:]
            if len(rest) == 2 and rest[0] == "models" and method == "POST":
                model, _, verb = rest[1].partition(":")
                if verb == "generateContent":
                    return self._generate(model, segments[0], request, body)
            elif rest[:1] == ["models"] and len(rest) <= 2 and method == "GET":
                return self._models_route(rest, request.query, segments[0])
            elif rest == ["files"] and method == "GET":
                with self._lock:
                    return self._file_store.list_page(request.query)
            elif len(rest) == 2 and rest[0] == "files" and ":" not in rest[1]:
                with self._lock:
                    response = self._file_store.file_resource(method, rest[1])
                if response is not None:
                    return response
        raise GeminiApiError(404, f"FakeGemini: no such resource or method: {method} {path}")

    # ----------------------------------------------------------------------------- generate

    def _generate(
        self, model: str, api_version: str, request: RecordedRequest, body: bytes
    ) -> GeminiResponse:
        payload = request.json
        self._check_generate(model, api_version)
        check_generate_request(payload, len(body), self.max_request_bytes)
        thinking_tokens(model, api_field(payload, "generationConfig") or {})  # refuses a misfit
        if self.check_file_refs:
            with self._lock:
                self._file_store.check_refs(file_uris(payload))

        handler = self._generate_handler or self.default_generate_handler
        script = handler(payload)
        if isinstance(script, dict):
            self._count_answer()
            return json_response(200, script)
        if not isinstance(script, GenerateScript):
            raise TypeError(
                f"a generate handler must return a GenerateScript or a dict, "
                f"got {type(script).__name__}"
            )
        response = generate_response(model, payload, script, self.video_seconds)
        response["responseId"] = f"fake-response-{self._next('response'):06d}"
        with self._lock:
            self.billed_usage.append(response.get("usageMetadata") or {})
        self._count_answer()
        return json_response(200, response)

    def _processing_script(self, file: FakeFile) -> FileScript:
        """How an uploaded ``file`` is processed: as the upload handler says, else the defaults."""
        script = None
        if self._upload_handler is not None:
            script = self._upload_handler(file)
        if script is None:
            script = FileScript(processing_polls=self.processing_polls, state=self.final_file_state)
        return script
