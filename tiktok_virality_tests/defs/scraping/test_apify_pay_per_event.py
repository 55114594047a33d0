"""The pay-per-event actor through the real apify-client, against the fake Apify as it is today:
the cap on every start, the paid add-ons asked for only when needed, the run's charges and the
actor's prices, and the downloaded videos copied into the media cache right after the run."""

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apify_client._models import PayPerEventActorPricingInfo

from tiktok_virality.config import load_settings
from tiktok_virality.defs.media.cache import MEDIA_CACHE_SCHEMA, MediaCache
from tiktok_virality.defs.scraping.apify import ApifyVideoSource
from tiktok_virality.defs.scraping.apify_actor import current_event_prices, key_value_record
from tiktok_virality.defs.scraping.ledger import SCRAPE_LEDGER_SCHEMA, ScrapeLedger
from tiktok_virality.defs.scraping.sources import ActorRunCharges, ScrapeRequest
from tiktok_virality.resources import apify_video_source, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify, default_video_file
from tiktok_virality_tests.fakes.apify_pricing import (
    RESULT_EVENT,
    START_EVENT,
    VIDEO_DOWNLOAD_EVENT,
)

TOKEN = "apify-canary-token-9d1e"
LOG = logging.getLogger("test")
RUNS = r"^/v2/actors/clockworks~tiktok-scraper/runs$"
RECORDS = r"^/v2/key-value-stores/[^/]+/records/video-"
REQUEST = ScrapeRequest(
    dataset="v1",
    batch="b001",
    accounts=("alice", "bob"),
    videos_per_account=15,
    max_videos=500,
    max_age_days=180,
    max_charge_usd=0.25,
)


def posts(account: str, count: int) -> list[dict]:
    """Videos of the account, with ids of their own (digits, as TikTok's)."""
    number = int.from_bytes(account.encode()) % 10**6
    return [
        {"id": f"7{number:06d}{i:03d}", "authorMeta": {"name": account}, "text": f"{i}"}
        for i in range(count)
    ]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    database = tmp_path / "data.duckdb"
    migrate(database, [SCRAPE_LEDGER_SCHEMA, MEDIA_CACHE_SCHEMA])
    return database


@pytest.fixture
def media(database: Path, tmp_path: Path) -> MediaCache:
    return MediaCache(database=str(database), directory=str(tmp_path / "media"), max_bytes=10**9)


def source_of(fake: FakeApify, database: Path, **replaced: object) -> ApifyVideoSource:
    return apify_video_source(
        load_settings({}),
        ScrapeLedger(database=str(database)),
        token=TOKEN,
        api_url=fake.url,
        max_retries=3,
        min_retry_delay_seconds=0.001,
        **replaced,
    )


def test_every_start_carries_the_cap_even_a_retried_one(
    fake_apify: FakeApify, database: Path
) -> None:
    fake_apify.items_by_profile = {"alice": posts("alice", 3), "bob": posts("bob", 2)}
    fake_apify.fail_next("POST", RUNS, 429, times=2)

    fetched = source_of(fake_apify, database).fetch(REQUEST, LOG)

    starts = fake_apify.requests_to("POST", RUNS)
    assert [start.query.get("maxTotalChargeUsd") for start in starts] == ["0.25"] * 3
    [run] = fake_apify.runs
    assert fetched.charges == (
        ActorRunCharges(
            actor_id="clockworks/tiktok-scraper",
            run_id=run.id,
            charged_event_counts={START_EVENT: 1, RESULT_EVENT: 5},
            usage_total_usd=pytest.approx(run.usage_total_usd),
        ),
    )


def test_a_run_stopped_at_its_cap_returns_what_it_wrote_and_charged(
    fake_apify: FakeApify, database: Path
) -> None:
    fake_apify.items_by_profile = {"alice": posts("alice", 10)}
    prices = {name: event.price_usd for name, event in fake_apify.pay_per_event.events.items()}
    cap = prices[START_EVENT] + 3 * prices[RESULT_EVENT]
    request = ScrapeRequest("v1", "b001", ("alice",), 15, 500, 180, max_charge_usd=cap)

    fetched = source_of(fake_apify, database).fetch(request, LOG)

    assert len(fetched.items) == 3
    [charges] = fetched.charges
    assert charges.charged_event_counts == {START_EVENT: 1, RESULT_EVENT: 3}
    assert charges.usage_total_usd == pytest.approx(cap)


def test_event_prices_are_the_actors_current_ones(fake_apify: FakeApify, database: Path) -> None:
    expected = {name: event.price_usd for name, event in fake_apify.pay_per_event.events.items()}

    assert source_of(fake_apify, database).event_prices() == expected
    fake_apify.pay_per_event = None  # an actor not paid per event has no event prices
    assert source_of(fake_apify, database).event_prices() == {}


