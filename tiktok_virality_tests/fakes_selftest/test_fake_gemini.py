"""The Gemini fake, exercised through the real ``google-genai`` SDK: generateContent and faults
(the files and the API key: test_fake_gemini_files.py)."""

import asyncio
import base64
import json
import time
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors, types

from tiktok_virality.defs.analysis.schema import VideoAnalysis
from tiktok_virality_tests.fake_gemini_client import (
    API_KEY,
    MB,
    MODEL,
    VIDEO,
    analyse,
    make_client,
    video_part,
)
from tiktok_virality_tests.fakes.gemini import (
    GENERATE_PATH,
    FakeGemini,
    GeminiApiError,
    GenerateScript,
    request_schema,
    request_text,
    schema_value,
)

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
    assert usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + usage.thoughts_token_count
    )

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
