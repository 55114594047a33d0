"""The Gemini fake, exercised through the real ``google-genai`` SDK: protocol, scenarios, faults."""

import asyncio
import base64
import io
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors, types

from tiktok_virality.defs.analysis.schema import VideoAnalysis
from tiktok_virality_tests.fakes.gemini import (
    GENERATE_PATH,
    UPLOAD_PATH,
    FakeGemini,
    FileScript,
    GeminiApiError,
    GenerateScript,
    request_schema,
    request_text,
    schema_value,
)

API_KEY = "test-key"
MODEL = "gemini-2.5-flash"
VIDEO = b"\x00\x00\x00\x18ftypmp42 fake video bytes"
MB = 1024 * 1024


def make_client(fake: FakeGemini, retry: types.HttpRetryOptions | None = None) -> genai.Client:
    return genai.Client(
        api_key=API_KEY,
        http_options=types.HttpOptions(
            base_url=fake.url, api_version="v1beta", retry_options=retry
        ),
    )


def analyse(client: genai.Client, *parts: Any) -> types.GenerateContentResponse:
    return client.models.generate_content(
        model=MODEL,
        contents=[*parts, "Analyse this TikTok video."],
        config=types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=VideoAnalysis
        ),
    )


def video_part(data: bytes = VIDEO) -> types.Part:
    return types.Part.from_bytes(data=data, mime_type="video/mp4")


# ----------------------------------------------------------------------------- generateContent


