"""Downloads only for new videos, through the real apify-client against the fake Apify: a first
scrape is one run with downloads; a refresh whose known videos are cached is a run without
downloads and one downloading exactly the new videos, both charged to the cost ledger, and a
retry of it starts no run."""

import logging
from pathlib import Path

import pytest

from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.costs.estimate import PlannedScrape, scrape_estimate, scrape_runs
from tiktok_virality.defs.costs.ledger import COST_LEDGER_SCHEMA, CostLedger
from tiktok_virality.defs.costs.scraping import record_actor_run
from tiktok_virality.defs.media.cache import MEDIA_CACHE_SCHEMA, MediaCache
from tiktok_virality.defs.scraping.apify import ApifyVideoSource, ScrapeRunError
from tiktok_virality.defs.scraping.ledger import SCRAPE_LEDGER_SCHEMA, ScrapeLedger
from tiktok_virality.defs.scraping.sources import ScrapeRequest, SourceItems
from tiktok_virality.resources import apify_video_source
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify, default_video_file
from tiktok_virality_tests.fakes.apify_pricing import (
    RESULT_EVENT,
    START_EVENT,
    VIDEO_DOWNLOAD_EVENT,
)
from tiktok_virality_tests.helpers import DATABASE_FILE, query

TOKEN = "apify-canary-token-51c7"
LOG = logging.getLogger("test")
RECORDS = r"^/v2/key-value-stores/[^/]+/records/video-"
FIRST = ScrapeRequest("v1", "b001", ("alice",), 10, 100, 180)
PARTITION = VideoPartition("v1", "b001")


def video(number: int, *, slideshow: bool = False) -> dict:
    video_id = f"7{number:018d}"
    return {
        "id": video_id,
        "authorMeta": {"name": "alice"},
        "webVideoUrl": f"https://www.tiktok.com/@alice/video/{video_id}",
        "isSlideshow": slideshow,
    }


KNOWN = [video(1), video(2), video(3, slideshow=True)]
NEW = video(4)