@pytest.mark.parametrize(("gemini_key", "downloads"), [(None, False), ("gemini-key", True)])
def test_videos_are_downloaded_only_when_gemini_watches_them(
    fake_apify: FakeApify, tmp_path: Path, gemini_key: str | None, downloads: bool
) -> None:
    fake_apify.items_by_profile = {"alice": posts("alice", 2)}
    environment = {
        "TIKTOK_VIRALITY_DATA_DIR": str(tmp_path),
        "APIFY_API_TOKEN": TOKEN,
        "APIFY_API_URL": fake_apify.url,
    } | ({"GOOGLE_API_KEY": gemini_key} if gemini_key else {})
    settings = load_settings(environment)
    resources = build_resources(settings, offline=False)
    migrate(settings.database, [SCRAPE_LEDGER_SCHEMA, MEDIA_CACHE_SCHEMA])
    scraper = resources["scraper"].model_copy(update={"token": TOKEN})

    scraper.fetch(ScrapeRequest("v1", "b001", ("alice",), 15, 500, 180), LOG)

    [run] = fake_apify.runs
    assert run.input["shouldDownloadVideos"] is downloads
    assert (VIDEO_DOWNLOAD_EVENT in run.charges.counts) is downloads
    cached = resources["media_cache"].cached_ids(item["id"] for item in posts("alice", 2))
    assert len(cached) == (2 if downloads else 0)


def test_the_downloaded_files_are_copied_once_into_the_media_cache(
    fake_apify: FakeApify, database: Path, media: MediaCache
) -> None:
    fake_apify.items_by_profile = {"alice": posts("alice", 3), "bob": posts("bob", 2)}
    source = source_of(fake_apify, database, media_cache=media, download_videos=True)

    fetched = source.fetch(REQUEST, LOG)

    video_ids = [item["id"] for item in fetched.items]
    assert media.cached_ids(video_ids) == set(video_ids)
    assert media.path_for(video_ids[0]).read_bytes() == default_video_file(video_ids[0])
    assert len(fake_apify.requests_to("GET", RECORDS)) == 5
    for request in fake_apify.requests_to("GET", RECORDS):
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in request.path and "token" not in request.query

    # A retry of the batch reuses the run and copies nothing again.
    source.fetch(REQUEST, LOG)
    assert len(fake_apify.runs) == 1
    assert len(fake_apify.requests_to("GET", RECORDS)) == 5


def test_a_batch_retried_after_its_store_expired_copies_what_it_can(
    fake_apify: FakeApify,
    database: Path,
    media: MediaCache,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_apify.items_by_profile = {"alice": posts("alice", 2)}
    request = ScrapeRequest("v1", "b001", ("alice",), 15, 500, 180)
    source = source_of(fake_apify, database, media_cache=media, download_videos=True)
    source.fetch(request, LOG)
    media.prune(0)  # the copies pruned, and then the run's store expired
    fake_apify.expire_key_value_stores()

    with caplog.at_level(logging.INFO, logger=LOG.name):
        fetched = source.fetch(request, LOG)  # the reused run: its files are gone

    assert len(fetched.items) == 2
    assert media.cached_ids(item["id"] for item in fetched.items) == set()
    assert "0 video files copied (0.0 MB), 0 already cached, 2 not available" in caplog.text


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("https://api.apify.com/v2/key-value-stores/abc/records/video-7", ("abc", "video-7")),
        ("https://api.apify.com/v2/key-value-stores/abc/records/a%2Fb", ("abc", "a/b")),
        ("https://api.apify.com/v2/datasets/abc/items", None),
        ("https://v16-webapp.tiktok.com/video/7.mp4", None),
        ("http://api.apify.com/v2/key-value-stores/abc/records/video-7", None),
    ],
)
def test_only_the_actors_key_value_records_are_copied(
    url: str, location: tuple[str, str] | None
) -> None:
    assert key_value_record(url, "https://api.apify.com") == location


def test_the_prices_in_force_are_those_of_the_latest_started_pay_per_event_record() -> None:
    def record(started: str, price: float) -> PayPerEventActorPricingInfo:
        return PayPerEventActorPricingInfo.model_validate(
            {
                "pricingModel": "PAY_PER_EVENT",
                "apifyMarginPercentage": 0.2,
                "createdAt": started,
                "startedAt": started,
                "pricingPerEvent": {
                    "actorChargeEvents": {
                        "result": {
                            "eventTitle": "r",
                            "eventDescription": "r",
                            "eventPriceUsd": price,
                        },
                        "tiered": {
                            "eventTitle": "t",
                            "eventDescription": "t",
                            "eventTieredPricingUsd": {"FREE": {"tieredEventPriceUsd": 0.1}},
                        },
                    }
                },
            }
        )

    records = [
        record("2025-01-01T00:00:00Z", 0.003),
        record("2026-06-01T00:00:00Z", 0.002),  # in force
        record("2027-01-01T00:00:00Z", 0.001),  # announced, not yet in force
    ]

    # A tiered event has no one price: left out rather than guessed.
    assert current_event_prices(records, datetime(2026, 12, 7, tzinfo=UTC)) == {"result": 0.002}
    assert current_event_prices(None, datetime(2026, 12, 7, tzinfo=UTC)) == {}
