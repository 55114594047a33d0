"""Tracking's parts on their own: the store's append-once snapshots and once-per-video alerts, the
outlier rule against hand-computed baselines, the alert reaching a local webhook once and without
its secret, the cadence, the schedule's tick, the refresh in the scrape ledger's key, and the
sample's history."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition, register_partitions
from tiktok_virality.definitions import build_definitions
from tiktok_virality.defs.scraping.apify import input_fingerprint
from tiktok_virality.defs.tracking.alerts import baseline_frame, outlier_alerts
from tiktok_virality.defs.tracking.cadence import parse_cadence
from tiktok_virality.defs.tracking.channel import AlertChannel
from tiktok_virality.defs.tracking.refresh import REFRESH_TAG
from tiktok_virality.defs.tracking.schedule import REFRESH_SCHEDULE
from tiktok_virality.defs.tracking.scrape import post_alerts
from tiktok_virality.defs.tracking.snapshots import sample_history, snapshot_rows
from tiktok_virality.defs.tracking.store import TrackingStore
from tiktok_virality.defs.tracking.tables import TRACKING_SCHEMA
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.webhook import FakeWebhook

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SECRET = "webhook-secret-canary-41c7"
LOG = logging.getLogger("test")


@pytest.fixture
def tracking(tmp_path: Path) -> TrackingStore:
    database = tmp_path / "tracking.duckdb"
    migrate(database, [TRACKING_SCHEMA])
    return TrackingStore(database=str(database))


def raw_videos(*rows: tuple[str, str, int, float]) -> pd.DataFrame:
    """(account, video id, views, age in hours) scraped at NOW."""
    return pd.DataFrame(
        [
            {
                "dataset": "v1",
                "batch": "b001",
                "account": account,
                "video_id": video_id,
                "url": f"https://www.tiktok.com/@{account}/video/{video_id}",
                "play_count": views,
                "like_count": views // 10,
                "comment_count": 1,
                "share_count": 2,
                "save_count": None,
                "author_followers": 5_000,
                "created_at": NOW - timedelta(hours=age),
                "scraped_at": NOW,
            }
            for account, video_id, views, age in rows
        ]
    )


def test_a_scrape_is_snapshotted_once_whatever_retries_happen(tracking: TrackingStore) -> None:
    scrape = snapshot_rows(raw_videos(("alice", "1", 100, 5.0), ("alice", "2", 50, 30.0)), 0)

    assert tracking.record_snapshots(scrape) == 2
    assert tracking.record_snapshots(scrape) == 0  # the retry of the same scrape
    later = scrape.assign(scraped_at=NOW + timedelta(hours=6), views=[400, 60], refresh=1)
    assert tracking.record_snapshots(later) == 2
    stored = tracking.snapshots("v1")
    assert stored[["video_id", "views", "age_hours"]].values.tolist() == [
        ["1", 100, 5.0],
        ["1", 400, 5.0],
        ["2", 50, 30.0],
        ["2", 60, 30.0],
    ]


def test_refresh_numbers_grow_and_a_tick_asked_again_gets_the_same(
    tracking: TrackingStore,
) -> None:
    assert tracking.current_refresh("v1") == 0
    first = tracking.request_refresh("v1", requested_at=NOW, origin="schedule")
    again = tracking.request_refresh("v1", requested_at=NOW, origin="schedule")
    second = tracking.request_refresh("v1", requested_at=NOW + timedelta(hours=6), origin="cli")

    assert (first, again, second, tracking.current_refresh("v1")) == (1, 1, 2, 2)


def test_a_refresh_is_a_new_paid_run_and_its_retry_the_same() -> None:
    run_input = {"profiles": ["alice"], "resultsPerPage": 15}

    assert input_fingerprint(run_input) == input_fingerprint(run_input, 0)
    assert len({input_fingerprint(run_input, n) for n in (0, 1, 2)}) == 3
    assert input_fingerprint(run_input, 2) == input_fingerprint(dict(run_input), 2)


def test_outliers_are_young_videos_at_k_times_their_baseline() -> None:
    videos = raw_videos(
        # alice's median is 1,100: 4,400 at 10 h is an outlier (×4), 5,500 at 60 h too old.
        ("alice", "1", 1_000, 100.0),
        ("alice", "2", 900, 100.0),
        ("alice", "3", 1_100, 120.0),
        ("alice", "4", 4_400, 10.0),
        ("alice", "5", 5_500, 60.0),
        ("bob", "6", 10, 5.0),
    )
    alerts = outlier_alerts(baseline_frame(videos), pd.DataFrame(), multiple=3.0, max_age_hours=48)

    assert alerts[["video_id", "views", "baseline_views", "baseline"]].values.tolist() == [
        ["4", 4_400, 1_100.0, "account_median"]
    ]
    assert alerts["multiple"].tolist() == [4.0]
    # bob, with one video and no peer line (fewer than 10 videos), has no baseline: no alert.


def test_an_alert_reaches_the_channel_once_without_its_secret(
    tracking: TrackingStore, fake_webhook: FakeWebhook, caplog: pytest.LogCaptureFixture
) -> None:
    videos = raw_videos(
        ("alice", "1", 1_000, 100.0), ("alice", "2", 900, 90.0), ("alice", "3", 9_000, 6.0)
    )
    alerts = outlier_alerts(baseline_frame(videos), pd.DataFrame())
    channel = AlertChannel(url=fake_webhook.url(SECRET))
    partition = VideoPartition("v1", "b001")
    log = LOG

    posted = []
    for _ in range(3):  # three scrapes find the same outlier
        tracking.record_alerts(alerts, now=NOW)
        posted.append(post_alerts(tracking, channel, partition, log))

    assert posted == [1, 0, 0]
    ((path, posted),) = fake_webhook.posts
    assert path == f"/{SECRET}" and "9,000 views" in posted["message"]
    assert SECRET not in json.dumps(posted) and SECRET not in caplog.text


def test_an_unreachable_channel_keeps_the_alert_for_the_next_scrape(
    tracking: TrackingStore, caplog: pytest.LogCaptureFixture
) -> None:
    videos = raw_videos(
        ("alice", "1", 1_000, 100.0), ("alice", "2", 900, 90.0), ("alice", "3", 9_000, 6.0)
    )
    tracking.record_alerts(outlier_alerts(baseline_frame(videos), pd.DataFrame()), now=NOW)
    # A port nothing listens on (a receiver's, once it is closed).
    closed = FakeWebhook()
    closed.server_close()
    channel = AlertChannel(url=closed.url(SECRET))

    assert post_alerts(tracking, channel, VideoPartition("v1", "b001"), LOG) == 0
    assert len(tracking.alerts("v1", unnotified_only=True)) == 1
    assert "not posted" in caplog.text and SECRET not in caplog.text


@pytest.mark.parametrize(
    ("text", "hours"), [("6h", 6.0), ("1d", 24.0), ("90m", 1.5), ("1.5H", 1.5)]
)
def test_cadences(text: str, hours: float) -> None:
    assert parse_cadence(text) == hours


@pytest.mark.parametrize("text", ["6", "h", "30m", "0h", "-1d", "6 hours"])
def test_cadences_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"cadence|hourly"):
        parse_cadence(text)


def test_a_tick_requests_a_run_per_batch_of_each_due_dataset(tmp_path: Path) -> None:
    settings = load_settings({"TIKTOK_VIRALITY_DATA_DIR": str(tmp_path)})
    migrate(settings.database, STORE_SCHEMAS)
    resources = build_resources(settings, offline=True)
    defs = build_definitions(resources)
    registry, tracking = resources["registry"], resources["tracking"]
    registry.add_accounts("v1", ["a", "b", "c"], batch_size=2)
    registry.add_accounts("quiet", ["d"])
    tracking.track("v1", 6.0, now=NOW)
    tracking.track("quiet", 24.0, now=NOW)
    schedule = defs.resolve_schedule_def(REFRESH_SCHEDULE)

    with dg.instance_for_test() as instance:
        register_partitions(instance, ["v1", "quiet"], ["b001", "b002"])

        def tick(at: datetime) -> dg.ScheduleExecutionData:
            return schedule.evaluate_tick(
                dg.build_schedule_context(
                    instance=instance,
                    scheduled_execution_time=at,
                    resources={"tracking": tracking, "registry": registry},
                    repository_def=defs.get_repository_def(),
                )
            )

        early = tick(NOW + timedelta(hours=5))
        due = tick(NOW + timedelta(hours=6))
        again = tick(NOW + timedelta(hours=6))
        next_refresh = tick(NOW + timedelta(hours=12))

    assert early.skip_message == "no tracked dataset is due for a refresh"
    assert [(r.run_key, r.tags[REFRESH_TAG]) for r in due.run_requests] == [
        ("v1/b001/refresh-1", "1"),
        ("v1/b002/refresh-1", "1"),
    ]
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in due.run_requests]
    assert [r.run_key for r in next_refresh.run_requests] == [
        "v1/b001/refresh-2",
        "v1/b002/refresh-2",
    ]
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_sample_gets_a_deterministic_history_that_grows() -> None:
    final = snapshot_rows(raw_videos(("alice", "1", 10_000, 30.0), ("alice", "2", 500, 8.0)), 0)
    history = sample_history(final)

    first = history[history["video_id"] == "1"].sort_values("age_hours")
    assert first["age_hours"].tolist() == [6.0, 12.0, 18.0, 24.0]  # posted 30 h before
    assert first["views"].is_monotonic_increasing and first["views"].max() < 10_000
    assert history[history["video_id"] == "2"]["age_hours"].tolist() == [2.0]
    assert history.equals(sample_history(final))
