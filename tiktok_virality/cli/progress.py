"""What a CLI run shows while it works: a live line per phase (batches and videos done, errors,
elapsed and remaining time) and the batch being run, then a summary table.

The live display is drawn only on a terminal: piped or redirected, a run prints its one line per
batch and the summary, nothing that redraws itself."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich.box import HEAVY_HEAD, Box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from tiktok_virality.cli.runner import PlannedRun, RunOutcome
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import PHASES, Phase


@dataclass
class PhaseTally:
    """One phase of a run: batches planned, done and failed, rows stored and errors recorded."""

    phase: Phase
    planned: int
    done: int = 0
    failed: int = 0
    rows: int = 0
    errors: int = 0

    def count(self, outcome: RunOutcome) -> None:
        if self.phase not in outcome.phases:
            return
        if self.phase in outcome.rows:
            self.done += 1
            self.rows += outcome.rows[self.phase]
            self.errors += outcome.errors.get(self.phase, 0)
        elif not outcome.interrupted:
            # The run failed in this phase or an earlier one: either way this batch is not done.
            self.failed += 1


def tally_phases(runs: Sequence[PlannedRun]) -> dict[Phase, PhaseTally]:
    return {
        phase: PhaseTally(phase, planned=sum(phase in run.phases for run in runs))
        for phase in PHASES
        if any(phase in run.phases for run in runs)
    }


def summary_table(
    tallies: dict[Phase, PhaseTally], seconds: float, *, box: Box = HEAVY_HEAD
) -> Table:
    table = Table(title=f"run summary ({seconds:.1f} s)", title_justify="left", box=box)
    for column in ("phase", "batches planned", "done", "failed", "rows stored", "errors"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for tally in tallies.values():
        table.add_row(
            tally.phase.value,
            *map(str, (tally.planned, tally.done, tally.failed, tally.rows, tally.errors)),
        )
    return table


def render_plain(table: Table, width: int = 100) -> str:
    """The table as text, for the run log (give it an ASCII box)."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(table)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue().rstrip()


_PHASE_ROWS = {Phase.SCRAPING: "kept", Phase.ANALYSIS: "analysed", Phase.FEATURES: "rows"}


class RunProgress:
    """The live display of one CLI run: a line for the batches (those running, the time left),
    and one per phase. A no-op when the console is not a terminal."""

    def __init__(self, runs: Sequence[PlannedRun], console: Console) -> None:
        self.tallies = tally_phases(runs)
        self._batches_planned = len(runs)
        self._progress = Progress(
            SpinnerColumn(finished_text=" "),
            TextColumn("{task.description:<9}"),
            BarColumn(bar_width=12),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]:<32}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self._batches: TaskID | None = None
        self._phases: dict[Phase, TaskID] = {}
        self._running: list[VideoPartition] = []
        # The phases of each batch counted already: a batch scraped ahead ends in a second run.
        self._counted: dict[VideoPartition, set[Phase]] = {}

    @contextmanager
    def shown(self) -> Iterator[RunProgress]:
        with self._progress:
            self._batches = self._progress.add_task(
                "batches", total=self._batches_planned, detail=""
            )
            for phase, tally in self.tallies.items():
                self._phases[phase] = self._progress.add_task(
                    phase.value, total=tally.planned, detail=_detail(tally)
                )
            yield self

    def running(self, partition: VideoPartition) -> None:
        self._running.append(partition)
        if self._batches is not None:
            self._progress.update(self._batches, detail=self._running_detail())

    def phases_finished(self, outcome: RunOutcome) -> None:
        """A run of some of a batch's phases ended, and the batch goes on in another run (scraped
        ahead of its analysis): count those phases; the batch is not finished."""
        self._stop_running(outcome.partition)
        self._count(outcome)
        if self._batches is not None:
            self._progress.update(self._batches, detail=self._running_detail())

    def finished(self, outcome: RunOutcome) -> None:
        """The batch's last run ended: count its phases not counted yet."""
        self._stop_running(outcome.partition)
        if self._batches is not None:
            self._progress.update(self._batches, advance=1, detail=self._running_detail())
        self._count(outcome)

    def _stop_running(self, partition: VideoPartition) -> None:
        if partition in self._running:
            self._running.remove(partition)

    def _count(self, outcome: RunOutcome) -> None:
        counted = self._counted.setdefault(outcome.partition, set())
        for phase, tally in self.tallies.items():
            if phase in counted:
                continue
            tally.count(outcome)
            if phase in self._phases:
                self._progress.update(
                    self._phases[phase], completed=tally.done + tally.failed, detail=_detail(tally)
                )
        counted.update(outcome.phases)

    def _running_detail(self) -> str:
        """Every batch in flight (one, or up to --parallel of them)."""
        return f"running {', '.join(map(str, self._running))}" if self._running else ""


def _detail(tally: PhaseTally) -> str:
    failed = f", {tally.failed} failed" if tally.failed else ""
    return f"{tally.rows} {_PHASE_ROWS[tally.phase]}, {_plural(tally.errors, 'error')}{failed}"


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
