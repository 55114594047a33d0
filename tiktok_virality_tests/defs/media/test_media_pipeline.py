"""A batch scraped and analysed live by Dagster against the fakes as the services are today: the
actor's notes about accounts land in `errors` in its own words, the downloaded videos are copied
into the media cache right after the scrape, and analysis reads them from there, not from Apify.
(A re-analysis after Apify deleted the store: `test_media_analysis.py`.)"""

from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.config import Settings, load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.analysis.assets import video_analyses
from tiktok_virality.defs.datasets.error_log import DatasetError
from tiktok_virality.defs.datasets.operations import add_accounts
from tiktok_virality.defs.scraping.assets import scrape_batch
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality.warehouse.storage import read_rows
from tiktok_virality_tests.fakes.apify import NO_VIDEOS_NOTE, PRIVATE_PROFILE_NOTE, FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.helpers import real_items

BATCH = VideoPartition("v1", "b001")
VIDEO_RECORDS = r"^/v2/key-value-stores/[^/]+/records/video-"


@pytest.fixture
def settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_apify: FakeApify, fake_gemini: FakeGemini
) -> Settings:
    environment = {
        "TIKTOK_VIRALITY_DATA_DIR": str(tmp_path / "data"),
        "APIFY_API_TOKEN": "apify-token-5e0b",
        "APIFY_API_URL": fake_apify.url,
        "GOOGLE_API_KEY": "gemini-key-77aa",
        "GEMINI_API_URL": fake_gemini.url,
        "GEMINI_REQUESTS_PER_MINUTE": "60000",
        "GEMINI_TOKENS_PER_MINUTE": "1000000000",
        "GEMINI_RETRY_DELAY_SECONDS": "0.01",
    }
    for name, value in environment.items():  # the credentials resolve from the environment
        monkeypatch.setenv(name, value)
    return load_settings(environment)


def video_record_gets(fake: FakeApify) -> int:
    return len(fake.requests_to("GET", VIDEO_RECORDS))


@pytest.mark.slow  # a Dagster run of a batch's scrape and analysis
def test_notes_land_in_errors_and_analysis_reads_the_media_cache(
    settings: Settings,
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    apify_fixtures: Path,
) -> None:
    fake_apify.items_by_profile = {"meenitech": real_items(apify_fixtures)}
    fake_apify.notes_by_profile = {"locked": PRIVATE_PROFILE_NOTE, "empty": NO_VIDEOS_NOTE}
    resources = build_resources(settings, offline=False)
    migrate(settings.database, STORE_SCHEMAS)
    with dg.DagsterInstance.ephemeral() as instance:
        add_accounts(instance, resources["registry"], "v1", ["meenitech", "locked", "empty"])
        result = dg.materialize(
            [scrape_batch, video_analyses],
            instance=instance,
            resources=resources,
            partition_key=BATCH.key,
        )

    assert result.success
    assert resources["error_log"].errors("v1") == [
        DatasetError("b001", "empty", "scraping", NO_VIDEOS_NOTE, permanent=True),
        DatasetError("b001", "locked", "scraping", PRIVATE_PROFILE_NOTE, permanent=True),
    ]
    [run] = fake_apify.runs
    downloaded = [item["id"] for item in run.items if "mediaUrls" in item]
    media = resources["media_cache"]
    assert downloaded and media.cached_ids(downloaded) == set(downloaded)
    # Each file fetched once from Apify, by the copy; the analysis read none of them there.
    assert video_record_gets(fake_apify) == len(downloaded)
    kinds = dict(
        read_rows(
            settings.database,
            "SELECT video_id, input_kind FROM video_analyses",
            table="video_analyses",
        )
    )
    accepted = sorted(kinds)  # the videos quality control kept, all watched
    assert set(kinds.values()) == {"video"} and set(accepted) <= set(downloaded)