def test_structured_output_is_parsed_into_a_video_analysis(fake_gemini: FakeGemini) -> None:
    response = analyse(make_client(fake_gemini), video_part())

    assert isinstance(response.parsed, VideoAnalysis)
    assert response.parsed.trend.trend_format is None  # nullable → null
    assert response.parsed.content_structure.hook_score == 5.0  # the middle of 0..10
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.model_version == MODEL and response.response_id
    usage = response.usage_metadata
    assert usage.prompt_token_count > 0 and usage.candidates_token_count > 0
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count

    (request,) = fake_gemini.generate_requests
    assert request.path == f"/v1beta/models/{MODEL}:generateContent"
    assert fake_gemini.generate_calls == 1
    video, _prompt = request.json["contents"][0]["parts"]
    assert base64.b64decode(video["inlineData"]["data"]) == VIDEO
    assert video["inlineData"]["mime_type"] == "video/mp4"  # the SDK's spelling
    assert request_text(request.json) == "Analyse this TikTok video."
    config = request.json["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = request_schema(request.json)
    assert schema is config["responseSchema"]
    assert schema["type"] == "OBJECT" and "visual" in schema["required"]


def test_a_json_schema_gets_a_valid_default_too(fake_gemini: FakeGemini) -> None:
    json_schema = VideoAnalysis.model_json_schema()  # $defs, $ref, anyOf with null
    client = make_client(fake_gemini)
    response = client.models.generate_content(
        model=MODEL,
        contents="Analyse.",
        config=types.GenerateContentConfig(
            response_mime_type="application/json", response_json_schema=json_schema
        ),
    )

    assert VideoAnalysis.model_validate(response.parsed).trend.trend_format is None
    assert "responseJsonSchema" in fake_gemini.generate_requests[0].json["generationConfig"]
    assert VideoAnalysis.model_validate(schema_value(json_schema))


def test_schema_values_keep_to_bounds_enums_and_lengths() -> None:
    assert schema_value({"type": "INTEGER", "minimum": 3, "maximum": 8}) == 5
    assert schema_value({"type": "integer", "exclusiveMinimum": 3}) == 4
    assert schema_value({"type": "number", "maximum": -2}) == -2.0
    assert schema_value({"type": "STRING", "enum": ["b", "a"]}) == "b"
    assert schema_value({"type": "string", "minLength": 6, "maxLength": 7}) == "fakexx"
    assert schema_value({"type": "string", "format": "date-time"}) == "2025-01-01T00:00:00Z"
    assert schema_value({"type": ["string", "null"]}) is None
    assert schema_value({"type": "ARRAY", "items": {"type": "BOOLEAN"}, "min_items": 2}) == [
        False,
        False,
    ]
    assert schema_value({"type": "array", "items": {"type": "string"}, "maxItems": 0}) == []
    ordered = {
        "type": "OBJECT",
        "properties": {"b": {"type": "STRING"}, "a": {"type": "NUMBER", "nullable": True}},
        "property_ordering": ["a", "b"],
    }
    assert list(schema_value(ordered).items()) == [("a", None), ("b", "fake")]


def test_malformed_json_is_not_parsed_and_raises_nothing(fake_gemini: FakeGemini) -> None:
    fake_gemini.on_generate(lambda request: GenerateScript(text='{"visual": {"visual_st'))

    response = analyse(make_client(fake_gemini), video_part())

    assert response.parsed is None
    assert response.text == '{"visual": {"visual_st'


def test_json_violating_the_schema_is_not_parsed(fake_gemini: FakeGemini) -> None:
    @fake_gemini.on_generate
    def score_of_42(request: dict[str, Any]) -> GenerateScript:
        value = fake_gemini.default_json(request)
        value["content_structure"]["hook_score"] = 42
        return GenerateScript(json_value=value)

    response = analyse(make_client(fake_gemini), video_part())

    assert response.parsed is None
    assert json.loads(response.text)["content_structure"]["hook_score"] == 42


def test_a_safety_finish_has_no_text(fake_gemini: FakeGemini) -> None:
    fake_gemini.on_generate(lambda request: GenerateScript(finish_reason="SAFETY"))

    response = analyse(make_client(fake_gemini), video_part())

    assert response.text is None and response.parsed is None
    (candidate,) = response.candidates
    assert candidate.finish_reason == types.FinishReason.SAFETY
    assert candidate.content is None
    assert any(rating.blocked for rating in candidate.safety_ratings)


def test_a_blocked_prompt_has_feedback_and_no_candidates(fake_gemini: FakeGemini) -> None:
    fake_gemini.on_generate(lambda request: GenerateScript(block_reason="PROHIBITED_CONTENT"))

    response = analyse(make_client(fake_gemini), video_part())

    assert response.candidates is None
    assert response.text is None and response.parsed is None
    assert response.prompt_feedback.block_reason == types.BlockedReason.PROHIBITED_CONTENT
    assert response.usage_metadata.candidates_token_count is None


def test_no_candidates_and_a_raw_body(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    fake_gemini.on_generate(lambda request: GenerateScript(no_candidates=True))
    empty = analyse(client)
    assert empty.candidates is None and empty.prompt_feedback is None and empty.text is None

    fake_gemini.on_generate(lambda request: {"candidates": []})
    assert analyse(client).candidates == []


def test_a_handler_can_answer_an_api_error_or_fail(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)

    @fake_gemini.on_generate
    def refuse(request: dict[str, Any]) -> GenerateScript:
        raise GeminiApiError(400, "Video too long.")

    with pytest.raises(errors.ClientError) as raised:
        analyse(client, video_part())
    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert raised.value.message == "Video too long."
    assert fake_gemini.handler_errors == []

    with FakeGemini() as fake:
        fake.on_generate(lambda request: {}["boom"])
        with pytest.raises(errors.ServerError, match="FakeGemini handler error"):
            analyse(make_client(fake))
    assert [type(e) for e in fake.handler_errors] == [KeyError]


def test_requests_the_api_refuses_are_refused(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    fake_gemini.max_request_bytes = MB

    with pytest.raises(errors.ClientError, match="payload size exceeds"):
        analyse(client, video_part(b"x" * MB))
    with pytest.raises(errors.ClientError, match="allowed mimetypes"):
        client.models.generate_content(
            model=MODEL, contents="hi", config={"response_schema": VideoAnalysis}
        )
    assert fake_gemini.generate_calls == 2


def test_the_v1_api_is_served_too(fake_gemini: FakeGemini) -> None:
    client = genai.Client(
        api_key=API_KEY, http_options=types.HttpOptions(base_url=fake_gemini.url, api_version="v1")
    )

    assert client.models.generate_content(model=MODEL, contents="hi").text
    assert fake_gemini.generate_requests[0].path == f"/v1/models/{MODEL}:generateContent"


# ----------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("status", "error", "status_text"),
    [
        (429, errors.ClientError, "RESOURCE_EXHAUSTED"),
        (503, errors.ServerError, "UNAVAILABLE"),
        (500, errors.ServerError, "INTERNAL"),
    ],
)
def test_errors_are_raised_without_retries_by_default(
    fake_gemini: FakeGemini, status: int, error: type[errors.APIError], status_text: str
) -> None:
    fake_gemini.fail_next("POST", GENERATE_PATH, status)

    with pytest.raises(error) as raised:
        analyse(make_client(fake_gemini), video_part())

    assert (raised.value.code, raised.value.status) == (status, status_text)
    assert raised.value.details["error"]["message"] == f"Injected fault: HTTP {status}"
    assert fake_gemini.generate_calls == 1
    assert fake_gemini.pending_faults == 0


def test_with_retry_options_a_429_is_retried(fake_gemini: FakeGemini) -> None:
    fake_gemini.fail_next("POST", GENERATE_PATH, 429, headers={"Retry-After": "30"})
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02)

    response = analyse(make_client(fake_gemini, retry), video_part())

    assert isinstance(response.parsed, VideoAnalysis)
    assert fake_gemini.generate_calls == 2


def test_a_reset_or_a_cut_body_is_not_retried_even_with_retry_options(
    fake_gemini: FakeGemini,
) -> None:
    client = make_client(fake_gemini, types.HttpRetryOptions(attempts=3, initial_delay=0.01))

    fake_gemini.reset_connection_next(GENERATE_PATH)
    with pytest.raises(httpx2.ReadError):
        analyse(client)
    fake_gemini.truncate_next(GENERATE_PATH)
    with pytest.raises(httpx2.RemoteProtocolError):
        analyse(client)
    fake_gemini.truncate_next(GENERATE_PATH, declare_full_length=False)
    with pytest.raises(json.JSONDecodeError):
        analyse(client)

    assert fake_gemini.generate_calls == 3
    assert isinstance(analyse(client).parsed, VideoAnalysis)


def test_a_fault_after_handling_runs_the_handler(fake_gemini: FakeGemini) -> None:
    seen: list[str] = []
    fake_gemini.on_generate(lambda request: seen.append(request_text(request)) or GenerateScript())
    fake_gemini.fail_next("POST", GENERATE_PATH, 503, after_handling=True)

    with pytest.raises(errors.ServerError):
        analyse(make_client(fake_gemini))
    assert seen == ["Analyse this TikTok video."]


def test_concurrent_async_calls_are_tracked(fake_gemini: FakeGemini) -> None:
    fake_gemini.latency_seconds = 0.05
    client = make_client(fake_gemini)

    async def analyse_all() -> list[types.GenerateContentResponse]:
        return await asyncio.gather(
            *(
                client.aio.models.generate_content(
                    model=MODEL,
                    contents=[video_part(), f"video {i}"],
                    config=types.GenerateContentConfig(
                        response_mime_type="application/json", response_schema=VideoAnalysis
                    ),
                )
                for i in range(8)
            )
        )

    responses = asyncio.run(analyse_all())

    assert all(isinstance(r.parsed, VideoAnalysis) for r in responses)
    assert fake_gemini.max_concurrent_generates == 8
    assert fake_gemini.generate_calls == 8 and fake_gemini.generates_in_flight == 0
    fake_gemini.reset_stats()
    assert (fake_gemini.generate_calls, fake_gemini.max_concurrent_generates) == (0, 0)


def test_latency_can_depend_on_the_endpoint(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    analyse(client)  # connect first
    asked: list[str] = []

    def generate_only(method: str, path: str) -> float:
        asked.append(path)
        return 0.1 if path.endswith(":generateContent") else 0

    fake_gemini.latency_seconds = generate_only
    began = time.perf_counter()
    analyse(client)
    assert time.perf_counter() - began >= 0.1
    assert list(client.files.list()) == []
    assert [path.rsplit("/", 1)[-1] for path in asked] == [f"{MODEL}:generateContent", "files"]


# ----------------------------------------------------------------------------- files


@pytest.fixture
def video_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = bytes(range(256)) * (20 * MB // 256)
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    return path, data


def test_a_20_mb_upload_goes_in_three_8_mb_chunks(
    fake_gemini: FakeGemini, video_file: tuple[Path, bytes]
) -> None:
    path, data = video_file
    client = make_client(fake_gemini)

    uploaded = client.files.upload(
        file=path, config={"mime_type": "video/mp4", "display_name": "video 1"}
    )

    assert uploaded.name and uploaded.name.startswith("files/")
    assert (uploaded.size_bytes, uploaded.mime_type, uploaded.display_name) == (
        20 * MB,
        "video/mp4",
        "video 1",
    )
    assert uploaded.state == types.FileState.ACTIVE  # processing_polls=0: at once
    assert uploaded.uri == f"{fake_gemini.url}/v1beta/files/{uploaded.name.split('/')[1]}"
    (file,) = fake_gemini.files
    assert file.name == uploaded.name and file.data == data
    assert file.chunk_sizes == [8 * MB, 8 * MB, 4 * MB]

    start, *chunks = fake_gemini.requests_to("POST", UPLOAD_PATH)
    assert start.path == "/upload/v1beta/files" and start.query == {}
    assert start.headers["x-goog-upload-protocol"] == "resumable"
    assert start.headers["x-goog-upload-command"] == "start"
    assert start.headers["x-goog-upload-header-content-length"] == str(20 * MB)
    assert start.json == {
        "file": {"display_name": "video 1", "mime_type": "video/mp4", "size_bytes": 20 * MB}
    }
    assert [c.headers["x-goog-upload-command"] for c in chunks] == [
        "upload",
        "upload",
        "upload, finalize",
    ]
    assert [c.headers["x-goog-upload-offset"] for c in chunks] == ["0", str(8 * MB), str(16 * MB)]
    assert [c.body_size for c in chunks] == [8 * MB, 8 * MB, 4 * MB]
    assert all(c.query["upload_id"] for c in chunks)


def test_a_file_is_processing_for_the_first_polls_then_active(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    fake_gemini.on_upload(lambda file: FileScript(processing_polls=2, video_duration_seconds=12.5))
    uploaded = client.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})
    assert uploaded.state == types.FileState.PROCESSING
    with pytest.raises(errors.ClientError) as raised:
        analyse(client, types.Part.from_uri(file_uri=uploaded.uri, mime_type="video/mp4"))
    assert (raised.value.code, raised.value.status) == (400, "FAILED_PRECONDITION")

    states = [client.files.get(name=uploaded.name).state for _ in range(3)]

    assert states == [types.FileState.PROCESSING] * 2 + [types.FileState.ACTIVE]
    assert fake_gemini.file(uploaded.name).polls == 3
    assert client.files.get(name=uploaded.name).video_metadata == {"videoDuration": "12.5s"}
    response = analyse(client, types.Part.from_uri(file_uri=uploaded.uri, mime_type="video/mp4"))
    assert isinstance(response.parsed, VideoAnalysis)
    file_data = fake_gemini.generate_requests[-1].json["contents"][0]["parts"][0]["fileData"]
    assert file_data == {"file_uri": uploaded.uri, "mime_type": "video/mp4"}


def test_a_file_can_fail_processing(fake_gemini: FakeGemini) -> None:
    fake_gemini.processing_polls = 1
    fake_gemini.final_file_state = "FAILED"
    client = make_client(fake_gemini)
    uploaded = client.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})

    assert client.files.get(name=uploaded.name).state == types.FileState.PROCESSING
    failed = client.files.get(name=uploaded.name)
    assert failed.state == types.FileState.FAILED
    assert failed.error.message == "Video processing failed."


