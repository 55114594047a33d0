"""`run --parallel`: real CLI runs against the fake Apify and Gemini, with the sample's two batches
analysed at the same time (the fake Gemini holds calls until both batches are in flight).

Each partition is one run, in a process of its own, materialized once, and the tables equal those
of a sequential run, value for value; Ctrl-C stops both runs as interrupted and a plain rerun
finishes them without paying twice for an answer; a batch failing beside another is retried alone
by `--retry-failed`; a notebook's snapshot connection stays open through a whole parallel run
without the run ever waiting for it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tiktok_virality.cli.main import EXIT_INTERRUPTED
from tiktok_virality.cli.partition_status import LAUNCHED_BY_TAG, PHASE_ASSETS, PHASE_SELECTION
from tiktok_virality.cli.runner import PHASES_TAG, PID_TAG
from tiktok_virality.core.partitions import PARTITION_TAG
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.scraping.assets import APIFY_POOL
from tiktok_virality.notebook import open_snapshot
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini, GeminiApiError, GenerateScript
from tiktok_virality_tests.faults import (
    Undisturbed,
    all_tables,
    assert_tables_equal,
    run_sample_accounts,
    sample_accounts,  # noqa: F401 (a fixture)
    undisturbed_scrape,  # noqa: F401 (a fixture)
)
from tiktok_virality_tests.live_cli import (
    WatchingGemini,
    cli,
    cli_env,
    finished,
    import_sample,
    tables,
    video_of,
)

pytestmark = pytest.mark.slow

LOCK_WAIT = "waiting for"  # what a step says while another process holds the database


class BatchesInFlight(WatchingGemini):
    """Holds each call from the `stop_at`-th on, and says `reached` once calls of both batches are
    held: the two batches are then being analysed at the same time. `failing` batches answer 503
    (a retryable refusal) until `failing` is emptied."""

    def __init__(
        self, fake: FakeGemini, batch_of: dict[str, str], stop_at: int, failing: set[str]
    ) -> None:
        super().__init__(fake, stop_at=None)
        self.batch_of = batch_of
        self.hold_from = stop_at
        self.held_batches: set[str] = set()
        self.failing = failing
        self.calls_by_batch: Counter[str] = Counter()
        self._held = threading.Lock()

    def __call__(self, request_json: dict[str, Any]) -> GenerateScript:
        batch = self.batch_of.get(video_of(request_json), "?")
        with self._held:
            self.calls_by_batch[batch] += 1
            held = sum(self.calls_by_batch.values()) >= self.hold_from
            if held:
                self.held_batches.add(batch)
                if len(self.held_batches) >= 2:
                    self.reached.set()
        if held and not self.release.is_set():
            self.release.wait(timeout=90)
        if batch in self.failing:
            raise GeminiApiError(503, "overloaded")
        return super().__call__(request_json)


def run_in_parallel_until_both_batches_are_held(
    env: dict[str, str], gemini: BatchesInFlight
) -> subprocess.Popen[str]:
    """`run --parallel 2` of dataset `cut`, returned once `gemini` holds calls of both batches."""
    run = cli(env, "run", "--dataset", "cut", "--parallel", "2")
    assert gemini.reached.wait(timeout=150), "the two batches were never analysed at once"
    return run


def batch_of_video(data: Path, export: Path, dataset: str = "cut") -> dict[str, str]:
    registry = DatasetRegistry(database=str(data / "tiktok_virality.duckdb"))
    batch_of_account = {
        account: batch
        for batch in registry.batches(dataset)
        for account in registry.batch_accounts(dataset, batch)
    }
    items = json.loads(export.read_text(encoding="utf-8"))
    return {
        item["id"]: batch_of_account[item["authorMeta"]["name"]]
        for item in items
        if "id" in item and item["authorMeta"]["name"] in batch_of_account
    }


def cli_runs(data: Path) -> dict[str, list[dg.RunRecord]]:
    """The CLI's runs of each partition, oldest first."""
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        records = instance.get_run_records(filters=dg.RunsFilter(tags={LAUNCHED_BY_TAG: "cli"}))
    runs: dict[str, list[dg.RunRecord]] = {}
    for record in sorted(records, key=lambda found: found.create_timestamp):
        runs.setdefault(record.dagster_run.tags.get(PARTITION_TAG, ""), []).append(record)
    return runs


