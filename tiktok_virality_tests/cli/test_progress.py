"""The CLI's live display and run summary: tallies per phase, quiet off a terminal."""

import io

from rich.box import ASCII
from rich.console import Console

from tiktok_virality.cli.progress import RunProgress, render_plain, summary_table, tally_phases
from tiktok_virality.cli.runner import PlannedRun, RunOutcome
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase

ALL = (Phase.SCRAPING, Phase.ANALYSIS, Phase.FEATURES)
B001, B002, B003 = (VideoPartition("v1", batch) for batch in ("b001", "b002", "b003"))
RUNS = [PlannedRun(B001, ALL), PlannedRun(B002, ALL), PlannedRun(B003, ALL[1:])]


def outcome(
    partition: VideoPartition,
    phases: tuple[Phase, ...],
    rows: dict[Phase, int],
    errors: dict[Phase, int] | None = None,
    *,
    interrupted: bool = False,
) -> RunOutcome:
    return RunOutcome(
        partition=partition,
        phases=phases,
        success=rows.keys() == set(phases),
        seconds=1.0,
        rows=rows,
        errors=errors or {},
        error=None,
        run_id="run",
        interrupted=interrupted,
    )


def test_each_phase_counts_its_batches_rows_errors_and_failures() -> None:
    tallies = tally_phases(RUNS)
    for result in (
        outcome(B001, ALL, {Phase.SCRAPING: 50, Phase.ANALYSIS: 50, Phase.FEATURES: 50},
                {Phase.SCRAPING: 1, Phase.ANALYSIS: 2}),
        outcome(B002, ALL, {Phase.SCRAPING: 45}),  # analysis failed: features never ran
        outcome(B003, ALL[1:], {Phase.ANALYSIS: 10, Phase.FEATURES: 10}),
    ):  # fmt: skip
        for tally in tallies.values():
            tally.count(result)

    counted = {
        phase: (t.planned, t.done, t.failed, t.rows, t.errors) for phase, t in tallies.items()
    }
    assert counted == {
        Phase.SCRAPING: (2, 2, 0, 95, 1),
        Phase.ANALYSIS: (3, 2, 1, 60, 2),
        Phase.FEATURES: (3, 2, 1, 60, 0),
    }


def test_an_interrupted_batch_is_neither_done_nor_failed() -> None:
    tallies = tally_phases(RUNS[:1])
    stopped = outcome(B001, ALL, {Phase.SCRAPING: 50}, interrupted=True)
    for tally in tallies.values():
        tally.count(stopped)

    assert [(t.done, t.failed) for t in tallies.values()] == [(1, 0), (0, 0), (0, 0)]


def test_the_summary_table_has_a_row_per_planned_phase() -> None:
    tallies = tally_phases(RUNS[2:])
    tallies[Phase.ANALYSIS].done, tallies[Phase.ANALYSIS].rows = 1, 10

    text = render_plain(summary_table(tallies, 12.34, box=ASCII))

    assert "run summary (12.3 s)" in text
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in lines] == ["phase", "analysis", "features"]
    assert [cell.strip() for cell in lines[1].split("|")[2:-1]] == ["1", "1", "0", "10", "0"]


def test_the_live_display_draws_on_a_terminal_only() -> None:
    drawn = {}
    for terminal in (False, True):
        output = io.StringIO()
        progress = RunProgress(RUNS, Console(file=output, force_terminal=terminal, width=100))
        with progress.shown():
            progress.running(B001)
            progress.finished(outcome(B001, ALL, {p: 50 for p in ALL}))
        drawn[terminal] = output.getvalue()

    assert drawn[False] == ""
    assert "scraping" in drawn[True] and "50 kept, 0 errors" in drawn[True]
    assert "1/2" in drawn[True] and "1/3" in drawn[True]
