"""The actor's own words about an account without videos: its `note` items and its error items
with an `errorCode` are recorded per account as it says them, never as "the item has no id"."""

from datetime import UTC, datetime

import pytest

from tiktok_virality.core.errors import RecordedError
from tiktok_virality.defs.scraping.batch import process_batch
from tiktok_virality.defs.scraping.normalize import ItemError, normalize_items
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.defs.scraping.sources import ScrapeRequest
from tiktok_virality_tests.fakes.apify import (
    DATE_FILTER_NOTE,
    NO_VIDEOS_NOTE,
    PRIVATE_PROFILE_NOTE,
)

SCRAPED_AT = datetime(2026, 12, 1, tzinfo=UTC)


def note(account: str, text: str) -> dict:
    """A note item as the TikTok scraper writes it for a profile it scraped no videos of."""
    return {"url": f"https://www.tiktok.com/@{account}", "input": account, "note": text}


def test_each_note_is_recorded_for_its_account_in_the_actors_words() -> None:
    items = [
        note("locked", PRIVATE_PROFILE_NOTE),
        note("empty", NO_VIDEOS_NOTE),
        note("dormant", DATE_FILTER_NOTE),
    ]
    request = ScrapeRequest("v1", "b001", ("locked", "empty", "dormant"), 15, 500, 180)

    batch = process_batch(
        items, request=request, scraped_at=SCRAPED_AT, thresholds=QualityThresholds()
    )

    assert batch.errors == [
        RecordedError("locked", PRIVATE_PROFILE_NOTE, permanent=True),
        RecordedError("empty", NO_VIDEOS_NOTE, permanent=True),
        RecordedError("dormant", DATE_FILTER_NOTE, permanent=True),
    ]
    assert not any("has no id" in error.error for error in batch.errors)


@pytest.mark.parametrize(
    ("item", "said"),
    [
        (
            {"input": "gone", "error": "This profile/hashtag does not exist.", "errorCode": 404},
            "This profile/hashtag does not exist. (errorCode 404)",
        ),
        ({"input": "gone", "errorCode": "PROFILE_BANNED"}, "not a video: errorCode PROFILE_BANNED"),
        (
            {"input": "gone", "note": "Profile is private", "errorCode": "PRIVATE"},
            "Profile is private (errorCode PRIVATE)",
        ),
        ({"input": "gone", "note": "  "}, "not a video: the item has no id"),
    ],
)
def test_an_error_code_is_kept_with_the_actors_text(item: dict, said: str) -> None:
    [error] = normalize_items([item], dataset="v1", batch="b001", scraped_at=SCRAPED_AT).errors

    assert error == ItemError(account="gone", url=None, error=said)
