"""The CLI says what things are: a file that is not an Apify export, a dataset's kind and origin,
what bounds an export's videos, and what to fix before a retry can pass."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.cli.describe import describe_contents, describe_model
from tiktok_virality.cli.main import main
from tiktok_virality.cli.retry_hints import credential_to_fix, retry_hint
from tiktok_virality.cli.runner import PHASES, DatasetRunOutcome, PlannedRun, run_partition
from tiktok_virality.config import load_settings
from tiktok_virality.core.errors import describe_error
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.definitions import build_definitions
from tiktok_virality.defs.analysis.gemini_failures import AnalyzerConfigurationError
from tiktok_virality.defs.datasets.dataset import Dataset, DatasetSource, ScrapeLimits
from tiktok_virality.defs.datasets.operations import create_sample_dataset
from tiktok_virality.defs.scraping.apify import ScrapeRunError
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.defs.scraping.sources import OfflineModeError
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.helpers import accounts_file, assert_refused_writing_nothing

QUALITY = "quality: at least 1000 views, at most 180 days old"


# --- a file that is not an Apify TikTok export --------------------------------------------------


def test_a_file_that_is_no_apify_export_is_refused_saying_what_was_expected(
    existing_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spreadsheet = tmp_path / "people.csv"
    spreadsheet.write_text("name,age\nann,3\nbob,4\n", encoding="utf-8")
    other_actor = tmp_path / "shop.json"
    other_actor.write_text('[{"title": "mug", "price": 3}, {"title": "cup"}]', encoding="utf-8")

    errors = assert_refused_writing_nothing(
        existing_data,
        [["dataset", "import", "--dataset", "x", str(path)] for path in (spreadsheet, other_actor)],
        capsys,
    )

    for path, fields, error in zip(
        (spreadsheet, other_actor), ("'name', 'age'", "'title', 'price'"), errors, strict=True
    ):
        assert error.startswith(
            f"error: {path}: this does not look like an Apify TikTok export: expected items "
            "with an `id` and TikTok fields such as `authorMeta.name`"
        )
        assert f"the file's items have the fields {fields}." in error
        assert "name no account" not in error


# --- dataset list and show ----------------------------------------------------------------------


def test_list_and_show_say_what_each_dataset_is_and_what_bounds_its_videos(
    data_dir: Path, apify_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    settings.dagster_home.mkdir(parents=True)
    migrate(settings.database, STORE_SCHEMAS)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        registry = build_resources(settings, offline=True)["registry"]
        create_sample_dataset(instance, registry, "demo", now=datetime(2025, 7, 8, 10, tzinfo=UTC))
    export = apify_fixtures / "profile_export_2024.csv"
    scraped_at = "2024-09-30T12:00:00+00:00"
    imported = ["dataset", "import", "--dataset", "csv", str(export), "--scraped-at", scraped_at]
    assert main(imported) == 0
    assert main(["dataset", "create", "--dataset", "v1", "alpha", "bravo"]) == 0
    capsys.readouterr()

    assert main(["dataset", "list"]) == 0
    kinds = [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines()]
    for dataset in ("demo", "csv", "v1"):
        assert main(["dataset", "show", "--dataset", dataset]) == 0
    shown = capsys.readouterr().out.splitlines()

    assert kinds == [["csv", "export"], ["demo", "sample"], ["v1", "accounts"]]
    assert shown[:3] == [
        "dataset demo: the bundled sample (made-up accounts, generated offline)",
        f"120 videos of 9 accounts; batch size 5; {QUALITY}",
        "scraped 2025-07-08 10:00 UTC (as given); ages count from it",
    ]
    assert shown[5:8] == [
        "dataset csv: imported from the Apify export profile_export_2024.csv",
        # The export's error row (an account that does not exist) is an account, not a video.
        f"68 videos of 2 accounts; batches of up to 500 videos; {QUALITY}",
        "scraped 2024-09-30 12:00 UTC (as given); ages count from it",
    ]
    assert shown[9:11] == [
        "dataset v1: accounts to scrape with Apify",
        f"batch size 5, 15 videos per account, at most 500 videos; {QUALITY}",
    ]


def export_dataset(limits: ScrapeLimits) -> Dataset:
    now = datetime(2025, 7, 8, 10, tzinfo=UTC)
    return Dataset(
        name="fit",
        source=DatasetSource.EXPORT,
        origin="export fit.json",
        batch_size=3,
        limits=limits,
        created_at=now,
        updated_at=now,
        export_scraped_at=now,
        thresholds=QualityThresholds(),
    )


def test_an_exports_limits_are_shown_only_once_lowered_below_its_videos() -> None:
    videos = {"alpha": 12, "bravo": 4}

    as_imported = describe_contents(export_dataset(ScrapeLimits(12, 16)), videos)
    fewer_per_account = describe_contents(export_dataset(ScrapeLimits(5, 16)), videos)
    fewer_in_all = describe_contents(export_dataset(ScrapeLimits(12, 10)), videos)

    assert as_imported == "16 videos of 2 accounts; batch size 3"
    assert fewer_per_account == f"{as_imported}; kept: the latest 5 per account, at most 16 in all"
    assert fewer_in_all == f"{as_imported}; kept: the latest 12 per account, at most 10 in all"


@pytest.mark.parametrize(
    ("videos", "said"),
    [
        (
            0,
            "no video passed quality control (`tiktok-virality status --dataset old` shows how "
            "many were scraped and rejected)",
        ),
        (4, "1 account(s) with labelled videos: cross-validation by account needs at least 2"),
    ],
)
def test_a_model_without_any_video_says_so_rather_than_counting_accounts(
    videos: int, said: str
) -> None:
    reason = "1 account(s) with labelled videos: cross-validation by account needs at least 2"
    metadata = {"evaluated": False, "videos": videos, "reason": reason}
    model = DatasetRunOutcome("old", success=True, seconds=1.0, metadata=metadata, error=None)

    assert describe_model(model) == f"model of old not evaluated: {said}"


# --- what to fix before a retry ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "credential"),
    [
        (OfflineModeError("dataset 'v1' is a list of accounts to scrape"), "APIFY_API_TOKEN"),
        (
            ScrapeRunError("scraping v1/b001 failed: ApifyApiError: Authentication token is not"),
            "APIFY_API_TOKEN",
        ),
        (
            AnalyzerConfigurationError("Apify refused the scraped video files: check "),
            "GOOGLE_API_KEY or GEMINI_API_KEY (or GEMINI_MODEL)",
        ),
        (
            AnalyzerConfigurationError("Apify refused the files (HTTP 401): check APIFY_API_TOKEN"),
            "APIFY_API_TOKEN",
        ),
        (ScrapeRunError("the Apify run of v1/b001 ended FAILED"), None),
        (TimeoutError("the database is locked"), None),
    ],
)
def test_a_failure_that_needs_a_credential_names_it(
    error: Exception, credential: str | None
) -> None:
    assert credential_to_fix(describe_error(error)) == credential


def test_a_plain_failure_is_only_retried() -> None:
    assert retry_hint("ScrapeRunError: the run ended FAILED") == "[retry with --retry-failed]"


def test_status_says_to_set_the_token_before_retrying_a_scrape_made_without_one(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a partition materialized from `dagster dev` run without APIFY_API_TOKEN."""
    assert main(["dataset", "create", "--dataset", "v1", "alpha"]) == 0
    settings = load_settings()
    resources = build_resources(settings, offline=False)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        planned = PlannedRun(VideoPartition("v1", "b001"), PHASES)
        assert not run_partition(instance, build_definitions(resources), planned).success
    capsys.readouterr()

    assert main(["status", "--dataset", "v1"]) == 0

    [error_line] = [line for line in capsys.readouterr().out.splitlines() if "b001 -" in line]
    assert error_line.startswith("  b001 - scraping: OfflineModeError: ")
    assert error_line.endswith(
        "  [set or correct APIFY_API_TOKEN (environment or .env) first, then --retry-failed]"
    )


def test_a_run_refused_by_apify_for_its_token_says_to_correct_it_before_retrying(
    data_dir: Path,
    tmp_path: Path,
    fake_apify: FakeApify,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_apify.required_token = "the-right-token"
    monkeypatch.setenv("APIFY_API_URL", fake_apify.url)
    monkeypatch.setenv("APIFY_API_TOKEN", "a-wrong-token")
    accounts = accounts_file(tmp_path, "alpha")

    assert main(["run", "--dataset", "live", "--accounts", str(accounts)]) == 1

    said = capsys.readouterr().out.splitlines()
    hint = "set or correct APIFY_API_TOKEN (environment or .env) first"
    assert said[said.index("failed: live/b001") + 1 :] == [
        hint,
        "retry them with: tiktok-virality run --dataset live --retry-failed",
    ]
    assert main(["status", "--dataset", "live"]) == 0
    assert "[set or correct APIFY_API_TOKEN" in capsys.readouterr().out
