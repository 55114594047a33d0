from datetime import UTC, datetime, timedelta

from tiktok_virality.core.errors import RecordedError, describe_error
from tiktok_virality.defs.scraping.batch import NO_VIDEOS, account_errors, process_batch
from tiktok_virality.defs.scraping.normalize import ItemError
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.defs.scraping.quality_rules import QualityRule
from tiktok_virality.defs.scraping.sources import ScrapeRequest

SCRAPED_AT = datetime(2025, 7, 8, tzinfo=UTC)
REQUEST = ScrapeRequest(
    dataset="v1",
    batch="b001",
    accounts=("alpha", "bravo", "ghost", "quiet"),
    videos_per_account=2,
    max_videos=100,
    max_age_days=180,
)


def item(video_id: int, account: str, views: int, days_old: int) -> dict:
    created = SCRAPED_AT - timedelta(days=days_old)
    return {
        "id": str(7_500_000_000_000_000_000 + video_id),
        "input": f"@{account}",
        "playCount": views,
        "createTime": int(created.timestamp()),
        "authorMeta": {"name": account},
    }


ITEMS = [
    item(1, "alpha", 5000, 1),
    item(2, "alpha", 500, 2),  # too few views
    item(3, "alpha", 5000, 3),
    item(4, "alpha", 5000, 4),  # beyond 2 per account once the low-view one is set aside
    item(5, "bravo", 9000, 400),  # too old
    {
        "url": "https://www.tiktok.com/@ghost",
        "input": "ghost",
        "error": "This profile does not exist.",
    },
]


def test_quality_control_comes_before_the_per_account_limit() -> None:
    batch = process_batch(
        ITEMS, request=REQUEST, scraped_at=SCRAPED_AT, thresholds=QualityThresholds()
    )

    assert batch.accepted["video_id"].str[-1].tolist() == ["1", "3"]
    assert batch.left_out_by_limits == 1
    assert batch.rejected["rejection_reasons"].map(list).tolist() == [["min_views"], ["max_age"]]
    assert batch.failures_by_rule[QualityRule.MIN_VIEWS] == 1
    assert batch.failures_by_rule[QualityRule.MAX_AGE] == 1


def test_every_account_without_videos_gets_a_permanent_error() -> None:
    batch = process_batch(
        ITEMS, request=REQUEST, scraped_at=SCRAPED_AT, thresholds=QualityThresholds()
    )

    assert batch.errors == [
        RecordedError("ghost", "This profile does not exist.", permanent=True),
        RecordedError("quiet", NO_VIDEOS, permanent=True),
    ]


def test_an_account_whose_only_video_was_rejected_is_not_reported_missing() -> None:
    # bravo's one video is too old: it is in rejected_videos, so bravo did return something.
    errors = account_errors(
        ["bravo"],
        [ItemError(account=None, url=None, error="item without id")],
        process_batch(
            ITEMS[4:5], request=REQUEST, scraped_at=SCRAPED_AT, thresholds=QualityThresholds()
        ).rejected,
    )

    assert errors == [RecordedError(None, "item without id", permanent=True)]


def test_error_descriptions_are_short_single_line_and_mask_secrets() -> None:
    body = "Unexpected error: <html>\n" + "x" * 5000 + "\nAuthorization: Bearer s3cret</html>"
    error = RuntimeError("upstream said s3cret " + body)

    described = describe_error(error, secrets=["s3cret"])

    assert described.startswith("RuntimeError: upstream said *** Unexpected error: <html>")
    assert "s3cret" not in described and "\n" not in described
    assert len(described) <= 300
