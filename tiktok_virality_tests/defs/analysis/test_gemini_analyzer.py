"""The Gemini analyzer on the real google-genai SDK, against the local fake Gemini and Apify APIs."""

from typing import Any

import pandas as pd
import pytest

from tiktok_virality.defs.analysis.cache import AnalysisCache
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.analysis.gemini_failures import AnalyzerConfigurationError
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import (
    GENERATE_PATH,
    FakeGemini,
    GeminiApiError,
    GenerateScript,
    request_text,
)
from tiktok_virality_tests.helpers import (
    APIFY_TOKEN,
    GEMINI_KEY,
    LOG,
    SMALL,
    video_urls,
    videos,
)

LARGE = b"\x00\x00\x00\x18ftypmp42" + b"V" * 300_000


def test_small_videos_go_inline_one_call_each_and_are_never_paid_for_twice(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, fake_apify: FakeApify
) -> None:
    urls = video_urls(fake_apify, {"a": SMALL, "b": SMALL})
    batch = videos(
        {"video_id": "1", "video_url": urls["a"]}, {"video_id": "2", "video_url": urls["b"]}
    )

    first = analyzer.analyze(batch, LOG)
    again = analyzer.analyze(batch, LOG)

    assert fake_gemini.generate_calls == 2
    assert first.errors == [] and again.errors == []
    assert first.analyses["video_id"].tolist() == ["1", "2"]
    assert set(first.analyses["input_kind"]) == {"video"}
    assert set(first.analyses["analyzer"]) == {"gemini"}
    assert set(first.analyses["schema_version"]) == {SCHEMA_VERSION}
    assert first.analyses["hook_score"].notna().all()
    pd.testing.assert_frame_equal(first.analyses, again.analyses)
    inline = [
        part
        for request in fake_gemini.generate_requests
        for part in request.json["contents"][0]["parts"]
        if "inlineData" in part
    ]
    assert len(inline) == 2
    downloads = fake_apify.requests_to("GET", r"/records/[ab]$")
    assert [r.headers["authorization"] for r in downloads] == [f"Bearer {APIFY_TOKEN}"] * 2


def test_a_large_video_is_uploaded_polled_and_deleted(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, fake_apify: FakeApify
) -> None:
    fake_gemini.processing_polls = 2
    urls = video_urls(fake_apify, {"big": LARGE})

    result = analyzer.analyze(videos({"video_id": "9", "video_url": urls["big"]}), LOG)

    assert result.analyses["input_kind"].tolist() == ["video"]
    assert fake_gemini.generate_calls == 1
    [request] = fake_gemini.generate_requests
    assert any("fileData" in part for part in request.json["contents"][0]["parts"])
    assert fake_gemini.files == []  # deleted once analysed
    assert len(fake_gemini.deleted_files) == 1


def test_a_slideshow_is_analysed_from_metadata_and_its_cover_when_there_is_one(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, fake_apify: FakeApify
) -> None:
    urls = video_urls(fake_apify, {"cover": (b"\xff\xd8\xff jpeg", "image/jpeg")})

    result = analyzer.analyze(
        videos(
            {"video_id": "5", "is_slideshow": True, "cover_url": urls["cover"]},
            {"video_id": "6", "is_slideshow": True, "cover_url": f"{urls['cover']}-gone"},
        ),
        LOG,
    )

    assert result.analyses["input_kind"].tolist() == ["metadata_and_cover", "metadata"]
    prompts = [request_text(request.json) for request in fake_gemini.generate_requests]
    assert all("video file is not available" in prompt for prompt in prompts)
    assert fake_apify.requests_to("GET", r"/records/video") == []  # no video file was fetched