def refresh_of(known: list[dict]) -> ScrapeRequest:
    return ScrapeRequest(
        "v1",
        "b001",
        ("alice",),
        10,
        100,
        180,
        refresh=1,
        known_videos=frozenset(item["id"] for item in known),
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    migrate(
        tmp_path / DATABASE_FILE, [SCRAPE_LEDGER_SCHEMA, MEDIA_CACHE_SCHEMA, COST_LEDGER_SCHEMA]
    )
    return tmp_path


@pytest.fixture
def media(data: Path) -> MediaCache:
    database = str(data / DATABASE_FILE)
    return MediaCache(database=database, directory=str(data / "media"), max_bytes=10**9)


@pytest.fixture
def source(fake_apify: FakeApify, data: Path, media: MediaCache) -> ApifyVideoSource:
    return apify_video_source(
        load_settings({}),
        ScrapeLedger(database=str(data / DATABASE_FILE)),
        token=TOKEN,
        api_url=fake_apify.url,
        media_cache=media,
        download_videos=True,
        max_retries=1,
        min_retry_delay_seconds=0.001,
    )


def downloads_charged(fake_apify: FakeApify) -> list[int]:
    return [run.charges.counts.get(VIDEO_DOWNLOAD_EVENT, 0) for run in fake_apify.runs]


def scrape_first(fake_apify: FakeApify, source: ApifyVideoSource) -> SourceItems:
    fake_apify.items_by_profile = {"alice": list(KNOWN)}
    return source.fetch(FIRST, LOG)


def test_a_first_scrape_is_one_run_downloading_every_video(
    fake_apify: FakeApify, source: ApifyVideoSource, media: MediaCache
) -> None:
    fetched = scrape_first(fake_apify, source)

    [run] = fake_apify.runs
    assert run.input["shouldDownloadVideos"] is True and "postURLs" not in run.input
    assert downloads_charged(fake_apify) == [2]  # the slideshow has no video file
    assert [charges.run_id for charges in fetched.charges] == [run.id]
    assert media.cached_ids(item["id"] for item in KNOWN) == {KNOWN[0]["id"], KNOWN[1]["id"]}


def test_a_refresh_downloads_only_its_new_video_and_a_retry_starts_no_run(
    fake_apify: FakeApify, source: ApifyVideoSource, media: MediaCache, data: Path
) -> None:
    scrape_first(fake_apify, source)
    fake_apify.items_by_profile = {"alice": [*KNOWN, NEW]}
    ledger = CostLedger(database=str(data / DATABASE_FILE))

    fetched = source.fetch(refresh_of(KNOWN), LOG)
    record_actor_run(ledger, PARTITION, fetched.charges)

    _, batch_run, downloads_run = fake_apify.runs
    assert batch_run.input["shouldDownloadVideos"] is False
    assert batch_run.charges.counts == {START_EVENT: 1, RESULT_EVENT: 4}
    assert downloads_run.input["postURLs"] == [NEW["webVideoUrl"]]
    assert downloads_run.input["shouldDownloadVideos"] is True
    assert downloads_run.charges.counts == {
        START_EVENT: 1,
        RESULT_EVENT: 1,
        VIDEO_DOWNLOAD_EVENT: 1,
    }
    assert downloads_charged(fake_apify) == [2, 0, 1]
    cached = media.path_for(NEW["id"])
    assert cached is not None and cached.read_bytes() == default_video_file(NEW["id"])
    # The batch's items are the profile scrape's; the new video's links to its downloaded file.
    assert {item["id"]: "mediaUrls" in item for item in fetched.items} == {
        **{item["id"]: False for item in KNOWN},
        NEW["id"]: True,
    }
    # Both runs' charges, Apify's own figures, in the cost ledger.
    assert query(data, "SELECT unit_id, usd FROM costs ORDER BY recorded_at, unit_id") == [
        (batch_run.id, pytest.approx(batch_run.usage_total_usd)),
        (downloads_run.id, pytest.approx(downloads_run.usage_total_usd)),
    ]

    # A retry of the refresh reuses both runs: nothing is started or charged again.
    again = source.fetch(refresh_of(KNOWN), LOG)
    record_actor_run(ledger, PARTITION, again.charges)

    assert len(fake_apify.runs) == 3
    assert again.charges == fetched.charges
    assert query(data, "SELECT count(*) FROM costs") == [(2,)]


def test_a_retry_after_the_new_videos_copy_failed_reuses_the_downloads_run(
    fake_apify: FakeApify, source: ApifyVideoSource, media: MediaCache
) -> None:
    scrape_first(fake_apify, source)
    fake_apify.items_by_profile = {"alice": [*KNOWN, NEW]}
    # The new video's file cannot be read, the client's retry included: the attempt fails.
    fake_apify.fail_next("GET", RECORDS, 500, times=2)
    with pytest.raises(ScrapeRunError):
        source.fetch(refresh_of(KNOWN), LOG)
    assert media.cached_ids([NEW["id"]]) == set()

    fetched = source.fetch(refresh_of(KNOWN), LOG)

    assert len(fake_apify.runs) == 3 and downloads_charged(fake_apify) == [2, 0, 1]
    assert media.cached_ids([NEW["id"]]) == {NEW["id"]}
    assert [charges.run_id for charges in fetched.charges] == [r.id for r in fake_apify.runs[1:]]


def test_a_refresh_without_new_videos_is_one_run_without_downloads(
    fake_apify: FakeApify, source: ApifyVideoSource
) -> None:
    scrape_first(fake_apify, source)

    fetched = source.fetch(refresh_of(KNOWN), LOG)

    assert len(fake_apify.runs) == 2 and downloads_charged(fake_apify) == [2, 0]
    assert len(fetched.charges) == 1


def test_a_scrape_of_uncached_known_videos_downloads_in_its_one_run(
    fake_apify: FakeApify, source: ApifyVideoSource
) -> None:
    fake_apify.items_by_profile = {"alice": [*KNOWN, NEW]}

    source.fetch(refresh_of(KNOWN), LOG)  # known from a scrape whose files were never copied

    [run] = fake_apify.runs
    assert run.input["shouldDownloadVideos"] is True and downloads_charged(fake_apify) == [3]


def test_estimates_count_downloads_only_for_uncached_videos() -> None:
    assert scrape_runs(PlannedScrape(5), download=True) == [(5, 5)]
    assert scrape_runs(PlannedScrape(5, cached=4), download=True) == [(5, 0), (1, 1)]
    assert scrape_runs(PlannedScrape(5, cached=5), download=True) == [(5, 0)]
    assert scrape_runs(PlannedScrape(5, cached=4), download=False) == [(5, 0)]
    prices = {START_EVENT: 0.01, RESULT_EVENT: 0.1, VIDEO_DOWNLOAD_EVENT: 1.0}
    estimate = scrape_estimate(
        prices, [PlannedScrape(5, cached=4), PlannedScrape(2)], download=True, date_filter=False
    )
    assert (estimate.actor_runs, estimate.results, estimate.downloads) == (3, 8, 3)
    assert estimate.usd == pytest.approx(3 * 0.01 + 8 * 0.1 + 3 * 1.0)
