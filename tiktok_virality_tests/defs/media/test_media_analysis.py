"""Analysis after Apify deleted the scrape run's key-value store: the videos copied into the media
cache right after the scrape are watched from there (no request to Apify at all); a video whose
copy is lost falls back to its metadata, and the analyzer says so."""

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tiktok_virality.config import load_settings
from tiktok_virality.defs.analysis.cache import AnalysisCache
from tiktok_virality.defs.media.cache import MEDIA_CACHE_SCHEMA, MediaCache
from tiktok_virality.defs.scraping.ledger import SCRAPE_LEDGER_SCHEMA, ScrapeLedger
from tiktok_virality.defs.scraping.normalize import normalize_items
from tiktok_virality.defs.scraping.sources import ScrapeRequest
from tiktok_virality.resources import apify_video_source, gemini_analyzer
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini

TOKEN = "apify-canary-token-41c0"
LOG = logging.getLogger("test")
VIDEO_RECORDS = r"^/v2/key-value-stores/[^/]+/records/video-"
VIDEO_IDS = [f"75000000000000000{i:02d}" for i in range(4)]


@pytest.fixture
def media(tmp_path: Path) -> MediaCache:
    database = tmp_path / "data.duckdb"
    migrate(database, [SCRAPE_LEDGER_SCHEMA, MEDIA_CACHE_SCHEMA])
    return MediaCache(database=str(database), directory=str(tmp_path / "media"), max_bytes=10**9)


def test_videos_analysed_after_apify_deleted_them_come_from_the_media_cache(
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    media: MediaCache,
    cache: AnalysisCache,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_apify.items_by_profile = {
        "alice": [{"id": video_id, "authorMeta": {"name": "alice"}} for video_id in VIDEO_IDS]
    }
    source = apify_video_source(
        load_settings({}),
        ScrapeLedger(database=media.database),
        token=TOKEN,
        api_url=fake_apify.url,
        media_cache=media,
        download_videos=True,
    )
    fetched = source.fetch(ScrapeRequest("v1", "b001", ("alice",), 15, 500, 180), LOG)
    videos = normalize_items(
        fetched.items, dataset="v1", batch="b001", scraped_at=datetime.now(UTC)
    ).videos
    copies = len(fake_apify.requests_to("GET", VIDEO_RECORDS))
    fake_apify.expire_key_value_stores()
    fake_apify.clear_requests()
    analyzer = gemini_analyzer(
        load_settings({}),
        cache,
        api_key="gemini-key",
        base_url=fake_gemini.url,
        requests_per_minute=60_000,
        tokens_per_minute=10**9,
        apify_token=TOKEN,
        apify_api_url=fake_apify.url,
        media_cache=media,
    )

    first = analyzer.analyze(videos, LOG).analyses

    assert copies == len(VIDEO_IDS)
    assert fake_apify.requests == []  # nothing asked of Apify: every file came from the cache
    assert set(first["input_kind"]) == {"video"}
    assert fake_gemini.generate_calls == len(VIDEO_IDS)

    # A re-analysis with another model, one copy lost meanwhile: only that video is asked of
    # Apify, which no longer has it; it is analysed from its metadata, and the log says so.
    media.path_for(VIDEO_IDS[0]).unlink()
    other_model = analyzer.model_copy(update={"model": "gemini-3.1-flash-lite"})
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        second = other_model.analyze(videos, LOG).analyses

    kinds = dict(zip(second["video_id"], second["input_kind"], strict=True))
    assert kinds == {VIDEO_IDS[0]: "metadata"} | dict.fromkeys(VIDEO_IDS[1:], "video")
    assert len(fake_apify.requests_to("GET", VIDEO_RECORDS)) == 1
    assert "1 videos analysed from their metadata" in caplog.text
    assert VIDEO_IDS[0] in caplog.text
