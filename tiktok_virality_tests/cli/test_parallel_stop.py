"""Ctrl-C in `run --parallel`: every batch in flight is interrupted and answers as interrupted; a
worker that has not answered within the grace period is killed, so that the CLI always ends, and
its partition is left for the next run to resume (as after any kill). Workers here are small
Python processes that speak the worker's pipe protocol, so the stop is tested without Dagster."""

import io
import signal
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from tiktok_virality.cli import parallel_runs
from tiktok_virality.cli.parallel_runs import ParallelRuns, stop_every_batch
from tiktok_virality.cli.partition_worker import outcome_to_json
from tiktok_virality.cli.progress import RunProgress
from tiktok_virality.cli.runner import PartitionsRun, PlannedRun, RunOutcome
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality_tests.helpers import accounts_dataset

PLANNED = PlannedRun(VideoPartition("v1", "b001"), (Phase.ANALYSIS,))
INTERRUPTED = RunOutcome(
    partition=PLANNED.partition,
    phases=PLANNED.phases,
    success=False,
    seconds=1.0,
    rows={},
    errors={},
    error="interrupted",
    run_id="r1",
    interrupted=True,
)
# A worker that takes a partition, then answers Ctrl-C with an interrupted outcome.
STOPS = f"""
import pathlib, signal, sys
def stop(signum, frame):
    print({outcome_to_json(INTERRUPTED)!r}, flush=True)
signal.signal(signal.SIGINT, stop)
for line in sys.stdin:
    pathlib.Path(sys.argv[1]).touch()
    signal.pause()
"""
# A worker stuck in its partition: Ctrl-C does nothing.
STUCK = """
import pathlib, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
sys.stdin.readline()
pathlib.Path(sys.argv[1]).touch()
while True:
    signal.pause()
"""


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, "the worker never took its partition"
        time.sleep(0.01)


def stop_a_batch_in_flight(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, worker_code: str, grace_seconds: float
) -> tuple[PartitionsRun, int | None]:
    """Start a worker running `worker_code` on PLANNED, then stop as on Ctrl-C once it has taken
    the partition; what the run kept and how the worker ended."""
    running = tmp_path / "running"
    monkeypatch.setattr(
        parallel_runs,
        "worker_command",
        lambda offline: [sys.executable, "-c", worker_code, str(running)],
    )
    runs = ParallelRuns(
        accounts_dataset(),
        [],
        offline=True,
        parallel=1,
        actor_runs=1,
        potential=lambda _: 0,
        stored=lambda: 0,
    )
    ran = PartitionsRun()
    worker = runs.idle_worker()
    worker.start(PLANNED)
    wait_for(running)
    try:
        stop_every_batch(
            runs, RunProgress([PLANNED], Console(file=io.StringIO())), ran, 1, grace_seconds
        )
    finally:
        worker.close()
        worker.wait()
    return ran, worker.process.returncode


def test_a_batch_that_stops_on_ctrl_c_answers_as_interrupted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran, code = stop_a_batch_in_flight(monkeypatch, tmp_path, STOPS, grace_seconds=60)

    assert ran.interrupted
    assert ran.outcomes == [INTERRUPTED]
    assert code == 0  # ended by its closed stdin, not killed
    assert "killed" not in capsys.readouterr().out


def test_a_batch_stuck_past_the_grace_is_killed_and_left_to_the_next_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran, code = stop_a_batch_in_flight(monkeypatch, tmp_path, STUCK, grace_seconds=0.5)

    assert code == -signal.SIGKILL
    assert ran.interrupted
    [outcome] = ran.outcomes
    assert (outcome.partition, outcome.interrupted, outcome.success) == (
        PLANNED.partition,
        True,
        False,
    )
    said = capsys.readouterr().out
    assert "v1/b001 did not stop within 0.5 s of Ctrl-C: its process (pid" in said
    assert "is killed; the next run resumes it" in said
