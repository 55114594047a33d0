"""What a refresh pays Apify, through Dagster's scrape of a batch against the fake Apify with
downloads on (Gemini watches the videos): the first scrape downloads every video in one run; a
refresh downloads only the video posted since, by a second run, both runs' charges land in the
cost ledger, and a retry of the refresh starts no run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.config import load_settings
from tiktok_virality.defs.datasets.operations import add_accounts
from tiktok_virality.defs.scraping.assets import scrape_batch
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.apify_growth import GrowingProfiles, GrowingVideo
from tiktok_virality_tests.fakes.apify_pricing import VIDEO_DOWNLOAD_EVENT
from tiktok_virality_tests.helpers import query

# Whole hours before now: every scrape time is in the past, and within the ledger's reuse hours.
BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=10)
KNOWN = [
    GrowingVideo("alice", f"7{n:018d}", BASE - timedelta(hours=10 * n), 100) for n in (1, 2, 3)
]
NEW = GrowingVideo("alice", f"7{4:018d}", BASE + timedelta(hours=2), 100)


@pytest.mark.slow  # three Dagster runs of a batch's scrape
def test_a_refresh_pays_downloads_only_for_its_new_video(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_apify: FakeApify
) -> None:
    environment = {
        "TIKTOK_VIRALITY_DATA_DIR": str(tmp_path / "data"),
        "APIFY_API_TOKEN": "apify-token-0c4e",
        "APIFY_API_URL": fake_apify.url,
        "GOOGLE_API_KEY": "gemini-key-a1f3",  # Gemini watches the videos: they are downloaded
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(environment)
    migrate(settings.database, STORE_SCHEMAS)
    resources = build_resources(settings, offline=False)
    profiles = GrowingProfiles([*KNOWN, NEW], now=BASE)
    fake_apify.on_run(profiles)

    with dg.DagsterInstance.ephemeral() as instance:
        add_accounts(
            instance,
            resources["registry"],
            "v1",
            ["alice"],
            thresholds=QualityThresholds(min_views=0),
        )

        def scrape() -> bool:
            return dg.materialize(
                [scrape_batch], instance=instance, resources=resources, partition_key="b001|v1"
            ).success

        assert scrape()
        profiles.advance(6)
        resources["tracking"].request_refresh(
            "v1", requested_at=BASE + timedelta(hours=6), origin="test"
        )
        assert scrape()
        assert scrape()  # the refresh again, as a retry would

    first, batch_run, downloads_run = fake_apify.runs
    charged_downloads = [run.charges.counts.get(VIDEO_DOWNLOAD_EVENT, 0) for run in fake_apify.runs]
    assert charged_downloads == [3, 0, 1]
    assert downloads_run.input["postURLs"] == [
        f"https://www.tiktok.com/@alice/video/{NEW.video_id}"
    ]
    assert resources["media_cache"].cached_ids(v.video_id for v in [*KNOWN, NEW]) == {
        v.video_id for v in [*KNOWN, NEW]
    }
    # Each run's charges recorded once, whatever the retry.
    data = tmp_path / "data"
    assert sorted(query(data, "SELECT unit_id FROM costs")) == sorted(
        (run.id,) for run in (first, batch_run, downloads_run)
    )
    # The new video's row says where its file was downloaded, as the first scrape's do.
    assert query(
        data,
        f"SELECT video_url LIKE '%/records/%' FROM raw_videos WHERE video_id = '{NEW.video_id}'",
    ) == [(True,)]