def test_an_expired_export_link_falls_back_to_metadata(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    expired = "http://127.0.0.1:9/video/tos/expired.mp4"  # nothing listens on port 9

    result = analyzer.analyze(videos({"video_id": "4", "video_url": expired}), LOG)

    assert result.errors == []
    assert result.analyses["input_kind"].tolist() == ["metadata"]


def test_transient_failures_are_retried_by_a_later_run_with_exactly_the_missing_calls(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    def unavailable_for_video_3(request_json: dict) -> Any:
        if "video 3" in request_text(request_json):
            raise GeminiApiError(503, "overloaded")
        return GenerateScript(json_value=fake_gemini.default_json(request_json))

    fake_gemini.on_generate(unavailable_for_video_3)
    batch = videos(*({"video_id": str(n), "is_slideshow": True} for n in range(1, 6)))

    first = analyzer.analyze(batch, LOG)

    assert [e.error.split(":")[0] for e in first.retryable_errors] == ["3"]
    assert len(first.analyses) == 4
    calls_before_retry = fake_gemini.generate_calls
    fake_gemini.on_generate(None)

    retried = analyzer.analyze(batch, LOG)

    assert fake_gemini.generate_calls - calls_before_retry == 1
    assert retried.errors == [] and len(retried.analyses) == 5


def test_a_safety_block_is_permanent_and_leaves_the_video_unanalysed(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    fake_gemini.on_generate(lambda request_json: GenerateScript(block_reason="SAFETY"))

    result = analyzer.analyze(videos({"video_id": "7", "is_slideshow": True}), LOG)

    assert result.analyses.empty
    [error] = result.errors
    assert error.permanent and "blocked" in error.error and error.account == "meenitech"


def out_of_range(fake_gemini: FakeGemini, request_json: dict) -> GenerateScript:
    value = fake_gemini.default_json(request_json)
    value["content_structure"]["hook_score"] = 42
    return GenerateScript(json_value=value)


@pytest.mark.parametrize(
    "answer",
    [
        lambda fake, request_json: GenerateScript(text='{"visual": {"visual_style": '),
        out_of_range,
    ],
    ids=["malformed JSON", "schema violation"],
)
def test_invalid_output_is_asked_for_once_more_then_given_up(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, answer: Any
) -> None:
    fake_gemini.on_generate(lambda request_json: answer(fake_gemini, request_json))

    result = analyzer.analyze(videos({"video_id": "8", "is_slideshow": True}), LOG)

    assert fake_gemini.generate_calls == 2
    [error] = result.errors
    assert error.permanent and "not valid JSON for the analysis schema" in error.error


def test_a_429_without_retry_info_is_asked_again_after_a_backoff(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    fake_gemini.fail_next("POST", r":generateContent$", 429)

    result = analyzer.analyze(videos({"video_id": "2", "is_slideshow": True}), LOG)

    assert result.errors == [] and len(result.analyses) == 1
    assert fake_gemini.generate_calls == 2


@pytest.mark.parametrize("lose", ["reset", "truncate"])
def test_an_answer_lost_on_the_way_is_asked_for_again_at_once(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, lose: str
) -> None:
    if lose == "reset":
        fake_gemini.reset_connection_next(GENERATE_PATH, after_handling=True)
    else:
        fake_gemini.truncate_next(GENERATE_PATH)

    result = analyzer.analyze(videos({"video_id": "2", "is_slideshow": True}), LOG)

    assert result.errors == [] and len(result.analyses) == 1
    assert fake_gemini.generate_calls == 2


def test_a_call_that_stalls_past_the_timeout_is_retried(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    stalls = iter([3.0])  # the first call's answer comes long after the timeout
    fake_gemini.latency_seconds = lambda method, path: (
        next(stalls, 0.0) if "generate" in path else 0.0
    )
    timed = analyzer.model_copy(update={"request_timeout_seconds": 1.0})

    result = timed.analyze(videos({"video_id": "2", "is_slideshow": True}), LOG)

    assert result.errors == [] and len(result.analyses) == 1
    assert fake_gemini.generate_calls == 2


@pytest.mark.parametrize("fault", ["503", "reset"])
def test_a_video_download_that_fails_for_a_moment_is_tried_again(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, fake_apify: FakeApify, fault: str
) -> None:
    urls = video_urls(fake_apify, {"a": SMALL})
    if fault == "503":
        fake_apify.fail_next("GET", r"/records/a$", 503)
    else:
        fake_apify.reset_connection_next(r"/records/a$")

    result = analyzer.analyze(videos({"video_id": "1", "video_url": urls["a"]}), LOG)

    assert result.errors == [] and result.analyses["input_kind"].tolist() == ["video"]
    assert len(fake_apify.requests_to("GET", r"/records/a$")) == 2


def test_videos_are_analysed_concurrently_up_to_the_limit(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    fake_gemini.latency_seconds = 0.05

    result = analyzer.analyze(
        videos(*({"video_id": str(n), "is_slideshow": True} for n in range(12))), LOG
    )

    assert len(result.analyses) == 12
    assert fake_gemini.max_concurrent_generates == 4


def test_a_refused_key_stops_the_analysis_without_showing_the_key(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    fake_gemini.required_api_key = "another-key"

    with pytest.raises(AnalyzerConfigurationError) as raised:
        analyzer.analyze(videos({"video_id": "1", "is_slideshow": True}), LOG)

    assert GEMINI_KEY not in str(raised.value)
    [model_check] = fake_gemini.requests_to("GET", r"/models/")
    assert model_check.headers["x-goog-api-key"] == GEMINI_KEY
    assert fake_gemini.generate_calls == 0  # stopped by the model check, before any call


def test_the_apify_token_goes_to_apifys_own_origin_only(
    analyzer: GeminiAnalyzer, fake_apify: FakeApify
) -> None:
    with FakeApify() as elsewhere:  # another origin: a CDN link in an export
        cdn_url = video_urls(elsewhere, {"cdn": SMALL})["cdn"]
        result = analyzer.analyze(videos({"video_id": "1", "video_url": cdn_url}), LOG)
        [download] = elsewhere.requests_to("GET", r"/records/cdn$")

    assert result.analyses["input_kind"].tolist() == ["video"]
    assert "authorization" not in download.headers


def test_answers_already_paid_for_are_kept_when_gemini_starts_refusing_the_key(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, cache: AnalysisCache
) -> None:
    answered: list[int] = []

    def refuse_after_three(request_json: dict) -> GenerateScript:
        if len(answered) >= 3:
            raise GeminiApiError(403, "permission denied")
        answered.append(1)
        return GenerateScript(json_value=fake_gemini.default_json(request_json))

    fake_gemini.on_generate(refuse_after_three)
    batch = videos(*({"video_id": str(n), "is_slideshow": True} for n in range(10)))

    with pytest.raises(AnalyzerConfigurationError):
        analyzer.analyze(batch, LOG)

    stored = cache.cached_analyses(
        [str(n) for n in range(10)],
        model=analyzer.model,
        schema_version=SCHEMA_VERSION,
        settings=analyzer.controls.fingerprint,
    )
    assert len(stored) == 3


def test_a_retired_model_stops_the_analysis_before_any_call_naming_the_live_ones(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    retired = analyzer.model_copy(update={"model": "gemini-2.5-flash"})

    with pytest.raises(AnalyzerConfigurationError) as raised:
        retired.analyze(videos({"video_id": "1", "is_slideshow": True}), LOG)

    message = str(raised.value)
    assert "'gemini-2.5-flash' is retired" in message and "GEMINI_MODEL" in message
    assert "gemini-3.5-flash" in message and "gemini-3.1-flash-lite" in message
    assert "gemini-embedding-001" not in message  # listed, but not for generateContent
    assert fake_gemini.generate_calls == 0


def test_an_upload_gemini_cannot_process_is_deleted_and_recorded(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, fake_apify: FakeApify
) -> None:
    fake_gemini.final_file_state = "FAILED"
    urls = video_urls(fake_apify, {"big": LARGE})

    result = analyzer.analyze(videos({"video_id": "9", "video_url": urls["big"]}), LOG)

    [error] = result.errors
    assert error.permanent and "could not process" in error.error
    assert fake_gemini.files == [] and fake_gemini.generate_calls == 0


def test_a_video_given_up_on_is_not_paid_for_again(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    fake_gemini.on_generate(lambda request_json: GenerateScript(block_reason="SAFETY"))
    batch = videos({"video_id": "7", "is_slideshow": True})
    analyzer.analyze(batch, LOG)
    calls = fake_gemini.generate_calls

    again = analyzer.analyze(batch, LOG)

    assert fake_gemini.generate_calls == calls
    [error] = again.errors
    assert error.permanent and "blocked" in error.error


def test_a_video_failing_three_runs_in_a_row_stops_blocking_its_partition(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini
) -> None:
    def always_overloaded(request_json: dict) -> GenerateScript:
        raise GeminiApiError(503, "overloaded")

    fake_gemini.on_generate(always_overloaded)
    batch = videos({"video_id": "3", "is_slideshow": True})

    runs = [analyzer.analyze(batch, LOG) for _ in range(3)]
    calls_after_three = fake_gemini.generate_calls
    fourth = analyzer.analyze(batch, LOG)

    assert [len(run.retryable_errors) for run in runs] == [1, 1, 0]
    assert runs[2].errors[0].permanent and fourth.errors[0].permanent
    assert fake_gemini.generate_calls == calls_after_three  # the fourth run made no call
