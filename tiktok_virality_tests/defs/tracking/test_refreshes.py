"""Tracking end to end against the fake Apify and Gemini: a first scrape, then three refreshes,
each asked for by a tick of the refresh schedule in a test instance and run as Dagster would run
its requests, with the counts growing on a controlled clock. Snapshots accumulate exactly,
retries included; velocity equals hand-computed values; a new video joins its batch; no video is
analysed twice; the outlier's alert reaches a local webhook once, without the URL's secret."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import register_partitions
from tiktok_virality.definitions import VIDEO_PIPELINE_JOB, build_definitions
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.defs.tracking.refresh import REFRESH_TAG
from tiktok_virality.defs.tracking.schedule import REFRESH_SCHEDULE
from tiktok_virality.resources import (
    STORE_SCHEMAS,
    apify_video_source,
    build_resources,
)
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.apify_growth import GrowingProfiles, GrowingVideo
from tiktok_virality_tests.fakes.gemini import (
    FakeGemini,
    GeminiApiError,
    GenerateHandler,
    GenerateScript,
    request_text,
)
from tiktok_virality_tests.fakes.webhook import FakeWebhook
from tiktok_virality_tests.helpers import fake_gemini_analyzer, query

APIFY_TOKEN = "apify-token-canary-3f1e"
WEBHOOK_SECRET = "hook-secret-canary-9d2b"
# Whole hours before now, so that every scrape time is in the past and within a day (the ledger
# reuses a run that finished within its reuse hours).
BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=20)


def video(account: str, number: int, posted_hours: float, rate: float) -> GrowingVideo:
    return GrowingVideo(account, f"7{number:018d}", BASE + timedelta(hours=posted_hours), rate)


EARLY = video("alice", 1, -20, 300)  # seen at 20, 26, 32 and 38 h of age
OUTLIER = video("alice", 4, -2, 5000)
NEW = video("alice", 5, 8, 50)  # posted between the first and the second refresh
VIDEOS = [
    EARLY,
    video("alice", 2, -60, 100),
    video("alice", 3, -100, 100),
    OUTLIER,
    NEW,
    video("bob", 6, -40, 10),
    video("bob", 7, -60, 10),
    video("bob", 8, -5, 10),
]


# A first scrape and three refreshes with two retries: whole runs, a minute on a busy machine.
@pytest.mark.slow
def test_three_refreshes_accumulate_snapshots_velocity_new_videos_and_one_alert(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    fake_webhook: FakeWebhook,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("TIKTOK_VIRALITY_DATA_DIR", str(data))
    monkeypatch.setenv("APIFY_API_TOKEN", APIFY_TOKEN)
    monkeypatch.setenv("TIKTOK_VIRALITY_ALERT_URL", fake_webhook.url(f"alerts/{WEBHOOK_SECRET}"))
    settings = load_settings()
    settings.dagster_home.mkdir(parents=True)
    migrate(settings.database, STORE_SCHEMAS)
    profiles = GrowingProfiles(VIDEOS, now=BASE)
    fake_apify.on_run(profiles)

    resources = build_resources(settings, offline=False)
    resources["scraper"] = apify_video_source(
        settings,
        resources["scrape_ledger"],
        api_url=fake_apify.url,
        max_retries=1,
        min_retry_delay_seconds=0.01,
    )
    resources["analyzer"] = fake_gemini_analyzer(
        settings, resources["analysis_cache"], fake_gemini, retry_attempts=1
    )
    defs = build_definitions(resources)
    job = defs.resolve_job_def(VIDEO_PIPELINE_JOB)
    schedule = defs.resolve_schedule_def(REFRESH_SCHEDULE)
    registry, tracking = resources["registry"], resources["tracking"]
    registry.add_accounts("v1", ["alice", "bob"], thresholds=QualityThresholds(min_views=0))

    with dg.instance_for_test() as instance:
        register_partitions(instance, ["v1"], registry.batches("v1"))

        def run(partition_key: str | dg.MultiPartitionKey, tags: dict[str, str]) -> bool:
            return job.execute_in_process(
                instance=instance, partition_key=partition_key, tags=tags, raise_on_error=False
            ).success

        def tick(hours: float) -> list[dg.RunRequest] | dg.SkipReason:
            context = dg.build_schedule_context(
                instance=instance,
                scheduled_execution_time=BASE + timedelta(hours=hours),
                resources={"tracking": tracking, "registry": registry},
                repository_def=defs.get_repository_def(),
            )
            result = schedule.evaluate_tick(context)
            return result.run_requests or result.skip_message

        # The first scrape, then tracking every 6 hours.
        assert run("b001|v1", {})
        tracking.track("v1", 6.0, now=BASE)
        assert tick(3) == "no tracked dataset is due for a refresh"

        calls = [fake_gemini.generate_calls]
        for refresh_hours in (6, 12, 18):
            profiles.advance(6)
            requests = tick(refresh_hours)
            assert [r.run_key for r in tick(refresh_hours)] == [r.run_key for r in requests]
            (request,) = requests
            assert request.tags[REFRESH_TAG] == str(refresh_hours // 6)
            if refresh_hours == 12:
                # The run's items cannot be read, then Gemini fails the new video: each retry
                # reuses the refresh's paid run and stores its snapshot once.
                fake_apify.fail_next("GET", r"/items", 500, times=2)
                assert not run(request.partition_key, request.tags)
                fake_gemini.on_generate(_failing_for(fake_gemini, NEW.video_id))
                assert not run(request.partition_key, request.tags)
                fake_gemini.on_generate(None)
            assert run(request.partition_key, request.tags)
            calls.append(fake_gemini.generate_calls)

    # One paid run per scrape, retries included.
    assert len(fake_apify.runs) == 4
    assert query(
        data, "SELECT scraped_at, count(*) FROM video_snapshots GROUP BY 1 ORDER BY 1"
    ) == [
        (BASE + timedelta(hours=hours), videos)
        for hours, videos in ((0, 7), (6, 7), (12, 8), (18, 8))
    ]
    # The new video joined; the raw videos are the last scrape's.
    assert query(data, "SELECT count(*), max(scraped_at) FROM raw_videos") == [
        (8, BASE + timedelta(hours=18))
    ]
    # Each video analysed once: 7 at first, the new one at the second refresh (after a failure).
    assert calls[0] == 7 and calls[1] == calls[0] and calls[3] == calls[2]
    assert query(data, "SELECT count(*) FROM video_analyses") == [(8,)]
    assert fake_gemini.generate_calls - calls[1] == calls[2] - calls[1] >= 1
    # Hand-computed velocity of the early video: 6000, 7350, 7800 and 8250 views at 20, 26, 32 and
    # 38 h (300 an hour over its first day, 75 after).
    assert query(
        data,
        "SELECT snapshots, views_per_hour, views_gained_since_previous, views_at_24h, "
        f"views_at_48h, early_views_per_hour FROM video_features WHERE video_id = '{EARLY.video_id}'",
    ) == [(4, 75.0, 450, pytest.approx(6900.0), None, 300.0)]
    # The outlier: 40,000 views at 8 h against alice's median of 11,850 (×3.4), alerted once.
    assert query(data, "SELECT video_id, views, baseline, notified_at IS NOT NULL FROM alerts") == [
        (OUTLIER.video_id, 40_000, "account_median", True)
    ]
    assert len(fake_webhook.posts) == 1
    path, posted = fake_webhook.posts[0]
    assert path == f"/alerts/{WEBHOOK_SECRET}"
    assert OUTLIER.video_id in posted["message"] and "40,000 views" in posted["message"]
    assert WEBHOOK_SECRET not in json.dumps(posted) and WEBHOOK_SECRET not in caplog.text


def _failing_for(fake_gemini: FakeGemini, video_id: str) -> GenerateHandler:
    """Gemini overloaded for one video's requests, answering the others."""

    def handler(request_json: dict) -> GenerateScript:
        if video_id in request_text(request_json):
            raise GeminiApiError(503, "overloaded")
        return fake_gemini.default_generate_handler(request_json)

    return handler
