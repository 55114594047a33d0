"""Scraping ahead in `run --parallel`: each batch's scrape is a run started as soon as the Apify
bound allows and its later phases a second run, never more than the bounds at once; the two runs
make one outcome, counted once on the live display."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import cast

from rich.console import Console

from tiktok_virality.cli.parallel_runs import ParallelRuns, PartitionWorker
from tiktok_virality.cli.progress import RunProgress
from tiktok_virality.cli.runner import PlannedRun, RunOutcome
from tiktok_virality.cli.scrape_ahead import BatchQueue, merge_outcomes, split_scrape
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import PHASES, Phase
from tiktok_virality.defs.datasets.dataset import DatasetSource
from tiktok_virality.defs.scraping.quality_rules import QualityRule
from tiktok_virality_tests.helpers import accounts_dataset

LATER = (Phase.ANALYSIS, Phase.FEATURES)
RULE = next(iter(QualityRule))


def batch(number: int) -> VideoPartition:
    return VideoPartition("v1", f"b{number:03d}")


def outcome(
    planned: PlannedRun, *, success: bool = True, interrupted: bool = False, rows: int = 10
) -> RunOutcome:
    return RunOutcome(
        partition=planned.partition,
        phases=planned.phases,
        success=success,
        seconds=2.0,
        rows={phase: rows for phase in planned.phases} if success else {},
        errors={phase: 1 for phase in planned.phases} if success else {},
        error=None if success else "boom",
        run_id=f"run-{'-'.join(planned.phases)}",
        interrupted=interrupted,
        rejected_by_rule={RULE: 3} if Phase.SCRAPING in planned.phases else {},
    )


def test_a_batch_from_scraping_on_is_split_and_one_resumed_later_is_not() -> None:
    whole = PlannedRun(batch(1), PHASES)

    assert split_scrape(whole) == (
        PlannedRun(batch(1), (Phase.SCRAPING,)),
        PlannedRun(batch(1), LATER),
    )
    assert split_scrape(PlannedRun(batch(2), LATER)) is None
    queue = BatchQueue.of([whole, PlannedRun(batch(2), LATER)], scrape_ahead=True)
    assert list(queue.to_scrape) == [PlannedRun(batch(1), (Phase.SCRAPING,))]
    assert list(queue.ready) == [PlannedRun(batch(2), LATER)]


def test_a_scrape_that_succeeds_readies_its_analysis_and_the_two_make_one_outcome() -> None:
    queue = BatchQueue.of([PlannedRun(batch(1), PHASES)], scrape_ahead=True)
    scrape = queue.to_scrape.popleft()

    assert queue.batch_outcome(scrape, outcome(scrape)) is None
    later = queue.ready.popleft()
    assert later == PlannedRun(batch(1), LATER)
    merged = queue.batch_outcome(later, outcome(later, rows=8))

    assert merged == merge_outcomes(outcome(scrape), outcome(later, rows=8))
    assert merged is not None
    assert merged.phases == PHASES
    assert merged.rows == {Phase.SCRAPING: 10, Phase.ANALYSIS: 8, Phase.FEATURES: 8}
    assert merged.seconds == 4.0
    assert merged.rejected_by_rule == {RULE: 3}
    assert merged.run_id == "run-analysis-features"
    assert not queue


def test_a_scrape_that_fails_or_is_interrupted_ends_its_batch_with_every_phase_undone() -> None:
    queue = BatchQueue.of(
        [PlannedRun(batch(1), PHASES), PlannedRun(batch(2), PHASES)], scrape_ahead=True
    )
    failed_scrape, stopped_scrape = queue.to_scrape

    failed = queue.batch_outcome(failed_scrape, outcome(failed_scrape, success=False))
    stopped = queue.batch_outcome(
        stopped_scrape, outcome(stopped_scrape, success=False, interrupted=True)
    )

    assert failed is not None and stopped is not None
    assert (failed.phases, failed.success, failed.error) == (PHASES, False, "boom")
    assert (stopped.phases, stopped.interrupted) == (PHASES, True)
    assert not queue.ready


def test_the_live_display_counts_a_batch_scraped_ahead_once_per_phase() -> None:
    planned = PlannedRun(batch(1), PHASES)
    queue = BatchQueue.of([planned], scrape_ahead=True)
    progress = RunProgress([planned], Console(file=io.StringIO()))
    scrape = queue.to_scrape.popleft()

    assert queue.batch_outcome(scrape, outcome(scrape)) is None
    progress.phases_finished(outcome(scrape))
    later = queue.ready.popleft()
    merged = queue.batch_outcome(later, outcome(later))
    assert merged is not None
    progress.finished(merged)

    counted = {phase: (t.done, t.failed, t.rows) for phase, t in progress.tallies.items()}
    assert counted == {phase: (1, 0, 10) for phase in PHASES}


@dataclass
class BusyWorker:
    """Stands for a worker process running `planned` (what ParallelRuns reads of one)."""

    planned: PlannedRun | None


class Schedule:
    """ParallelRuns' choices over a whole run, with each run ending when the test says."""

    def __init__(
        self, batches: int, *, parallel: int, actor_runs: int, source: DatasetSource
    ) -> None:
        self.runs = ParallelRuns(
            replace(accounts_dataset(), source=source),
            [PlannedRun(batch(n), PHASES) for n in range(1, batches + 1)],
            offline=True,
            parallel=parallel,
            actor_runs=actor_runs,
            potential=lambda _: 15,
            stored=lambda: 0,
        )
        self.started: list[PlannedRun] = []

    def start_all_that_may(self) -> list[PlannedRun]:
        started = []
        while (planned := self.runs.next_start([])) is not None:
            self.runs.workers.append(cast(PartitionWorker, BusyWorker(planned)))
            started.append(planned)
        self.started += started
        return started

    def end(self, planned: PlannedRun) -> None:
        worker = next(w for w in self.runs.workers if w.planned == planned)
        self.runs.workers.remove(worker)
        self.runs.batches.batch_outcome(planned, outcome(planned))

    def in_flight(self) -> list[PlannedRun]:
        return [w.planned for w in self.runs.workers if w.planned is not None]


