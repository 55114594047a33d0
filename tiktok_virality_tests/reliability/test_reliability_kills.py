"""Kills: a CLI run of a dataset scraped through Apify and analysed by Gemini is killed (SIGKILL)
at a chosen point, one batch at a time (`--parallel 1`: the CLI's own process dies) or batches side
by side (the default: the partition workers die, or the CLI itself where it writes the model): once a batch's actor run has started, inside the DuckDB transaction that stores
a partition of raw_videos, video_analyses, video_features or model_runs, or between a batch's
scraping and its analysis. The DuckDB file then opens cleanly and holds nothing half-written; the
next plain `run` resumes, and ends with the tables of a run that was never disturbed, one paid
actor run per batch and one Gemini call per video. (A kill mid-analysis, at a Gemini call, is
test_interruption.py.)

Slow (two CLI runs per kill point): `pytest -m reliability`.
"""

import re
import signal
from pathlib import Path

import pytest

from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.faults import (
    KILL_POINTS,
    SCRAPED_DATASET,
    Undisturbed,
    all_tables,
    assert_tables_equal,
    killing_cli,
    opens_cleanly,
    scrape_env,
)
from tiktok_virality_tests.live_cli import (
    WatchingGemini,
    cli,
    finished,
)

pytestmark = pytest.mark.reliability

# The table whose write each kill point interrupts: the kill must leave none of its rows.
INTERRUPTED_WRITE = {
    point: point.removeprefix("writing-") for point in KILL_POINTS if point.startswith("writing-")
}


# Where the parallel CLI's workers die, the CLI itself lives on: it names each lost partition and
# ends as a run with failed partitions. Only the model is written by the CLI's own process.
LOST_WORKER = re.compile(r"the process running it \(pid \d+\) ended with exit code -9")


@pytest.mark.parametrize("parallel", ["1", "4"], ids=["one-at-a-time", "parallel"])
@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_a_run_killed_then_run_again_stores_the_tables_of_an_undisturbed_run(
    kill_point: str,
    parallel: str,
    tmp_path: Path,
    sample_accounts: Path,
    undisturbed_scrape: Undisturbed,
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> None:
    data = tmp_path / "data"
    env = scrape_env(data, module_fake_apify, module_fake_gemini)
    gemini = WatchingGemini(module_fake_gemini)
    module_fake_gemini.on_generate(gemini)
    runs_before = len(module_fake_apify.runs)

    killed_code, killed_output = finished(
        killing_cli(
            env,
            kill_point,
            "run",
            "--dataset",
            SCRAPED_DATASET,
            "--accounts",
            str(sample_accounts),
            "--parallel",
            parallel,
        )
    )
    if parallel == "1" or kill_point == "writing-model_runs":
        assert killed_code == -signal.SIGKILL, killed_output
    else:
        assert killed_code == 1, killed_output
        assert LOST_WORKER.search(killed_output), killed_output
    rows_after_kill = opens_cleanly(data / "tiktok_virality.duckdb")
    if kill_point in INTERRUPTED_WRITE:
        assert rows_after_kill.get(INTERRUPTED_WRITE[kill_point], 0) == 0
    answered_before_kill = sum(gemini.calls.values())

    code, output = finished(cli(env, "run", "--dataset", SCRAPED_DATASET, "--parallel", parallel))

    print(
        f"{kill_point}: {answered_before_kill} Gemini calls before the kill, "
        f"{len(module_fake_apify.runs) - runs_before} actor runs in all; rows after the kill: "
        f"{rows_after_kill}"
    )
    assert code == 0, output
    assert re.search(r"\d+ earlier runs? stopped without finishing \(killed\?\)", output), output
    assert_tables_equal(all_tables(data), undisturbed_scrape.tables)
    # Nothing paid twice: one actor run per batch, and no video asked again.
    assert len(module_fake_apify.runs) - runs_before == undisturbed_scrape.actor_runs
    assert set(gemini.calls.values()) == {1}
    assert sum(gemini.calls.values()) == undisturbed_scrape.gemini_calls
