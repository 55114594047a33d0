"""Scraping ahead in `run --parallel`: a batch's scrape is a run of its own, started as soon as the
Apify bound allows, and its analysis (with signals and features) a second run, started when a
worker for analyses is free.

Why: an actor run waits minutes on Apify and an analysis seconds per video on Gemini. A batch run
whole holds its worker through both, so while a round of batches scrapes no analysis runs, and the
next round's actor runs wait for this round's analyses (measured: docs/benchmarks.md, section 11).
Apart, each side runs at its own bound: actor runs at APIFY_MAX_CONCURRENT_RUNS, analyses at the
Gemini quota. A batch is still one batch to the user: its two runs make one outcome, one line.
An export's batch is not split: its scrape reads a file, there is nothing to run ahead of."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tiktok_virality.cli.runner import PlannedRun, RunOutcome
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase


def split_scrape(planned: PlannedRun) -> tuple[PlannedRun, PlannedRun] | None:
    """The scrape of a planned run and the run of its later phases, when it has both."""
    if Phase.SCRAPING not in planned.phases or len(planned.phases) == 1:
        return None
    later = tuple(phase for phase in planned.phases if phase is not Phase.SCRAPING)
    return PlannedRun(planned.partition, (Phase.SCRAPING,)), PlannedRun(planned.partition, later)


def merge_outcomes(scraped: RunOutcome, later: RunOutcome) -> RunOutcome:
    """A batch's outcome from its scrape's and its later phases' runs (the run id: the later's)."""
    return replace(
        later,
        phases=scraped.phases + later.phases,
        seconds=scraped.seconds + later.seconds,
        rows={**scraped.rows, **later.rows},
        errors={**scraped.errors, **later.errors},
        rejected_by_rule=scraped.rejected_by_rule,
    )


@dataclass
class BatchQueue:
    """The batches of a parallel run not started yet: scrapes to start, and analyses ready to
    start (their batch scraped by this run or an earlier one), oldest first."""

    scrape_ahead: bool
    to_scrape: deque[PlannedRun] = field(default_factory=deque)
    ready: deque[PlannedRun] = field(default_factory=deque)
    # The run that follows each scrape under way, and the outcome of each scrape done whose
    # batch's later phases have not ended yet.
    later_runs: dict[VideoPartition, PlannedRun] = field(default_factory=dict)
    scraped: dict[VideoPartition, RunOutcome] = field(default_factory=dict)

    @classmethod
    def of(cls, planned_runs: Sequence[PlannedRun], *, scrape_ahead: bool) -> BatchQueue:
        """The queue of these runs, their scrapes split off to run ahead if `scrape_ahead` (an
        export's scrape reads a file: nothing to wait for, and its batch stays one run)."""
        queue = cls(scrape_ahead)
        for planned in planned_runs:
            split = split_scrape(planned) if scrape_ahead else None
            if split is None:
                (queue.to_scrape if Phase.SCRAPING in planned.phases else queue.ready).append(
                    planned
                )
            else:
                queue.to_scrape.append(split[0])
                queue.later_runs[planned.partition] = split[1]
        return queue

    def __bool__(self) -> bool:
        return bool(self.to_scrape or self.ready)

    def runs_ahead(self, planned: PlannedRun) -> bool:
        """Whether `planned` is a scrape split off its batch to run ahead (its batch's later run
        is kept until the scrape ends)."""
        return planned.partition in self.later_runs

    def batch_outcome(self, planned: PlannedRun, outcome: RunOutcome) -> RunOutcome | None:
        """What a run's outcome means for its batch: None when the batch goes on (a scrape ahead
        that succeeded: its later phases are ready to start), else the batch's outcome — a scrape
        that failed or was interrupted ends its batch with every phase planned undone, and a
        later run ends it with its scrape's rows."""
        if self.runs_ahead(planned):
            later = self.later_runs.pop(planned.partition)
            if outcome.success and not outcome.interrupted:
                self.scraped[planned.partition] = outcome
                self.ready.append(later)
                return None
            return replace(outcome, phases=outcome.phases + later.phases)
        scraped = self.scraped.pop(planned.partition, None)
        return outcome if scraped is None else merge_outcomes(scraped, outcome)
