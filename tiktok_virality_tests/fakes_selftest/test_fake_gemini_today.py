"""The fake Gemini API as the service is today: models.get / models.list and retired models,
the 429s of the per-minute and per-day quotas, and token usage that follows the request's media
resolution, video metadata and thinking config. Through the real google-genai SDK."""

from typing import Any

import pytest
from google.genai import errors, types

from tiktok_virality_tests.fake_gemini_client import MODEL, VIDEO, make_client
from tiktok_virality_tests.fakes.gemini import (
    LIVE_MODELS,
    PER_DAY_QUOTA_ID,
    PER_MINUTE_QUOTA_ID,
    FakeGemini,
)

PROMPT = "x" * 40  # 10 tokens at 4 characters a token


def video(fps: float | None = None, start: str | None = None, end: str | None = None) -> Any:
    metadata = types.VideoMetadata(fps=fps, start_offset=start, end_offset=end)
    return types.Part(
        inline_data=types.Blob(data=VIDEO, mime_type="video/mp4"), video_metadata=metadata
    )


def usage(
    fake: FakeGemini, parts: list[Any], model: str = MODEL, **config: Any
) -> types.GenerateContentResponseUsageMetadata:
    client = make_client(fake)  # kept: a temporary client's __del__ closes its connection
    response = client.models.generate_content(
        model=model, contents=[*parts, PROMPT], config=types.GenerateContentConfig(**config)
    )
    assert response.usage_metadata is not None
    return response.usage_metadata


def quota_ids(error: errors.APIError) -> list[str]:
    return [
        violation["quotaId"]
        for detail in error.details["error"]["details"]
        for violation in detail.get("violations", [])
    ]


def retry_delays(error: errors.APIError) -> list[str]:
    return [d["retryDelay"] for d in error.details["error"]["details"] if "retryDelay" in d]


# ----------------------------------------------------------------------------- models


def test_models_get_answers_a_live_model_and_404s_a_retired_one(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)

    live = client.models.get(model="gemini-3.5-flash")
    with pytest.raises(errors.ClientError) as raised:
        client.models.get(model="gemini-2.5-flash")

    assert live.name == "models/gemini-3.5-flash"
    assert live.supported_actions == ["generateContent", "countTokens"]
    assert raised.value.code == 404 and raised.value.status == "NOT_FOUND"
    assert "models/gemini-2.5-flash is not found for API version v1beta" in raised.value.message


def test_models_list_pages_through_every_model(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    names = [m.name for m in client.models.list(config={"page_size": 2})]

    assert names == [f"models/{name}" for name in LIVE_MODELS]
    assert len(fake_gemini.requests_to("GET", r"/models$")) == 3  # pages of 2, 2 and 1


def test_generate_content_on_a_retired_model_is_a_404(fake_gemini: FakeGemini) -> None:
    with pytest.raises(errors.ClientError) as raised:
        usage(fake_gemini, [], model="gemini-2.5-flash")

    assert raised.value.code == 404
    assert "or is not supported for generateContent" in raised.value.message


# ----------------------------------------------------------------------------- quotas


def test_the_day_quota_answers_429_per_day_until_the_day_resets(fake_gemini: FakeGemini) -> None:
    fake_gemini.requests_per_day = 1
    usage(fake_gemini, [])

    with pytest.raises(errors.ClientError) as raised:
        usage(fake_gemini, [])
    fake_gemini.reset_day()
    usage(fake_gemini, [])

    assert raised.value.code == 429 and raised.value.status == "RESOURCE_EXHAUSTED"
    assert quota_ids(raised.value) == [PER_DAY_QUOTA_ID]
    assert retry_delays(raised.value) == ["3600s"]


def test_a_minute_quota_429_says_which_quota_and_when_to_retry(fake_gemini: FakeGemini) -> None:
    fake_gemini.exhaust_minute_quota_next(retry_delay_seconds=17)

    with pytest.raises(errors.ClientError) as raised:
        usage(fake_gemini, [])

    assert quota_ids(raised.value) == [PER_MINUTE_QUOTA_ID]
    assert retry_delays(raised.value) == ["17s"]
    usage(fake_gemini, [])  # the next call passes


# ----------------------------------------------------------------------------- token usage


@pytest.mark.parametrize(
    ("resolution", "frame_tokens"),
    [
        (None, 70),
        (types.MediaResolution.MEDIA_RESOLUTION_LOW, 70),
        (types.MediaResolution.MEDIA_RESOLUTION_MEDIUM, 70),
        (types.MediaResolution.MEDIA_RESOLUTION_HIGH, 280),
    ],
)
def test_video_tokens_follow_resolution_frames_and_offsets_on_gemini_3(
    fake_gemini: FakeGemini, resolution: types.MediaResolution | None, frame_tokens: int
) -> None:
    fake_gemini.video_seconds = 90
    thinking = types.ThinkingConfig(thinking_level=types.ThinkingLevel.MINIMAL)

    counted = usage(
        fake_gemini,
        [video(fps=2, start="5s", end="15s")],
        media_resolution=resolution,
        thinking_config=thinking,
    )

    # 10 s at 2 frames a second, plus 32 audio tokens a second, plus the prompt.
    assert counted.prompt_token_count == 20 * frame_tokens + 10 * 32 + 10
    assert counted.thoughts_token_count is None  # MINIMAL thinks nothing here


def test_a_video_without_metadata_is_watched_whole_at_one_frame_a_second(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.video_seconds = 30
    fake_gemini.models.append("gemini-2.5-flash-lite")

    current = usage(fake_gemini, [video()])
    legacy = usage(fake_gemini, [video()], model="gemini-2.5-flash-lite")

    assert current.prompt_token_count == 30 * (70 + 32) + 10
    assert legacy.prompt_token_count == 30 * (258 + 32) + 10
    assert current.thoughts_token_count == 800  # thinking at its default, MEDIUM


@pytest.mark.parametrize(("level", "thoughts"), [("LOW", 200), ("HIGH", 3_000)])
def test_thinking_tokens_follow_the_level(
    fake_gemini: FakeGemini, level: str, thoughts: int
) -> None:
    thinking = types.ThinkingConfig(thinking_level=types.ThinkingLevel(level))

    counted = usage(fake_gemini, [], thinking_config=thinking)

    assert counted.thoughts_token_count == thoughts
    assert counted.total_token_count == (
        counted.prompt_token_count + (counted.candidates_token_count or 0) + thoughts
    )


def test_a_thinking_budget_is_refused_from_gemini_3_5_on(fake_gemini: FakeGemini) -> None:
    with pytest.raises(errors.ClientError) as raised:
        usage(fake_gemini, [], thinking_config=types.ThinkingConfig(thinking_budget=1024))

    assert raised.value.code == 400 and "thinking level" in raised.value.message


def test_frames_a_second_beyond_24_are_refused(fake_gemini: FakeGemini) -> None:
    with pytest.raises(errors.ClientError) as raised:
        usage(fake_gemini, [video(fps=30)])

    assert raised.value.code == 400 and "fps" in raised.value.message
