"""The CLI as a user runs it: offline run, resume, refusals before any work, dataset commands,
and a live run against the fake Apify API."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.cli.main import EXIT_USAGE, main
from tiktok_virality.cli.runner import PHASES, PlannedRun, run_partition
from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.definitions import DATASET_JOB, build_definitions
from tiktok_virality.defs.datasets.operations import create_sample_dataset
from tiktok_virality.defs.scraping.batch import NO_VIDEOS
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.helpers import accounts_file, query, recent_copies


def run_count(data_dir: Path) -> int:
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        return len(instance.get_run_records())


@pytest.mark.slow  # whole CLI runs of the demo: `pytest -m slow`
def test_an_offline_run_creates_the_demo_and_a_second_run_does_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--dataset", "demo", "--offline"]) == 0
    first = capsys.readouterr().out
    assert "created dataset 'demo' from the bundled sample: 9 accounts in 2 batches" in first
    assert "2 partitions materialized, 0 failed" in first
    # Every scraped video is either accepted (and has features) or rejected with its reasons.
    assert query(
        data_dir,
        "SELECT (SELECT count(*) FROM raw_videos) + (SELECT count(*) FROM rejected_videos), "
        "(SELECT count(*) FROM video_features) = (SELECT count(*) FROM raw_videos)",
    ) == [(120, True)]
    assert "model of demo in" in first
    assert query(data_dir, "SELECT dataset, evaluated FROM model_runs") == [("demo", True)]
    assert run_count(data_dir) == 3  # a run per partition, and the model's with its report

    report = data_dir / "reports" / "demo.html"
    assert f"report: {report}" in first
    assert "<h2>The model against its baselines</h2>" in report.read_text(encoding="utf-8")

    assert main(["run", "--dataset", "demo", "--offline"]) == 0

    assert "2 partitions, 2 done, 0 to run" in capsys.readouterr().out
    assert run_count(data_dir) == 3
    assert main(["report", "--dataset", "demo", "--no-open"]) == 0
    assert capsys.readouterr().out == f"{report}\n"
    assert main(["report", "--dataset", "other", "--no-open"]) == EXIT_USAGE
    assert "no report of 'other' yet" in capsys.readouterr().err


def model_run_count(data_dir: Path) -> int:
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        return len(instance.get_run_records(filters=dg.RunsFilter(job_name=DATASET_JOB)))


@pytest.mark.slow  # whole CLI runs of the demo: `pytest -m slow`
def test_the_model_is_trained_once_after_the_partitions_and_not_on_a_rerun(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--dataset", "demo", "--offline"]) == 0
    first = capsys.readouterr().out
    assert main(["run", "--dataset", "demo", "--offline"]) == 0
    rerun = capsys.readouterr().out

    # After both partitions, as the model's declared automation requests it.
    assert first.count("model of demo") == 1
    assert first.index("2 partitions materialized") < first.index("model of demo")
    assert "model of demo" not in rerun
    assert model_run_count(data_dir) == 1


@pytest.mark.slow  # whole CLI runs of the demo: `pytest -m slow`
def test_a_model_missing_though_every_batch_is_done_is_made_by_the_next_run(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    settings.dagster_home.mkdir(parents=True)
    resources = build_resources(settings, offline=True)
    migrate(settings.database, STORE_SCHEMAS)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        create_sample_dataset(instance, resources["registry"], "demo")
        for batch in ("b001", "b002"):
            partition = PlannedRun(VideoPartition("demo", batch), PHASES)
            assert run_partition(instance, build_definitions(resources), partition).success

    assert main(["run", "--dataset", "demo", "--offline"]) == 0

    resumed = capsys.readouterr().out
    assert "2 partitions, 2 done, 0 to run" in resumed
    assert "model of demo in" in resumed
    assert model_run_count(data_dir) == 1


def test_without_a_token_a_scrape_stops_before_any_work(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = accounts_file(tmp_path, "@alpha")

    assert main(["run", "--dataset", "v1", "--accounts", str(accounts)]) == EXIT_USAGE

    message = capsys.readouterr().err
    assert "APIFY_API_TOKEN is not set" in message
    assert "--offline" in message
    assert not data_dir.exists()


def test_an_offline_run_refuses_a_dataset_that_needs_scraping(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = accounts_file(tmp_path, "@alpha", "bravo")
    assert main(["dataset", "create", "--dataset", "v1", "--accounts", str(accounts)]) == 0

    assert main(["run", "--dataset", "v1", "--offline"]) == EXIT_USAGE

    assert "cannot do" in capsys.readouterr().err
    assert run_count(data_dir) == 0


@pytest.mark.parametrize("name", ["../x", "V1", "a|b", "x'; DROP TABLE datasets; --"])
def test_an_invalid_dataset_name_is_refused_by_the_parser(
    data_dir: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--dataset", name, "--offline"])

    assert exited.value.code == 2
    assert "invalid dataset name" in capsys.readouterr().err
    assert not data_dir.exists()


def test_an_invalid_accounts_file_names_every_bad_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = accounts_file(tmp_path, "good", "not valid", "../etc")

    assert main(["dataset", "create", "--dataset", "v1", "--accounts", str(accounts)]) == EXIT_USAGE

    error = capsys.readouterr().err
    assert "'not valid'" in error and "'../etc'" in error
    assert main(["dataset", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_batch_plan_is_pinned_when_accounts_are_added_with_another_batch_size(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["dataset", "create", "--dataset", "v1", "--batch-size", "2", "a", "b", "c"])
    main(["dataset", "create", "--dataset", "v1", "--batch-size", "5", "c", "d", "e"])
    capsys.readouterr()

    assert main(["dataset", "show", "--dataset", "v1"]) == 0

    assert capsys.readouterr().out.splitlines()[2:] == ["b001\ta b", "b002\tc", "b003\td e"]


@pytest.mark.slow  # whole CLI runs of the demo: `pytest -m slow`
def test_an_imported_export_runs_offline(
    data_dir: Path, apify_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = apify_fixtures / "profile_items_2025.json"
    assert (
        main(
            [
                "dataset",
                "import",
                "--dataset",
                "meeni",
                str(export),
                "--scraped-at",
                "2025-07-08T10:55:10+00:00",
            ]
        )
        == 0
    )
    assert main(["run", "--dataset", "meeni", "--offline"]) == 0

    assert query(data_dir, "SELECT count(*), min(age_days) > 0 FROM video_features") == [(7, True)]
    # The three videos of the real export with fewer than 1,000 views are kept aside, with why.
    assert query(data_dir, "SELECT DISTINCT rejection_reasons FROM rejected_videos") == [
        (["min_views"],)
    ]
    assert query(data_dir, "SELECT count(*) FROM rejected_videos") == [(3,)]
    assert "1 partition materialized" in capsys.readouterr().out


def test_a_broken_export_is_refused_and_nothing_is_written(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "truncated.json"
    export.write_text('[{"id": "7524354452762037512", "text": "cut', encoding="utf-8")

    assert main(["dataset", "import", "--dataset", "broken", str(export)]) == EXIT_USAGE

    assert "truncated.json" in capsys.readouterr().err
    assert main(["dataset", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_offline_refuses_new_accounts_before_writing_anything(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = accounts_file(tmp_path, "alpha")

    assert main(["run", "--dataset", "v9", "--offline", "--accounts", str(accounts)]) == EXIT_USAGE

    assert "cannot do" in capsys.readouterr().err
    assert main(["dataset", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_batch_size_out_of_range_is_refused_by_the_parser(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--dataset", "demo", "--offline", "--batch-size", "0"])

    assert "between 1 and 10" in capsys.readouterr().err


@pytest.mark.slow  # whole CLI runs of the demo: `pytest -m slow`
def test_the_video_cap_leaves_later_batches_unscraped_until_raised(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--dataset", "demo", "--offline", "--max-total-videos", "50"]) == 0
    capped = capsys.readouterr().out
    assert "not scraped: demo/b002" in capped
    assert query(data_dir, "SELECT batch, count(*) FROM raw_videos GROUP BY batch") == [
        ("b001", 50)
    ]

    assert main(["run", "--dataset", "demo", "--offline", "--max-total-videos", "500"]) == 0

    assert query(data_dir, "SELECT batch, count(*) FROM raw_videos GROUP BY ALL ORDER BY 1") == [
        ("b001", 50),
        ("b002", 45),
    ]


KILLED_MID_PARTITION = """
import os, signal
import dagster as dg
from tiktok_virality.defs.datasets.operations import create_sample_dataset
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.definitions import build_definitions
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality.defs.analysis.analyzers import OfflineAnalyzer
from tiktok_virality.cli.runner import PHASES, PlannedRun, run_partition
from tiktok_virality.config import load_settings