def scrape(number: int) -> PlannedRun:
    return PlannedRun(batch(number), (Phase.SCRAPING,))


def analysis(number: int) -> PlannedRun:
    return PlannedRun(batch(number), LATER)


def test_scrapes_run_ahead_at_the_apify_bound_while_analyses_run_at_their_own() -> None:
    schedule = Schedule(6, parallel=2, actor_runs=3, source=DatasetSource.ACCOUNTS)

    assert schedule.start_all_that_may() == [scrape(1), scrape(2), scrape(3)]
    schedule.end(scrape(1))
    # Its analysis starts, and another scrape takes the actor run's place.
    assert schedule.start_all_that_may() == [analysis(1), scrape(4)]
    schedule.end(scrape(2))
    schedule.end(scrape(3))
    assert schedule.start_all_that_may() == [analysis(2), scrape(5), scrape(6)]
    # Two analyses run: batch 3's waits for one of them though its scrape is done.
    assert analysis(3) not in schedule.in_flight()
    schedule.end(analysis(1))
    assert schedule.start_all_that_may() == [analysis(3)]
    for planned in [scrape(4), scrape(5), scrape(6), analysis(2), analysis(3)]:
        schedule.end(planned)
        schedule.start_all_that_may()
    for number in (4, 5, 6):
        schedule.end(analysis(number))
        schedule.start_all_that_may()

    assert not schedule.in_flight() and not schedule.runs.batches
    # Every batch's scrape and analysis started once each.
    assert sorted(schedule.started, key=str) == sorted(
        [scrape(n) for n in range(1, 7)] + [analysis(n) for n in range(1, 7)], key=str
    )


def test_a_batch_whose_scrape_failed_is_not_analysed() -> None:
    schedule = Schedule(2, parallel=2, actor_runs=2, source=DatasetSource.ACCOUNTS)
    schedule.start_all_that_may()
    schedule.runs.workers.clear()

    schedule.runs.batches.batch_outcome(scrape(1), outcome(scrape(1), success=False))
    schedule.runs.batches.batch_outcome(scrape(2), outcome(scrape(2)))

    assert schedule.start_all_that_may() == [analysis(2)]
    assert schedule.runs.next_start([]) is None


def test_an_exports_batches_run_whole_up_to_n_at_once_whatever_the_apify_bound() -> None:
    schedule = Schedule(3, parallel=2, actor_runs=1, source=DatasetSource.EXPORT)
    whole = [PlannedRun(batch(n), PHASES) for n in (1, 2, 3)]

    assert schedule.start_all_that_may() == whole[:2]
    schedule.end(whole[0])
    assert schedule.start_all_that_may() == whole[2:]


def test_spare_workers_are_started_for_the_next_scrapes_only() -> None:
    many = Schedule(20, parallel=4, actor_runs=4, source=DatasetSource.ACCOUNTS)
    few = Schedule(2, parallel=2, actor_runs=2, source=DatasetSource.ACCOUNTS)
    export = Schedule(20, parallel=4, actor_runs=4, source=DatasetSource.EXPORT)
    for schedule in (many, few, export):
        schedule.start_all_that_may()

    # Four scrapes wait on Apify, sixteen are left: four workers for the next round.
    assert many.runs.spares_wanted() == 4
    # Nothing left to scrape: each scrape's worker goes on to its batch's analysis.
    assert few.runs.spares_wanted() == 0
    # An export's batches run whole: a worker is free when a batch ends.
    assert export.runs.spares_wanted() == 0
