"""Real exports of any age and shape, as a new user imports and runs them: a 2022 hashtag scrape
downloaded from the Apify console (many authors of one or two videos, some videos older than six
months) and a 2020 trending scrape in the legacy schema (no follower counts)."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.defs.scraping.exports import write_export_json
from tiktok_virality_tests.helpers import query
from tiktok_virality_tests.synthetic_exports import (
    HASHTAG_EXPORT_NAME,
    HASHTAG_SCRAPED_AT,
    LEGACY_NEWEST_VIDEO,
    hashtag_scrape_items,
    legacy_trending_items,
    write_console_csv,
)

# Slow: `pytest -m slow` runs it (CI does), the default suite does not (pyproject.toml).
pytestmark = pytest.mark.slow


@pytest.fixture
def hashtag_export(tmp_path: Path) -> Path:
    return write_console_csv(hashtag_scrape_items(videos=300), tmp_path / HASHTAG_EXPORT_NAME)


@pytest.fixture
def legacy_export(tmp_path: Path) -> Path:
    path = tmp_path / "trending.json"
    write_export_json(legacy_trending_items(videos=200), path)
    return path


def test_a_console_export_is_dated_by_its_file_name(
    data_dir: Path, hashtag_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "import", "--dataset", "booktok", str(hashtag_export)]) == 0

    printed = capsys.readouterr().out
    assert "scraped 2022-07-27 14:03 UTC (from the Apify console's file name)" in printed
    assert query(data_dir, "SELECT export_scraped_at, export_scraped_at_basis FROM datasets") == [
        (HASHTAG_SCRAPED_AT, "file_name")
    ]
    assert main(["dataset", "show", "--dataset", "booktok"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert "; batches of up to 500 videos;" in shown[1]
    assert shown[2].startswith("scraped 2022-07-27 14:03 UTC (from the Apify console's file name)")


def test_a_legacy_export_is_dated_by_its_newest_video_as_a_lower_bound(
    data_dir: Path, legacy_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "import", "--dataset", "trending", str(legacy_export)]) == 0

    assert (
        "scraped 2020-12-08 18:30 UTC (the newest video's posting time: a lower bound"
        in capsys.readouterr().out
    )
    assert query(data_dir, "SELECT export_scraped_at, export_scraped_at_basis FROM datasets") == [
        (LEGACY_NEWEST_VIDEO, "newest_video")
    ]


def test_scraped_at_overrides_what_the_file_says(
    data_dir: Path, hashtag_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = HASHTAG_SCRAPED_AT + timedelta(days=2)
    imported = ["dataset", "import", "--dataset", "booktok", str(hashtag_export)]

    assert main([*imported, "--scraped-at", given.isoformat()]) == 0

    assert "scraped 2022-07-29 14:03 UTC (as given)" in capsys.readouterr().out
    assert query(data_dir, "SELECT export_scraped_at FROM datasets") == [(given,)]


def test_export_batches_hold_whole_accounts_by_volume(
    data_dir: Path, hashtag_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imported = ["dataset", "import", str(hashtag_export), "--dataset"]

    assert main([*imported, "byvolume", "--batch-videos", "100"]) == 0
    assert main([*imported, "byaccounts", "--batch-size", "10"]) == 0

    videos_per_batch = query(
        data_dir,
        "SELECT a.dataset, a.batch, count(*) FROM dataset_accounts a JOIN export_items i "
        "USING (dataset, account) GROUP BY ALL ORDER BY ALL",
    )
    by_volume = [videos for dataset, _, videos in videos_per_batch if dataset == "byvolume"]
    assert sum(by_volume) == 300 and len(by_volume) == 3
    assert all(96 <= videos <= 100 for videos in by_volume)  # whole accounts of 1 to 3 videos
    accounts_per_batch = query(
        data_dir,
        "SELECT count(*) FROM dataset_accounts WHERE dataset = 'byaccounts' GROUP BY batch",
    )
    assert max(accounts_per_batch) == (10,)
    assert query(data_dir, "SELECT dataset, batch_videos, batch_size FROM datasets ORDER BY 1") == [
        ("byaccounts", None, 10),
        ("byvolume", 100, 5),
    ]


def expected_kept(items: list[dict], scraped_at: datetime) -> tuple[int, int, int]:
    """(kept, older than 180 days, fewer than 1,000 views) by the default rules."""
    old = {i["id"] for i in items if scraped_at - posted(i) > timedelta(days=180)}
    few = {i["id"] for i in items if i["playCount"] < 1000}
    return len(items) - len(old | few), len(old), len(few)


def posted(item: dict) -> datetime:
    return datetime.fromtimestamp(item["createTime"], UTC)


def test_a_2022_hashtag_export_keeps_the_right_videos_and_says_why_without_any_flag(
    data_dir: Path, hashtag_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept, old, few = expected_kept(hashtag_scrape_items(videos=300), HASHTAG_SCRAPED_AT)
    assert kept > 150 and old > 50 and few > 0  # the export is shaped as the test needs
    main(["dataset", "import", "--dataset", "booktok", str(hashtag_export)])

    assert main(["run", "--dataset", "booktok", "--offline"]) == 0

    printed = capsys.readouterr().out
    assert query(data_dir, "SELECT count(*) FROM video_features") == [(kept,)]
    assert (
        f"left out by quality control: {old} older than 180 days before the scrape on "
        f"2022-07-27; {few} with fewer than 1,000 views" in printed
    )
    assert main(["status", "--dataset", "booktok"]) == 0
    assert (
        f"  left out by quality control: {old} older than 180 days before the scrape on "
        "2022-07-27" in capsys.readouterr().out
    )
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        metadata = [
            event.asset_materialization.metadata  # type: ignore[union-attr]
            for event in instance.fetch_materializations(
                dg.AssetKey("raw_videos"), limit=10
            ).records
        ]
    assert sum(m["rejected_by_rule"].value["max_age"] for m in metadata) == old  # type: ignore[index]
    assert all("older than 180 days" in m["left_out"].value for m in metadata)  # type: ignore[operator]


def test_a_run_that_keeps_nothing_says_which_rule_and_which_flag(
    data_dir: Path, hashtag_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imported = ["dataset", "import", "--dataset", "late", str(hashtag_export)]
    main([*imported, "--batch-videos", "150", "--scraped-at", "2025-01-01T00:00:00+00:00"])

    assert main(["run", "--dataset", "late", "--offline"]) == 0

    printed = capsys.readouterr().out
    assert printed.count("nothing kept: max_age rejected the most (see --max-age-days)") == 2
    assert (
        "left out by quality control: 300 older than 180 days before the scrape on 2025-01-01"
        in printed
    )
    assert (
        "nothing kept: max_age rejected the most; --max-age-days N on `tiktok-virality run`"
        in printed
    )
    assert query(data_dir, "SELECT count(*) FROM rejected_videos") == [(300,)]
    report = (data_dir / "reports" / "late.html").read_text(encoding="utf-8")
    assert (
        "Left out by quality control: 300 older than 180 days before the scrape on 2025-01-01"
        in report
    )


@pytest.mark.parametrize(
    ("export", "basis"), [("hashtag_export", "followers_and_age"), ("legacy_export", "age")]
)
def test_every_kept_video_has_a_label_and_its_basis(
    data_dir: Path, export: str, basis: str, request: pytest.FixtureRequest
) -> None:
    main(["dataset", "import", "--dataset", "shape", str(request.getfixturevalue(export))])

    assert main(["run", "--dataset", "shape", "--offline"]) == 0

    kept = query(data_dir, "SELECT count(*) FROM video_features")[0][0]
    by_basis = dict(
        query(data_dir, "SELECT label_basis, count(*) FROM video_predictions GROUP BY ALL")
    )
    assert sum(by_basis.values()) == kept
    assert by_basis[basis] > kept / 2  # most authors have one or two videos
    assert set(by_basis) <= {basis, "account_median"}
    assert query(data_dir, "SELECT count(*) FROM video_predictions WHERE viral IS NULL") == [(0,)]
    report = (data_dir / "reports" / "shape.html").read_text(encoding="utf-8")
    assert f"for {by_basis[basis]} videos, what" in report


def test_an_export_model_is_evaluated_with_intervals_and_in_time_order(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_console_csv(hashtag_scrape_items(videos=900), tmp_path / HASHTAG_EXPORT_NAME)
    main(["dataset", "import", "--dataset", "booktok", str(export)])

    assert main(["run", "--dataset", "booktok", "--offline"]) == 0

    printed = capsys.readouterr().out
    assert re.search(
        r"model of booktok in [\d.]+ s: ROC-AUC 0\.\d\d \(95% CI 0\.\d\d–0\.\d\d\) against "
        r"0\.\d\d for followers alone, on \d+ videos \(\d+ viral\); trained on older videos, on "
        r"the \d+ newest: 0\.\d\d \(95% CI 0\.\d\d–[01]\.\d\d\)",
        printed,
    )
    [(too_small, intervals, time_ordered)] = query(
        data_dir, "SELECT too_small, metric_intervals, time_ordered FROM model_runs"
    )
    assert too_small is None
    low, high = json.loads(intervals)["model_roc_auc"]
    assert 0.5 < low < high < 1
    assert json.loads(time_ordered)["reason"] is None
    drivers = query(
        data_dir,
        "SELECT having_it, videos_with, ratio_low, ratio, ratio_high FROM drivers ORDER BY rank",
    )
    assert len(drivers) == 8
    assert all(n > 0 and low <= ratio <= high for _, n, low, ratio, high in drivers if ratio)
    report = (data_dir / "reports" / "booktok.html").read_text(encoding="utf-8")
    assert "Trained on older videos, tested on newer ones" in report
    assert 'id="drivers-table"' in report and "the model explains" in report
