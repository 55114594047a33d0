"""`run --parallel N`: up to N batches analysed at once while scrapes run ahead of them up to the
Apify bound (`scrape_ahead.py`), each run in a worker process (`partition_worker.py`) and in the
persistent instance, as the sequential CLI makes them (tagged, shown in the UI, resumed the same
way).

Processes rather than threads: Dagster stops a run on Ctrl-C through the signal handler of the
process's main thread, so a run interrupted in a worker ends exactly as one interrupted in the
sequential CLI (recorded as interrupted, resumed by the next `run`). What runs at once inside the
runs is bounded where Dagster holds it: the `apify` pool (actor runs at once, its limit set from
APIFY_MAX_CONCURRENT_RUNS) and the `gemini` pool; the Gemini quota is shared through its record
beside the database (`rate_limit.py`)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from tiktok_virality.cli.describe import describe_outcome
from tiktok_virality.cli.partition_worker import (
    OFFLINE_FLAG,
    outcome_from_json,
    planned_to_json,
)
from tiktok_virality.cli.progress import RunProgress
from tiktok_virality.cli.run_log import say
from tiktok_virality.cli.runner import PartitionsRun, PlannedRun, RunOutcome
from tiktok_virality.cli.scrape_ahead import BatchQueue
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.datasets.dataset import Dataset, DatasetSource

_PR_SET_PDEATHSIG = 1  # prctl(2)
# How long a batch has after Ctrl-C to stop before its worker is killed. An interrupted step
# unwinds in about a second (calls in flight cancelled, the run recorded as interrupted); a worker
# that has not answered by then is stuck, and the user is waiting. A killed worker's run is
# recorded as abandoned and resumed by the next `run`, as after any kill.
STOP_GRACE_SECONDS = 30.0
# How long after the first workers start the spare ones do (`spares_wanted`): time for the first to
# import the graph and start their actor runs, well within an actor run (a minute or more).
SPARES_AFTER_SECONDS = 10.0


def worker_command(offline: bool) -> list[str]:
    return [sys.executable, "-m", "tiktok_virality.cli.partition_worker"] + (
        [OFFLINE_FLAG] if offline else []
    )


def _die_with_parent() -> None:
    """In the worker, before it runs Python: SIGKILL when the CLI process dies (Linux), so that a
    killed CLI leaves no worker running on; elsewhere a worker notices at its next partition."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


Result = tuple["PartitionWorker", RunOutcome | None]


