from datetime import UTC, datetime
from pathlib import Path

import pytest

from tiktok_virality.defs.scraping.scrape_time import (
    ScrapeTime,
    ScrapeTimeBasis,
    console_download_time,
    infer_scrape_time,
    posted_at,
)

NOW = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
ITEMS = [
    {"id": "1", "createTime": 1_658_000_000},  # 2022-07-16 19:33:20 UTC
    {"id": "2", "createTimeISO": "2022-07-20T08:00:00.000Z"},
    {"id": "3", "createTime": "not a time"},
    {"error": "This hashtag does not exist."},
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "dataset_tiktok-scraper_2022-07-27_14-03-22-417.csv",
            datetime(2022, 7, 27, 14, 3, 22, 417_000, tzinfo=UTC),
        ),
        (
            "dataset_free-tiktok-scraper_2024-09-15_06-00-01-000.json",
            datetime(2024, 9, 15, 6, 0, 1, tzinfo=UTC),
        ),
        # A browser's second download of the same file.
        (
            "dataset_tiktok-scraper_2022-07-27_14-03-22-417 (1).csv",
            datetime(2022, 7, 27, 14, 3, 22, 417_000, tzinfo=UTC),
        ),
        ("trending.json", None),
        ("dataset_tiktok-scraper.csv", None),
        ("dataset_tiktok-scraper_2022-13-27_14-03-22-417.csv", None),  # no 13th month
        ("my_dataset_tiktok-scraper_2022-07-27_14-03-22-417.csv", None),
    ],
)
def test_the_console_file_name_gives_the_download_time(
    name: str, expected: datetime | None
) -> None:
    assert console_download_time(name) == expected


def test_the_file_name_wins_over_the_videos() -> None:
    path = Path("downloads/dataset_tiktok-scraper_2022-07-27_14-03-22-417.csv")

    assert infer_scrape_time(path, ITEMS, now=NOW) == ScrapeTime(
        datetime(2022, 7, 27, 14, 3, 22, 417_000, tzinfo=UTC), ScrapeTimeBasis.FILE_NAME
    )


def test_without_a_console_name_the_newest_usable_posting_time_is_the_lower_bound() -> None:
    inferred = infer_scrape_time(Path("trending.json"), ITEMS, now=NOW)

    assert inferred == ScrapeTime(
        datetime(2022, 7, 20, 8, tzinfo=UTC), ScrapeTimeBasis.NEWEST_VIDEO
    )
    assert "lower bound" in inferred.describe()


def test_a_posting_time_after_the_import_is_no_bound() -> None:
    items = [*ITEMS, {"id": "4", "createTimeISO": "2031-01-01T00:00:00Z"}]

    inferred = infer_scrape_time(Path("trending.json"), items, now=NOW)

    assert inferred.at == datetime(2022, 7, 20, 8, tzinfo=UTC)


def test_without_any_posting_time_it_is_the_import_time() -> None:
    inferred = infer_scrape_time(Path("export.csv"), [{"id": "1"}], now=NOW)

    assert inferred == ScrapeTime(NOW, ScrapeTimeBasis.IMPORT_TIME)
    assert inferred.describe().startswith("scraped 2025-07-08 10:00 UTC (the import time")


def test_posting_times_are_read_as_the_normalizer_reads_them() -> None:
    assert posted_at({"createTime": "1658000000"}) == datetime(2022, 7, 16, 19, 33, 20, tzinfo=UTC)
    assert posted_at({"createTime": 1_658_000_000_000}) is None  # milliseconds: unusable
    assert posted_at({"createTimeISO": "2022-07-20T08:00:00"}) == datetime(
        2022, 7, 20, 8, tzinfo=UTC
    )
    assert posted_at({"authorMeta": {"name": "a"}}) is None
