"""The Gemini analyzer's cost controls and quotas, on the real google-genai SDK against the fake
Gemini API in its today's behaviour (token usage by settings, 429s with QuotaFailure and
RetryInfo, a per-day quota). The quota's waits run on a fake clock: nothing sleeps."""

from typing import Any

import pytest
from google.genai import _api_client

from tiktok_virality.defs.analysis.analyzers import TokenUsage
from tiktok_virality.defs.analysis.cache import AnalysisCache
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.analysis.gemini_failures import (
    AnalyzerConfigurationError,
    DailyQuotaReached,
)
from tiktok_virality.defs.analysis.gemini_models import gemini_client
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini, GeminiApiError, GenerateScript
from tiktok_virality_tests.helpers import LOG, SMALL, video_urls, videos

LARGE = b"\x00\x00\x00\x18ftypmp42" + b"V" * 300_000


class FakeClock:
    """The quota's clock: `sleep` moves it on at once, and keeps what was waited."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.waits: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def slideshows(count: int) -> Any:
    return videos(*({"video_id": str(n), "is_slideshow": True} for n in range(count)))


def failures(cache: AnalysisCache, analyzer: GeminiAnalyzer, count: int) -> dict[str, Any]:
    ids = [str(n) for n in range(count)]
    return cache.analysis_failures(ids, model=analyzer.model, schema_version=SCHEMA_VERSION)


def test_every_call_carries_the_cost_controls(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, fake_apify: FakeApify
) -> None:
    urls = video_urls(fake_apify, {"small": SMALL, "big": LARGE})
    batch = videos(
        {"video_id": "1", "video_url": urls["small"], "duration_seconds": 20},
        {"video_id": "2", "video_url": urls["big"], "duration_seconds": 95},
        {"video_id": "3", "is_slideshow": True},
    )

    result = analyzer.analyze(batch, LOG)

    assert result.errors == [] and fake_gemini.generate_calls == 3
    for request in fake_gemini.generate_requests:
        config = request.json["generationConfig"]
        assert config["mediaResolution"] == "MEDIA_RESOLUTION_LOW"
        assert config["thinkingConfig"] == {"thinking_level": "LOW"}
    video_parts = [
        part["videoMetadata"]
        for request in fake_gemini.generate_requests
        for part in request.json["contents"][0]["parts"]
        if "inlineData" in part or "fileData" in part
    ]
    # The whole of a 20-s video; the first minute of a 95-s one; one frame a second.
    assert sorted(video_parts, key=str) == [
        {"end_offset": "20s", "fps": 1.0},
        {"end_offset": "60s", "fps": 1.0},
    ]


def test_a_model_before_gemini_3_gets_a_thinking_budget_instead_of_a_level(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    fake_gemini.models.append("gemini-2.5-flash-lite")
    older = analyzer.model_copy(update={"model": "gemini-2.5-flash-lite"})

    older.analyze(slideshows(1), LOG)

    [request] = fake_gemini.generate_requests
    assert request.json["generationConfig"]["thinkingConfig"] == {"thinking_budget": 1024}


def test_the_tokens_paid_come_back_per_video_and_follow_the_resolution(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, fake_apify: FakeApify
) -> None:
    url = video_urls(fake_apify, {"a": SMALL})["a"]
    batch = videos({"video_id": "1", "video_url": url, "duration_seconds": 20})

    low = analyzer.analyze(batch, LOG).usage["1"]
    high = analyzer.model_copy(update={"media_resolution": "high"}).analyze(batch, LOG).usage["1"]

    assert low.thinking == high.thinking == 200  # the fake's LOW thinking level
    assert low.output > 0
    # 20 frames at 1 fps: 280 tokens a frame at HIGH instead of 70 (Gemini 3).
    assert high.prompt - low.prompt == 20 * (280 - 70)
    assert low + high == TokenUsage(
        low.prompt + high.prompt, low.output + high.output, low.thinking + high.thinking
    )


def test_changing_a_control_analyses_again_and_changing_it_back_pays_nothing(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    batch = slideshows(2)
    analyzer.analyze(batch, LOG)
    more_frames = analyzer.model_copy(update={"frames_per_second": 2.0})

    more_frames.analyze(batch, LOG)
    analyzer.analyze(batch, LOG)
    more_frames.analyze(batch, LOG)

    assert fake_gemini.generate_calls == 4


def test_a_minute_quota_is_waited_out_as_its_retry_info_says_and_nothing_is_given_up(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, cache: AnalysisCache
) -> None:
    fake_gemini.exhaust_minute_quota_next(times=2, retry_delay_seconds=17)
    clock = FakeClock()

    result = analyzer.analyze(slideshows(1), LOG, clock=clock.time, sleep=clock.sleep)

    assert result.errors == [] and len(result.analyses) == 1
    assert fake_gemini.generate_calls == 3
    assert clock.waits == [pytest.approx(17), pytest.approx(17)]
    assert failures(cache, analyzer, 1) == {}


def test_a_minute_quota_that_outlasts_the_waits_never_gives_a_video_up(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, cache: AnalysisCache
) -> None:
    impatient = analyzer.model_copy(update={"quota_attempts": 2})
    fake_gemini.exhaust_minute_quota_next(times=100, retry_delay_seconds=5)
    clock = FakeClock()

    runs = [
        impatient.analyze(slideshows(1), LOG, clock=clock.time, sleep=clock.sleep) for _ in "abcd"
    ]

    assert [len(run.retryable_errors) for run in runs] == [1, 1, 1, 1]
    assert "429" in runs[-1].errors[0].error
    assert failures(cache, analyzer, 1) == {}


def test_a_daily_quota_stops_at_once_and_a_later_run_pays_exactly_the_missing_videos(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, cache: AnalysisCache
) -> None:
    fake_gemini.requests_per_day = 3
    one_at_a_time = analyzer.model_copy(update={"concurrency": 1})
    batch = slideshows(8)

    with pytest.raises(DailyQuotaReached) as raised:
        one_at_a_time.analyze(batch, LOG)

    assert str(raised.value) == (
        "daily quota of gemini-3.5-flash reached: 5 videos left; run the same command after the "
        "quota resets, with --retry-failed (in the UI: re-execute the failed partition)"
    )
    assert fake_gemini.generate_calls == 4  # three answers, one refusal, then no more calls
    assert failures(cache, analyzer, 8) == {}  # not yet analysed, never given up on

    fake_gemini.reset_day()  # a new day, with quota enough
    fake_gemini.requests_per_day = 10
    calls_before = fake_gemini.generate_calls
    result = one_at_a_time.analyze(batch, LOG)

    assert fake_gemini.generate_calls - calls_before == 5
    assert len(result.analyses) == 8 and result.errors == []


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ("User location is not supported for the API use.", "FAILED_PRECONDITION"),
        ("Gemini API free tier is not available in your country. Please enable billing.", None),
    ],
)
def test_a_project_wide_precondition_stops_the_analysis_like_a_refused_key(
    analyzer: GeminiAnalyzer,
    fake_gemini: FakeGemini,
    cache: AnalysisCache,
    message: str,
    status: str | None,
) -> None:
    def refuse(request_json: dict[str, Any]) -> GenerateScript:
        raise GeminiApiError(400, message, status_text=status or "FAILED_PRECONDITION")

    fake_gemini.on_generate(refuse)
    one_at_a_time = analyzer.model_copy(update={"concurrency": 1})

    with pytest.raises(AnalyzerConfigurationError, match="FAILED_PRECONDITION"):
        one_at_a_time.analyze(slideshows(6), LOG)

    assert fake_gemini.generate_calls == 1
    assert failures(cache, analyzer, 6) == {}


def test_the_sdk_is_pinned_to_httpx2_even_where_aiohttp_is_installed(
    monkeypatch: pytest.MonkeyPatch, fake_gemini: FakeGemini
) -> None:
    monkeypatch.setattr(_api_client, "has_aiohttp", True)
    client = gemini_client(
        "key",
        base_url=fake_gemini.url,
        api_version="v1beta",
        retry_attempts=1,
        initial_retry_delay_seconds=0.01,
        timeout_seconds=5,
    )

    assert client.aio._api_client._use_aiohttp() is False