class PartitionWorker:
    """One worker process and the partition it is running, if any."""

    def __init__(self, offline: bool, results: queue.Queue[Result]) -> None:
        self.planned: PlannedRun | None = None
        self.process = subprocess.Popen(
            worker_command(offline),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            # Ctrl-C at the terminal is the parent's, forwarded once (`interrupt`).
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        threading.Thread(target=self._read, args=(results,), daemon=True).start()

    def start(self, planned: PlannedRun) -> None:
        assert self.process.stdin is not None
        self.planned = planned
        self.process.stdin.write(planned_to_json(planned) + "\n")
        self.process.stdin.flush()

    def _read(self, results: queue.Queue[Result]) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            results.put((self, outcome_from_json(line)))
        results.put((self, None))  # the process ended

    def interrupt(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def close(self) -> None:
        """No more partitions: the worker ends once its stdin closes (`wait` for it)."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()

    def wait(self) -> None:
        self.process.wait()


class Start(Enum):
    NOW = "now"
    LATER = "later"  # other batches' scrapes may fill the dataset: wait for them
    NEVER = "never"  # the dataset holds its max total videos


def scrape_start(*, stored: int, limit: int, potential: int, scraping_potential: int) -> Start:
    """Whether a batch's scrape may start, given the videos its dataset holds, the most this batch
    and the batches scraping now may add, and the dataset's max total videos. A scrape keeps its
    dataset within the limit by counting the videos stored before it (scrape_batch), so scrapes
    run side by side only while all of them together cannot pass it; else one at a time."""
    if stored >= limit and scraping_potential == 0:
        return Start.NEVER
    if scraping_potential == 0 or stored + scraping_potential + potential <= limit:
        return Start.NOW
    return Start.LATER


@dataclass
class ParallelRuns:
    """The state of a parallel run: the batches left, the workers, and where outcomes are kept.

    Up to `parallel` runs at once, and beside them up to `actor_runs` scrapes run ahead of their
    batches' analyses (`scrape_ahead.py`: a dataset of accounts), each in a worker."""

    dataset: Dataset
    planned: Sequence[PlannedRun]
    offline: bool
    parallel: int
    actor_runs: int
    # The videos a batch's scrape may add at most, and the videos the dataset holds now.
    potential: Callable[[PlannedRun], int]
    stored: Callable[[], int]

    def __post_init__(self) -> None:
        self.results: queue.Queue[Result] = queue.Queue()
        self.workers: list[PartitionWorker] = []
        self.batches = BatchQueue.of(
            self.planned, scrape_ahead=self.dataset.source is DatasetSource.ACCOUNTS
        )

    def busy(self) -> list[PartitionWorker]:
        return [worker for worker in self.workers if worker.planned is not None]

    def next_start(self, left_unscraped: list[VideoPartition]) -> PlannedRun | None:
        """The next run that may start now: a batch ready for its analysis while fewer than
        `parallel` runs are under way (scrapes ahead aside), else the next scrape that may start
        (leaving out those that never may) while its slots allow: fewer than `actor_runs`
        scrapes ahead, or `parallel` runs for a batch run whole."""
        in_flight = [worker.planned for worker in self.busy() if worker.planned is not None]
        ahead = sum(map(self.batches.runs_ahead, in_flight))
        room = len(in_flight) - ahead < self.parallel
        if room and self.batches.ready:
            return self.batches.ready.popleft()
        slot = ahead < self.actor_runs if self.batches.scrape_ahead else room
        if not slot or not self.batches.to_scrape:
            return None
        stored = self.stored()  # a query of the database: once per choice, not per batch
        scraping = sum(self.potential(run) for run in in_flight if Phase.SCRAPING in run.phases)
        for planned in list(self.batches.to_scrape):
            start = scrape_start(
                stored=stored,
                limit=self.dataset.limits.max_total_videos,
                potential=self.potential(planned),
                scraping_potential=scraping,
            )
            if start is Start.NEVER:
                self.batches.to_scrape.remove(planned)
                left_unscraped.append(planned.partition)
            elif start is Start.NOW:
                self.batches.to_scrape.remove(planned)
                return planned
        return None

    def idle_worker(self) -> PartitionWorker:
        """A worker with nothing to run, started if none is (there are never more than a run may
        need at once: `parallel` + `actor_runs`)."""
        idle = [worker for worker in self.workers if worker.planned is None]
        if idle:
            return idle[0]
        self.workers.append(PartitionWorker(self.offline, self.results))
        return self.workers[-1]

    def spares_wanted(self) -> int:
        """The workers to start ahead of the next scrapes, while those under way wait on Apify.

        When a scrape ahead ends, its worker goes on to the batch's analysis, and the next scrape
        needs another worker: started only then, it would take seconds of importing the graph
        (measured: the second round of actor runs began 6-9 s late on two cores)."""
        if not self.batches.scrape_ahead or not self.batches.to_scrape:
            return 0
        idle = len(self.workers) - len(self.busy())
        wanted = min(self.actor_runs, len(self.batches.to_scrape)) - idle
        return max(0, min(wanted, self.parallel + self.actor_runs - len(self.workers)))

    def start_spares(self) -> None:
        for _ in range(self.spares_wanted()):
            self.workers.append(PartitionWorker(self.offline, self.results))


def run_in_parallel(
    runs: ParallelRuns, progress: RunProgress, ran: PartitionsRun, planned_count: int
) -> None:
    """Run the planned partitions side by side into `ran`. Ctrl-C interrupts every run in flight
    and waits for each to say so; a run interrupted from elsewhere (the UI) stops new ones from
    starting."""
    try:
        try:
            _run_all(runs, progress, ran, planned_count)
        except KeyboardInterrupt:
            stop_every_batch(runs, progress, ran, planned_count)
    finally:
        # Every worker told first, then waited for: they wind down (instance, imports) together.
        for worker in runs.workers:
            worker.close()
        for worker in runs.workers:
            worker.wait()


def _run_all(
    runs: ParallelRuns, progress: RunProgress, ran: PartitionsRun, planned_count: int
) -> None:
    # Spare workers start once the first ones are under way: all at once, on a small machine,
    # they would hold up the first runs' start.
    spares_due = time.monotonic() + SPARES_AFTER_SECONDS
    while True:
        while not ran.interrupted and runs.batches:
            planned = runs.next_start(ran.left_unscraped)
            if planned is None:
                break
            runs.idle_worker().start(planned)
            progress.running(planned.partition)
        if not runs.busy():
            return
        until_spares = None
        if not ran.interrupted and runs.spares_wanted():
            until_spares = max(0.0, spares_due - time.monotonic())
            if until_spares == 0.0:
                runs.start_spares()
                until_spares = None
        with contextlib.suppress(queue.Empty):  # time for the spares: they start next round
            _take_outcome(runs, progress, ran, planned_count, timeout=until_spares)


def stop_every_batch(
    runs: ParallelRuns,
    progress: RunProgress,
    ran: PartitionsRun,
    planned_count: int,
    grace_seconds: float = STOP_GRACE_SECONDS,
) -> None:
    """Ctrl-C: interrupt every batch in flight and take each one's outcome; kill the workers of
    those that have not stopped within `grace_seconds`, or at once on a second Ctrl-C."""
    ran.interrupted = True
    for worker in runs.busy():
        worker.interrupt()
    deadline: float | None = time.monotonic() + grace_seconds
    while runs.busy():
        try:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            _take_outcome(runs, progress, ran, planned_count, timeout=timeout)
        except (queue.Empty, KeyboardInterrupt) as stop:
            _kill_stuck(runs.busy(), grace_seconds if isinstance(stop, queue.Empty) else None)
            deadline = None  # the killed workers' outcomes come as their pipes close


def _kill_stuck(workers: list[PartitionWorker], grace_seconds: float | None) -> None:
    for worker in workers:
        if worker.planned is not None:
            waited = (
                f"did not stop within {grace_seconds:g} s of Ctrl-C"
                if grace_seconds is not None
                else "is stopped at once (Ctrl-C again)"
            )
            say(
                f"{worker.planned.partition} {waited}: its process (pid {worker.process.pid}) is "
                "killed; the next run resumes it",
                logging.WARNING,
            )
        worker.kill()


def _take_outcome(
    runs: ParallelRuns,
    progress: RunProgress,
    ran: PartitionsRun,
    planned_count: int,
    timeout: float | None = None,
) -> None:
    worker, outcome = runs.results.get(timeout=timeout)
    planned = worker.planned
    worker.planned = None
    if outcome is None:
        runs.workers.remove(worker)
        if planned is None:
            return
        outcome = _lost(planned, worker, interrupted=ran.interrupted)
    assert planned is not None  # a worker answers only the run it was given
    batch_outcome = runs.batches.batch_outcome(planned, outcome)
    if batch_outcome is None:
        progress.phases_finished(outcome)
    else:
        record_outcome(ran, progress, batch_outcome, planned_count)


def record_outcome(
    ran: PartitionsRun, progress: RunProgress, outcome: RunOutcome, planned_count: int
) -> None:
    """A partition's run ended, one at a time or in parallel: keep its outcome and show it; an
    interrupted one marks the whole run interrupted (and needs no line of its own)."""
    ran.outcomes.append(outcome)
    progress.finished(outcome)
    if outcome.interrupted:
        ran.interrupted = True
        return
    say(
        describe_outcome(outcome, len(ran.outcomes), planned_count),
        logging.INFO if outcome.success else logging.ERROR,
    )


def _lost(planned: PlannedRun, worker: PartitionWorker, *, interrupted: bool) -> RunOutcome:
    """The outcome of a partition whose worker ended without answering (killed, out of memory):
    its run is left unfinished, and the next `run` records it as abandoned and resumes it."""
    code = worker.process.wait()
    return RunOutcome(
        partition=planned.partition,
        phases=planned.phases,
        success=False,
        seconds=0.0,
        rows={},
        errors={},
        error=f"the process running it (pid {worker.process.pid}) ended with exit code {code}",
        run_id="",
        interrupted=interrupted,
    )
