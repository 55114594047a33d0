"""`dataset delete` removes a dataset completely — its rows in every table, its partition keys and
their runs, its report — and nothing of another dataset; it refuses while a run of it is in
progress, and without a confirmation."""

import io
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.cli.partition_status import LAUNCHED_BY_TAG
from tiktok_virality.cli.runner import HOST_TAG, PID_TAG
from tiktok_virality.core.partitions import BATCH_DIMENSION, DATASET_DIMENSION, runs_of_keys
from tiktok_virality.definitions import VIDEO_PIPELINE_JOB
from tiktok_virality.defs.datasets.removal import dataset_row_tables
from tiktok_virality.resources import STORES
from tiktok_virality_tests.helpers import (
    BUILT,
    assert_refused_writing_nothing,
    query,
    use_folder,
)

# Slow: `pytest -m slow` runs it (CI does), the default suite does not (pyproject.toml).
pytestmark = pytest.mark.slow

TABLES = dataset_row_tables(STORES)


class Terminal(io.StringIO):
    """A user at a terminal, who types `answer`."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def own_copy(
    populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> Path:
    """The populated folder (dataset `existing`, batch b001, run to the end), copied to change."""
    root = tmp_path / "copy"
    shutil.copytree(populated, root, ignore=shutil.ignore_patterns(BUILT))
    use_folder(monkeypatch, root)
    capsys.readouterr()
    return root


def rows_of(data: Path, dataset: str) -> dict[str, int]:
    tables = [row[0] for row in query(data, "SELECT table_name FROM information_schema.tables")]
    return {
        table: query(data, f"SELECT count(*) FROM {table} WHERE dataset = '{dataset}'")[0][0]
        for table in TABLES
        if table in tables
    }


def keys(data: Path) -> dict[str, list[str]]:
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        return {
            dimension: sorted(instance.get_dynamic_partitions(dimension))
            for dimension in (DATASET_DIMENSION, BATCH_DIMENSION)
        }


def run_count(data: Path, dataset: str) -> int:
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        return len(runs_of_keys(instance, datasets=[dataset]))


def test_delete_removes_the_dataset_everywhere_and_leaves_the_other_alone(
    own_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = own_copy / "data"
    assert main(["run", "--dataset", "demo", "--offline"]) == 0  # b001 (shared) and b002
    # A paid analysis: kept, whichever dataset it was made for.
    with duckdb.connect(str(data / "tiktok_virality.duckdb")) as connection:
        connection.execute(
            "INSERT INTO analysis_cache (video_id, model, schema_version, analysis_settings, "
            "input_kind, analysis_json, analyzed_at) VALUES ('7000000000000000001', "
            "'gemini-3.5-flash', '1', 'none', 'video', '{}', ?)",
            [datetime.now(UTC)],
        )
    existing_rows = rows_of(data, "existing")
    assert rows_of(data, "demo")["video_features"] == 117 and run_count(data, "demo") == 3
    assert keys(data) == {"dataset": ["demo", "existing"], "batch": ["b001", "b002"]}
    capsys.readouterr()

    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert main(["dataset", "delete", "--dataset", "demo"]) == 0

    printed = capsys.readouterr().out
    assert "delete dataset 'demo' (9 accounts in 2 batches) and its report? [y/N]" in printed
    assert "raw_videos           117 rows" in printed and "datasets             1 row" in printed
    assert "batch keys: b002 (kept b001: used by other datasets)" in printed
    assert "Dagster runs of their partitions: 3" in printed
    assert set(rows_of(data, "demo").values()) == {0}
    assert set(TABLES) >= {"raw_videos", "trends", "datasets", "errors", "scrape_runs"}
    assert rows_of(data, "existing") == existing_rows
    assert query(data, "SELECT count(*) FROM analysis_cache") == [(1,)]
    assert keys(data) == {"dataset": ["existing"], "batch": ["b001"]}
    assert run_count(data, "demo") == 0 and run_count(data, "existing") == 2
    assert not (data / "reports" / "demo.html").exists()
    assert (data / "reports" / "existing.html").exists()

    # Made again under the same name, it is run from scratch: no history of the deleted one.
    assert main(["run", "--dataset", "demo", "--offline"]) == 0
    assert "demo: 2 partitions, 0 done, 2 to run" in capsys.readouterr().out
    assert rows_of(data, "demo")["video_features"] == 117


def in_progress_run(data: Path, dataset: str, **tags: str) -> None:
    """A run of the dataset's partition b001 that has started and not finished, as a run of the
    UI or of another CLI process is."""
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        instance.add_run(
            dg.DagsterRun(
                job_name=VIDEO_PIPELINE_JOB,
                run_id=f"run-of-{dataset}-{len(tags)}",
                status=dg.DagsterRunStatus.STARTED,
                tags={
                    "dagster/partition": f"b001|{dataset}",
                    "dagster/partition/dataset": dataset,
                    "dagster/partition/batch": "b001",
                    **tags,
                },
            )
        )


def test_delete_is_refused_while_a_run_of_the_dataset_is_in_progress(
    own_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_progress_run(own_copy / "data", "existing")

    [error] = assert_refused_writing_nothing(
        own_copy, [["dataset", "delete", "--dataset", "existing", "--yes"]], capsys
    )

    assert "1 run of existing is in progress (run-of-existing-0)" in error
    assert "nothing was removed" in error


def test_a_cli_run_whose_process_is_gone_does_not_hold_the_deletion(
    own_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    in_progress_run(
        own_copy / "data",
        "existing",
        **{LAUNCHED_BY_TAG: "cli", HOST_TAG: socket.gethostname(), PID_TAG: gone.stdout.strip()},
    )

    assert main(["dataset", "delete", "--dataset", "existing", "--yes"]) == 0

    assert query(own_copy / "data", "SELECT count(*) FROM datasets") == [(0,)]
    assert keys(own_copy / "data") == {"dataset": [], "batch": []}


@pytest.mark.parametrize(
    ("stdin", "refusal"),
    [
        (io.StringIO("y\n"), "There is no terminal to ask on: add --yes to confirm"),
        (Terminal("n\n"), "not confirmed: nothing was removed"),
    ],
)
def test_delete_without_a_confirmation_removes_nothing(
    existing_data: Path,
    stdin: io.StringIO,
    refusal: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", stdin)

    [error] = assert_refused_writing_nothing(
        existing_data, [["dataset", "delete", "--dataset", "existing"]], capsys
    )

    assert refusal in error
