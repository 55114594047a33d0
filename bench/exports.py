"""9. A real-sized export end to end: a 1,000-video hashtag export (many authors of one or two
videos, as the Apify console exports it) imported and run offline, against the bundled demo.

Both go through the CLI in child processes with fresh data directories, alternately, so that a
busy machine slows both alike; the median of the repeats is compared."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench.core import REPO_ROOT, Benchmark, Measurement, ResultTable, Verdict, column
from bench.pipeline import CliRun, Workspace
from tiktok_virality_tests.synthetic_exports import (
    HASHTAG_EXPORT_NAME,
    hashtag_scrape_items,
    write_console_csv,
)

_TARGET_RATIO = 3.0
# The children import this checkout's code, also when the installed package is another checkout's
# (a git worktree beside an editable install).
_SAME_CODE = {"PYTHONPATH": str(REPO_ROOT)}


@dataclass(frozen=True)
class ExportsConfig:
    videos: int
    repeats: int


FULL = ExportsConfig(videos=1_000, repeats=3)
SMOKE = ExportsConfig(videos=60, repeats=1)


@dataclass(frozen=True)
class ExportRow:
    what: str = column("what ran")
    repeat: int = column("repeat")
    partitions: int = column("partitions")
    kept: int = column("videos kept")
    seconds: float = column("wall time, s", "{:.1f}")


def measure(config: ExportsConfig, work_dir: Path) -> Measurement:
    items = hashtag_scrape_items(videos=config.videos)
    rows: list[ExportRow] = []
    for repeat in range(1, config.repeats + 1):
        demo = Workspace(work_dir / f"demo{repeat}", _SAME_CODE)
        rows.append(_row("bundled demo", repeat, demo, [_cli(demo, "run", "demo")]))
        export = Workspace(work_dir / f"export{repeat}", _SAME_CODE)
        path = write_console_csv(items, export.root / HASHTAG_EXPORT_NAME)
        runs = [
            _checked(export.cli(["dataset", "import", "--dataset", "booktok", str(path)])),
            _cli(export, "run", "booktok"),
        ]
        rows.append(_row(f"{config.videos}-video export", repeat, export, runs))
    demo_seconds = statistics.median(row.seconds for row in rows if row.what == "bundled demo")
    export_seconds = statistics.median(row.seconds for row in rows if row.what != "bundled demo")
    ratio = export_seconds / demo_seconds
    return Measurement(
        method=(
            f"`tiktok-virality run --dataset demo --offline` (the bundled sample: 120 items of "
            f"9 accounts, 2 partitions) against `tiktok-virality dataset import` of a synthetic "
            f"{config.videos}-video hashtag-scrape console CSV "
            f"(`tiktok_virality_tests/synthetic_exports.py`: authors of 1-3 videos, 30% older "
            "than six months) followed by `run --offline` on it, each in a child process with a "
            f"fresh data directory, alternately, {config.repeats} time(s); the wall time includes "
            "the model and the report."
        ),
        tables=[ResultTable("wall time of each run", rows)],
        verdicts=[
            Verdict(
                f"a {config.videos}-video export imports and runs in ≤ {_TARGET_RATIO:g}× the "
                "bundled demo's time",
                f"{export_seconds:.1f} s against {demo_seconds:.1f} s (median): {ratio:.2f}×",
                ratio <= _TARGET_RATIO,
            )
        ],
        notes=[
            "Batches of an export hold whole accounts up to 500 videos, so the export is 2 "
            "partitions instead of about 160 of five authors each (about 1.2 s of orchestration "
            "each, section 4)."
        ],
    )


def _cli(workspace: Workspace, command: str, dataset: str) -> CliRun:
    return _checked(workspace.cli([command, "--dataset", dataset, "--offline"]))


def _checked(run: CliRun) -> CliRun:
    if run.exit_code != 0:
        raise RuntimeError(f"the CLI failed ({run.exit_code}): {run.output[-2000:]}")
    return run


def _row(what: str, repeat: int, workspace: Workspace, runs: list[CliRun]) -> ExportRow:
    with duckdb.connect(str(workspace.settings.database), read_only=True) as connection:
        partitions, kept = connection.execute(
            "SELECT count(DISTINCT batch), count(*) FROM raw_videos"
        ).fetchall()[0]
    return ExportRow(
        what=what,
        repeat=repeat,
        partitions=partitions,
        kept=kept,
        seconds=sum(run.ended - run.started for run in runs),
    )


BENCHMARK = Benchmark(
    key="exports",
    title="9. A 1,000-video export end to end, against the bundled demo",
    full=FULL,
    smoke=SMOKE,
    measure=measure,
)
