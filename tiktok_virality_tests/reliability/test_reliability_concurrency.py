"""Concurrent writers on one DuckDB file. Four partitions materialized at once — four CLI runs on
four datasets, and four Dagster runs with a process per step (the multiprocess executor) — all
succeed, none meets a lock error, and each dataset holds exactly the rows, value for value, of a
run alone. A notebook holding a read-only connection open while a run writes makes the run wait and
say which process holds the file; once the notebook closes it, the run goes on and succeeds.

Slow (four runs at once on two cores): `pytest -m reliability`.
"""

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.faults import REPOSITORY, assert_tables_equal
from tiktok_virality_tests.live_cli import (
    WatchingGemini,
    cli,
    cli_env,
    finished,
    import_sample,
    tables,
)

pytestmark = pytest.mark.reliability

REFERENCE_DATASET = "cut"  # the dataset of `uninterrupted_tables`
BATCHES = ("b001", "b002")
LOCK_WAIT = "waiting for"  # what a step says while another process holds the file
LOCK_ERRORS = ("Could not set lock", "stayed locked", "DatabaseLockedError")


def rows_of(frames: dict[str, pd.DataFrame], dataset: str) -> dict[str, pd.DataFrame]:
    """The dataset's rows of each table, named as the reference dataset's."""
    return {
        name: frame[frame["dataset"] == dataset]
        .assign(dataset=REFERENCE_DATASET)
        .reset_index(drop=True)
        for name, frame in frames.items()
    }


def assert_all_succeed_without_lock_error(
    runs: Sequence[subprocess.Popen[str]], saying: str, what: str
) -> None:
    """Every run exits 0 saying `saying`, and none meets a lock error (waiting for the lock is
    fine, and counted)."""
    outcomes = [finished(run) for run in runs]
    print(f"{what}: {sum(output.count(LOCK_WAIT) for _, output in outcomes)} lock waits")
    for code, output in outcomes:
        assert code == 0, output
        assert saying in output
        assert not any(error in output for error in LOCK_ERRORS), output


def assert_each_holds_the_reference(
    data: Path, datasets: Sequence[str], reference: dict[str, pd.DataFrame]
) -> None:
    frames = tables(data)
    for dataset in datasets:
        assert_tables_equal(rows_of(frames, dataset), reference)


def test_four_cli_runs_at_once_on_one_file_each_store_the_rows_of_a_run_alone(
    tmp_path: Path,
    sample_export: Path,
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> None:
    datasets = ("p1", "p2", "p3", "p4")
    data = tmp_path / "data"
    import_sample(data, sample_export, datasets)
    module_fake_gemini.on_generate(WatchingGemini(module_fake_gemini))
    env = cli_env(data, module_fake_apify, module_fake_gemini)

    runs = [cli(env, "run", "--dataset", dataset) for dataset in datasets]

    assert_all_succeed_without_lock_error(
        runs, "2 partitions materialized, 0 failed", "four CLI runs at once"
    )
    assert_each_holds_the_reference(data, datasets, uninterrupted_tables)


def multiprocess_pipeline_job() -> dg.JobDefinition:
    """The video pipeline's job, a process per step, on the resources of the environment."""
    # Imported here, in the run's processes: the definitions read the settings on import.
    from tiktok_virality.config import load_settings
    from tiktok_virality.definitions import VIDEO_PIPELINE_JOB, build_definitions
    from tiktok_virality.resources import build_resources

    resources = build_resources(load_settings(), offline=False)
    job = build_definitions(resources).resolve_job_def(VIDEO_PIPELINE_JOB)
    return job.with_executor_def(dg.multiprocess_executor)


# One run of the job for the partition named in argv, as a backfill's run worker makes it.
RUN_WITH_A_PROCESS_PER_STEP = f"""
import sys
import dagster as dg
from tiktok_virality.core.partitions import video_partitions
from {__name__} import multiprocess_pipeline_job

with dg.DagsterInstance.get() as instance:
    result = dg.execute_job(
        dg.reconstructable(multiprocess_pipeline_job),
        instance,
        tags=video_partitions.get_tags_for_partition_key(sys.argv[1]),
    )
    steps = {{event.step_key for event in result.all_events if event.is_step_start}}
    processes = {{event.pid for event in result.all_events if event.is_step_start}}
print(f"steps {{len(steps)}} in {{len(processes)}} processes")
sys.exit(0 if result.success else 1)
"""


def test_four_partitions_at_once_with_a_process_per_step_store_the_rows_of_a_run_alone(
    tmp_path: Path,
    sample_export: Path,
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> None:
    datasets = ("m1", "m2")
    data = tmp_path / "data"
    import_sample(data, sample_export, datasets)
    module_fake_gemini.on_generate(WatchingGemini(module_fake_gemini))
    env = cli_env(data, module_fake_apify, module_fake_gemini) | {"PYTHONPATH": str(REPOSITORY)}
    partitions = [VideoPartition(dataset, batch) for dataset in datasets for batch in BATCHES]

    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_WITH_A_PROCESS_PER_STEP, str(partition.key)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for partition in partitions
    ]

    assert_all_succeed_without_lock_error(
        # scrape_batch, video_analyses, video_signals and video_features: each in its own process.
        runs,
        "steps 4 in 4 processes",
        "four runs with a process per step at once",
    )
    # The CLI sees the partitions done, and trains each dataset's model from them.
    for dataset in datasets:
        code, output = finished(cli(env, "run", "--dataset", dataset))
        assert code == 0, output
        assert f"{dataset}: 2 partitions, 2 done, 0 to run" in output
    assert_each_holds_the_reference(data, datasets, uninterrupted_tables)


def test_a_run_waits_for_a_notebooks_read_only_connection_says_why_and_goes_on_once_closed(
    tmp_path: Path,
    sample_export: Path,
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> None:
    data = tmp_path / "data"
    import_sample(data, sample_export, [REFERENCE_DATASET])
    # Every Gemini call is held, so that nothing is written while the notebook connects.
    gemini = WatchingGemini(module_fake_gemini, stop_at=1)
    module_fake_gemini.on_generate(gemini)
    run = cli(
        cli_env(data, module_fake_apify, module_fake_gemini), "run", "--dataset", REFERENCE_DATASET
    )
    assert gemini.reached.wait(timeout=120), "the run never asked Gemini"

    notebook = duckdb.connect(str(data / "tiktok_virality.duckdb"), read_only=True)
    gemini.release.set()  # the answers now wait to be stored
    assert run.stdout is not None
    said = ""
    for line in run.stdout:
        said += line
        if LOCK_WAIT in line:
            break
    notebook.close()
    code, rest = finished(run)

    assert LOCK_WAIT in said, said + rest
    assert f"PID {os.getpid()}" in said  # the notebook's process
    assert code == 0, said + rest
    assert "2 partitions materialized, 0 failed" in rest
    assert_tables_equal(tables(data), uninterrupted_tables)