def test_a_deleted_file_is_gone(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    kept = fake_gemini.add_file(VIDEO, name="kept")
    uploaded = client.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})

    client.files.delete(name=uploaded.name)

    assert fake_gemini.files == [kept]
    assert [f.name for f in fake_gemini.deleted_files] == [uploaded.name]
    with pytest.raises(errors.ClientError) as raised:
        client.files.get(name=uploaded.name)
    assert (raised.value.code, raised.value.status) == (403, "PERMISSION_DENIED")
    with pytest.raises(errors.ClientError, match="PERMISSION_DENIED"):
        analyse(client, types.Part.from_uri(file_uri=uploaded.uri, mime_type="video/mp4"))
    assert [f.name for f in client.files.list()] == ["files/kept"]


def test_files_are_listed_page_by_page(fake_gemini: FakeGemini) -> None:
    for i in range(3):
        fake_gemini.add_file(VIDEO, display_name=f"v{i}")

    client = make_client(fake_gemini)

    listed = list(client.files.list(config={"page_size": 2}))

    assert [f.display_name for f in listed] == ["v0", "v1", "v2"]
    pages = fake_gemini.requests_to("GET", "^/v1beta/files$")
    assert [p.query.get("pageToken") for p in pages] == [None, "2"]


def test_a_failed_chunk_raises_at_once(fake_gemini: FakeGemini) -> None:
    fake_gemini.fail_next(
        "POST",
        UPLOAD_PATH,
        503,
        when=lambda r: r.headers.get("x-goog-upload-command") == "upload, finalize",
    )
    client = make_client(fake_gemini)

    with pytest.raises(errors.ServerError):
        client.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})

    assert fake_gemini.files == []
    assert len(fake_gemini.requests_to("POST", UPLOAD_PATH)) == 2  # start, the failed chunk