class KilledWhileAnalysing(OfflineAnalyzer):
    def analyze(self, videos, log, **options):
        os.kill(os.getpid(), signal.SIGKILL)

settings = load_settings()
settings.dagster_home.mkdir(parents=True)
with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
    resources = {**build_resources(settings, offline=True), "analyzer": KilledWhileAnalysing()}
    migrate(settings.database, STORE_SCHEMAS)
    create_sample_dataset(instance, resources["registry"], "demo")
    run_partition(instance, build_definitions(resources), PlannedRun(VideoPartition("demo", "b001"), PHASES))
"""


@pytest.mark.slow  # whole CLI runs of the demo: `pytest -m slow`
def test_a_run_killed_mid_partition_is_resumed_by_the_next_run(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_PARTITION], capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]

    assert main(["run", "--dataset", "demo", "--offline"]) == 0

    resumed = capsys.readouterr().out
    assert "1 earlier run stopped without finishing" in resumed
    # The killed partition from its analysis on (its scrape was stored), then the other one.
    assert "[1/2] demo/b001 done" in resumed
    assert "analysis 72 rows, features 72 rows" in resumed
    assert "scraping 72 rows" not in resumed
    assert query(
        data_dir,
        "SELECT (SELECT count(*) FROM raw_videos) + (SELECT count(*) FROM rejected_videos), "
        "(SELECT count(*) FROM video_features) = (SELECT count(*) FROM raw_videos)",
    ) == [(120, True)]
    assert query(data_dir, "SELECT count(*) = count(DISTINCT video_id) FROM video_features") == [
        (True,)
    ]
    assert query(
        data_dir, "SELECT count(*) FROM raw_videos r ANTI JOIN video_analyses a USING (video_id)"
    ) == [(0,)]


@pytest.mark.slow  # whole CLI runs against the fakes: `pytest -m slow`
def test_a_live_run_scrapes_through_apify_and_records_errors_and_checks(
    data_dir: Path,
    tmp_path: Path,
    apify_fixtures: Path,
    fake_apify: FakeApify,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    canary = "apify-token-canary-7d1e"
    monkeypatch.setenv("APIFY_API_URL", fake_apify.url)
    monkeypatch.setenv("APIFY_API_TOKEN", canary)
    items = json.loads((apify_fixtures / "profile_items_2025.json").read_text(encoding="utf-8"))
    fake_apify.items_by_profile = {"meenitech": recent_copies(items, datetime.now(UTC))}
    accounts = accounts_file(tmp_path, "@meenitech", "https://www.tiktok.com/@vanished_one")

    assert main(["run", "--dataset", "live", "--accounts", str(accounts)]) == 0

    assert len(fake_apify.runs) == 1
    assert fake_apify.runs[0].input["profiles"] == ["meenitech", "vanished_one"]
    assert query(data_dir, "SELECT count(*) FROM raw_videos") == [(7,)]
    assert query(data_dir, "SELECT count(*) FROM rejected_videos") == [(3,)]
    assert query(data_dir, "SELECT account, phase, error, permanent FROM errors") == [
        ("vanished_one", "scraping", "This profile/hashtag does not exist.", True)
    ]
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        record = instance.get_latest_asset_check_evaluation_record(
            dg.AssetCheckKey(dg.AssetKey("raw_videos"), "min_views")
        )
    assert record is not None and record.event is not None
    evaluation = record.event.dagster_event.event_specific_data
    assert evaluation.passed is False
    assert evaluation.metadata["rejected_rows"].value == 3
    # The token reached the API and nothing else: no table, no Dagster record, no output.
    stored = b"".join(path.read_bytes() for path in data_dir.rglob("*") if path.is_file())
    assert canary.encode() not in stored
    assert canary not in "".join(capsys.readouterr())


@pytest.fixture
def accounts_whose_first_scrape_fails(
    tmp_path: Path, fake_apify: FakeApify, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """An accounts file, and a live Apify (the fake) whose first actor run ends FAILED."""
    monkeypatch.setenv("APIFY_API_URL", fake_apify.url)
    monkeypatch.setenv("APIFY_API_TOKEN", "token")
    outcomes = iter(["FAILED", "SUCCEEDED"])
    fake_apify.on_run(lambda run_input, params: RunScript(items=[], status=next(outcomes)))
    accounts = accounts_file(tmp_path, "alpha")
    return accounts


@pytest.mark.slow  # whole CLI runs against the fakes: `pytest -m slow`
def test_a_failed_actor_run_fails_the_partition_until_retried(
    data_dir: Path,
    tmp_path: Path,
    fake_apify: FakeApify,
    accounts_whose_first_scrape_fails: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    accounts = accounts_whose_first_scrape_fails
    assert main(["run", "--dataset", "live", "--accounts", str(accounts)]) == 1
    assert "failed: live/b001" in capsys.readouterr().out
    [(error, permanent)] = query(data_dir, "SELECT error, permanent FROM errors")
    assert "ended FAILED" in error and permanent is False

    pipeline_log = (tmp_path / "logs" / "pipeline_live.log").read_text(encoding="utf-8")
    assert "ERROR" in pipeline_log and "live/b001 FAILED" in pipeline_log
    assert "live/b001 FAILED" in (tmp_path / "logs" / "errors.log").read_text(encoding="utf-8")

    assert main(["run", "--dataset", "live", "--retry-failed"]) == 0

    assert len(fake_apify.runs) == 2
    assert query(data_dir, "SELECT account, error, permanent FROM errors") == [
        ("alpha", NO_VIDEOS, True)
    ]


def test_out_of_range_thresholds_are_refused_before_anything_is_written(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--dataset", "demo", "--offline", "--max-age-days", "99999"]) == EXIT_USAGE

    assert "max_age_days must be a whole number from 1 to 36,500" in capsys.readouterr().err
    assert not data_dir.exists()


@pytest.mark.slow  # whole CLI runs of the demo: `pytest -m slow`
def test_status_shows_partitions_processed_accounts_errors_and_counts(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--dataset", "demo", "--offline"])
    capsys.readouterr()

    assert main(["status", "--dataset", "demo", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)

    assert status["partitions_by_phase"]["scraping"] == {
        "materialized": 2,
        "failed": 0,
        "in_progress": 0,
        "missing": 0,
    }
    assert len(status["processed_accounts"]) == 9 and status["pending_accounts"] == []
    assert status["errors"] == [
        {
            "batch": "b002",
            "account": "vanished_vera.demo",
            "phase": "scraping",
            "error": "This profile/hashtag does not exist.",
            "permanent": True,
        }
    ]
    rows = status["rows"]
    assert rows["raw_videos"] + rows["rejected_videos"] == 120
    assert status["analyses_by"] == [
        {"analyzer": "offline", "model": None, "schema_version": "1", "videos": rows["raw_videos"]}
    ]
    assert status["last_run"]["status"] == "success"
    assert status["last_run"]["launched_by"] == "cli"
    assert rows["video_features"] == rows["raw_videos"]
    model = status["model"]
    assert model["evaluated"] and model["labelled_videos"] == rows["video_predictions"]
    assert model["model_roc_auc"] > model["baseline_followers_roc_auc"]

    assert main(["status", "--dataset", "demo", "--export", str(data_dir / "tracking")]) == 0
    text = capsys.readouterr().out
    assert "scraping        2       0        0        0" in text
    # The sample's 8 accounts and 6 or so viral videos support no claim: status says so.
    assert "model: trained" in text and "too small for a claim: " in text
    assert "b002 vanished_vera.demo scraping: This profile/hashtag does not exist." in text
    source = (data_dir / "tracking" / "source.txt").read_text(encoding="utf-8").splitlines()
    assert source == status["processed_accounts"]
    assert (data_dir / "tracking" / "errors.txt").read_text(encoding="utf-8") == (
        "b002\tvanished_vera.demo\tscraping\tThis profile/hashtag does not exist.\n"
    )


@pytest.mark.slow  # whole CLI runs of the demo: `pytest -m slow`
def test_status_of_a_failed_partition_lists_it_until_retried(
    data_dir: Path, accounts_whose_first_scrape_fails: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--dataset", "live", "--accounts", str(accounts_whose_first_scrape_fails)])
    capsys.readouterr()

    main(["status", "--dataset", "live", "--json"])
    failed = json.loads(capsys.readouterr().out)
    main(["run", "--dataset", "live", "--retry-failed"])
    capsys.readouterr()
    main(["status", "--dataset", "live", "--json"])
    repaired = json.loads(capsys.readouterr().out)

    assert failed["failed_partitions"] == ["live/b001"]
    assert failed["processed_accounts"] == [] and failed["pending_accounts"] == ["alpha"]
    assert [e["permanent"] for e in failed["errors"]] == [False]
    assert repaired["failed_partitions"] == [] and repaired["processed_accounts"] == ["alpha"]