def materializations_per_partition(data: Path) -> Counter[tuple[str, str]]:
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        return Counter(
            (key.to_user_string(), str(record.partition_key))
            for key in PHASE_ASSETS.values()
            for record in instance.fetch_materializations(key, limit=1000).records
        )


@pytest.fixture
def sample_run(
    tmp_path: Path,
    sample_export: Path,
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> tuple[Path, dict[str, str], dict[str, str]]:
    """The sample imported as dataset `cut` (two batches): its data folder, the CLI's environment
    and the batch of each video."""
    data = tmp_path / "data"
    import_sample(data, sample_export)
    env = cli_env(data, module_fake_apify, module_fake_gemini)
    return data, env, batch_of_video(data, sample_export)


def test_batches_run_side_by_side_each_once_into_the_tables_of_a_sequential_run(
    sample_run: tuple[Path, dict[str, str], dict[str, str]],
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_gemini: FakeGemini,
) -> None:
    data, env, batch_of = sample_run
    gemini = BatchesInFlight(module_fake_gemini, batch_of, stop_at=1, failing=set())
    module_fake_gemini.on_generate(gemini)

    run = run_in_parallel_until_both_batches_are_held(env, gemini)
    gemini.release.set()
    code, output = finished(run)

    assert code == 0, output
    assert "2 partitions materialized, 0 failed" in output
    assert LOCK_WAIT not in output
    runs = cli_runs(data)
    partitions = [key for key in runs if "|" in key]
    assert len(partitions) == 2
    assert all(len(runs[key]) == 1 for key in partitions)
    assert all(runs[key][0].dagster_run.status is dg.DagsterRunStatus.SUCCESS for key in partitions)
    # Each in a worker process of its own, not the CLI's.
    pids = {runs[key][0].dagster_run.tags[PID_TAG] for key in partitions}
    assert len(pids) == 2 and str(run.pid) not in pids
    assert set(materializations_per_partition(data).values()) == {1}
    assert len(materializations_per_partition(data)) == 3 * 2
    assert_tables_equal(tables(data), uninterrupted_tables)
    # Every video answered once: no call paid twice.
    assert set(gemini.calls.values()) == {1}
    # The actor runs' bound, held by Dagster's `apify` pool for every run of the instance.
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        assert instance.event_log_storage.get_concurrency_info(APIFY_POOL).slot_count == 2


def test_ctrl_c_stops_every_batch_in_flight_and_a_rerun_pays_for_no_answer_twice(
    sample_run: tuple[Path, dict[str, str], dict[str, str]],
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_gemini: FakeGemini,
) -> None:
    data, env, batch_of = sample_run
    videos = len(uninterrupted_tables["raw_videos"])
    gemini = BatchesInFlight(module_fake_gemini, batch_of, stop_at=30, failing=set())
    module_fake_gemini.on_generate(gemini)

    stopped = run_in_parallel_until_both_batches_are_held(env, gemini)
    stopped.send_signal(signal.SIGINT)
    code, output = finished(stopped)
    gemini.release.set()  # calls still held answer now, to clients that have gone
    answered_before = set(gemini.answered)
    with duckdb.connect(str(data / "tiktok_virality.duckdb"), read_only=True) as connection:
        kept = {row[0] for row in connection.sql("SELECT video_id FROM analysis_cache").fetchall()}
    gemini.calls.clear()

    resumed_code, resumed = finished(cli(env, "run", "--dataset", "cut"))

    assert code == EXIT_INTERRUPTED, output
    assert "interrupted: 0 partitions finished before; run the same command again" in output
    runs = cli_runs(data)
    first_runs = [records[0].dagster_run for key, records in runs.items() if "|" in key]
    assert len(first_runs) == 2
    assert all(run.status is not dg.DagsterRunStatus.SUCCESS for run in first_runs)
    assert "cut: 2 partitions, 0 done, 2 to run" in resumed
    assert resumed_code == 0, resumed
    assert "2 partitions materialized, 0 failed" in resumed
    # Every answer stored before the stop was not asked for again.
    assert 0 < len(kept) <= len(answered_before)
    assert not kept & set(gemini.calls)
    assert sum(gemini.calls.values()) == videos - len(kept)
    assert_tables_equal(tables(data), uninterrupted_tables)


def test_a_batch_failing_beside_another_is_retried_alone(
    sample_run: tuple[Path, dict[str, str], dict[str, str]],
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_gemini: FakeGemini,
) -> None:
    data, env, batch_of = sample_run
    env = env | {"GEMINI_RETRY_DELAY_SECONDS": "0.01"}
    gemini = BatchesInFlight(module_fake_gemini, batch_of, stop_at=1, failing={"b002"})
    gemini.release.set()
    module_fake_gemini.on_generate(gemini)

    code, output = finished(cli(env, "run", "--dataset", "cut", "--parallel", "2"))
    gemini.failing.clear()
    gemini.calls_by_batch.clear()
    retried_code, retried = finished(cli(env, "run", "--dataset", "cut", "--retry-failed"))

    assert code != 0, output
    assert "1 partition materialized, 1 failed" in output
    assert "failed: cut/b002" in output
    assert "cut: 2 partitions, 1 done, 1 to run" in retried, retried
    assert retried_code == 0, retried
    assert gemini.calls_by_batch.keys() == {"b002"}  # the batch done was not touched
    runs = cli_runs(data)
    assert sorted(len(records) for key, records in runs.items() if "|" in key) == [1, 2]
    assert_tables_equal(tables(data), uninterrupted_tables)


def test_a_notebook_snapshot_held_through_a_parallel_run_never_holds_it_up(
    sample_run: tuple[Path, dict[str, str], dict[str, str]],
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_gemini: FakeGemini,
) -> None:
    data, env, _ = sample_run
    module_fake_gemini.on_generate(WatchingGemini(module_fake_gemini))
    notebook = open_snapshot(data / "tiktok_virality.duckdb")

    code, output = finished(cli(env, "run", "--dataset", "cut", "--parallel", "2"))
    # Still open, and still answering from the copy it was given.
    [(datasets,)] = notebook.execute("SELECT count(*) FROM datasets").fetchall()
    notebook.close()

    assert code == 0, output
    assert "2 partitions materialized, 0 failed" in output
    assert LOCK_WAIT not in output
    assert datasets == 1
    assert_tables_equal(tables(data), uninterrupted_tables)


def test_scrapes_of_accounts_run_ahead_of_their_analyses_each_batch_paid_once(
    tmp_path: Path,
    sample_accounts: Path,  # noqa: F811 (the fixture imported above)
    undisturbed_scrape: Undisturbed,  # noqa: F811
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> None:
    data = tmp_path / "data"

    run = run_sample_accounts(data, sample_accounts, module_fake_apify, module_fake_gemini, 2)

    assert run.code == 0, run.output
    assert "2 partitions materialized, 0 failed" in run.output
    # A batch is one line, with the rows of both its runs.
    line = r"\[1/2\] live/b00\d done in [\d.]+ s: scraping \d+ rows( \(1 error\))?, analysis \d+"
    assert re.search(line, run.output), run.output
    runs = cli_runs(data)
    partitions = [key for key in runs if "|" in key]
    assert len(partitions) == 2
    for key in partitions:
        scrape, later = (record.dagster_run for record in runs[key])
        assert scrape.asset_selection == set(PHASE_SELECTION[Phase.SCRAPING])
        assert not set(PHASE_SELECTION[Phase.SCRAPING]) & (later.asset_selection or set())
        assert scrape.status is later.status is dg.DagsterRunStatus.SUCCESS
        assert scrape.tags[PHASES_TAG] == "scraping"
        assert later.tags[PHASES_TAG] == "analysis, features"
    assert set(materializations_per_partition(data).values()) == {1}
    # One actor run per batch and one Gemini call per video, as one batch after the other.
    assert run.actor_runs == undisturbed_scrape.actor_runs == 2
    assert set(run.gemini.calls.values()) == {1}
    assert sum(run.gemini.calls.values()) == undisturbed_scrape.gemini_calls
    assert_tables_equal(all_tables(data), undisturbed_scrape.tables)