# ----------------------------------------------------------------------------- keys and 404


def test_the_api_key_is_recorded_but_never_shown(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    analyse(client, video_part())
    fake_gemini.add_file(VIDEO, name="seen")
    client.files.get(name="files/seen")

    requests = fake_gemini.requests
    assert [r.headers["x-goog-api-key"] for r in requests] == [API_KEY, API_KEY]
    assert API_KEY not in repr(requests)
    assert API_KEY not in repr(fake_gemini.files)


def test_a_required_api_key_refuses_other_keys(fake_gemini: FakeGemini) -> None:
    fake_gemini.required_api_key = "right-key"

    with pytest.raises(errors.ClientError) as raised:
        analyse(make_client(fake_gemini))
    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert "API key not valid" in raised.value.message

    right = genai.Client(
        api_key="right-key",
        http_options=types.HttpOptions(base_url=fake_gemini.url, api_version="v1beta"),
    )
    uploaded = right.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})
    assert uploaded.state == types.FileState.ACTIVE  # chunks carry no key, as with the API
    assert "x-goog-api-key" not in fake_gemini.requests[-1].headers


def test_anything_else_is_a_404_with_a_google_error_envelope(fake_gemini: FakeGemini) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{fake_gemini.url}/v1beta/models/{MODEL}", timeout=5)
    assert raised.value.code == 404
    error = json.loads(raised.value.read())["error"]
    assert (error["code"], error["status"]) == (404, "NOT_FOUND") and error["message"]
