"""4. Orchestration overhead: the offline pipeline on many batches, and where its wall time goes.

A dataset made from a synthetic export (so the offline pipeline can run it) is run by the CLI in a
child process; the Dagster event log of its runs then splits the wall time into the steps (the
assets' own work) and everything around them."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from bench import synthetic
from bench.core import Benchmark, Measurement, ResultTable, Verdict, column, share
from bench.pipeline import CliRun, Workspace
from tiktok_virality.defs.datasets.operations import create_export_dataset
from tiktok_virality.defs.datasets.registry import REGISTRY_SCHEMA, DatasetRegistry
from tiktok_virality.warehouse.migrations import migrate

_DATASET = "bench"
_TARGET_SECONDS_PER_STEP = 1.0
_START_UP = "CLI start-up and planning (imports, instance, partition status)"
_STEPS = "steps: the assets' work (asset code, IO manager, Dagster's events within)"
_EXIT = "CLI exit (last run's end to the process's end)"
_STEP_ENDS = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
_RUN_ENDS = {dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE}
_TIMELINE_EVENTS = {dg.DagsterEventType.STEP_START, *_STEP_ENDS, *_RUN_ENDS}


@dataclass(frozen=True)
class OrchestrationConfig:
    batches: int
    accounts_per_batch: int
    videos_per_account: int


FULL = OrchestrationConfig(batches=40, accounts_per_batch=5, videos_per_account=15)
SMOKE = OrchestrationConfig(batches=2, accounts_per_batch=2, videos_per_account=3)


@dataclass(frozen=True)
class TimeRow:
    part: str = column("where the time goes")
    seconds: float = column("s", "{:.1f}")
    per_partition: float = column("s per partition", "{:.2f}")
    per_step: float = column("s per partition-step", "{:.2f}")
    part_of_wall: float = column("share of the wall time", "{:.0%}")


@dataclass(frozen=True)
class _RunTimeline:
    partition: str
    created: float
    steps: list[tuple[float, float]]  # (start, end), in order
    finished: float
    events: int

    @property
    def of_a_batch(self) -> bool:
        """A dataset × batch partition's run, not a dataset-level one (the virality model)."""
        return "|" in self.partition


def measure(config: OrchestrationConfig, work_dir: Path) -> Measurement:
    workspace = Workspace(work_dir)
    accounts = [
        f"bench{number:04d}" for number in range(config.batches * config.accounts_per_batch)
    ]
    scraped_at = datetime.now(UTC)
    items = synthetic.apify_items(
        accounts, scraped_at=scraped_at, videos_per_account=config.videos_per_account
    )
    migrate(workspace.settings.database, [REGISTRY_SCHEMA])
    with workspace.instance() as instance:
        create_export_dataset(
            instance,
            DatasetRegistry(database=str(workspace.settings.database)),
            _DATASET,
            [item for account_items in items.values() for item in account_items],
            origin="benchmark export",
            scraped_at=scraped_at,
            batch_size=config.accounts_per_batch,
        )
    # One batch after another (`--parallel 1`): the orchestration of one run at a time, which this
    # section accounts for step by step; batches side by side are measured apart (section 11).
    run = workspace.cli(["run", "--dataset", _DATASET, "--offline", "--parallel", "1"])
    if run.exit_code != 0:
        raise RuntimeError(f"the offline run failed ({run.exit_code}): {run.output[-2000:]}")
    with workspace.instance() as instance:
        timelines = _timelines(instance)
    partitions = sum(timeline.of_a_batch for timeline in timelines)
    if partitions != config.batches:
        raise RuntimeError(f"{partitions} partition runs for {config.batches} batches")
    return _measurement(config, run, timelines)


def _timelines(instance: dg.DagsterInstance) -> list[_RunTimeline]:
    timelines = []
    for record in sorted(instance.get_run_records(), key=lambda r: r.create_timestamp):
        run_id = record.dagster_run.run_id
        events = instance.all_logs(run_id, of_type=_TIMELINE_EVENTS)
        started = {
            event.step_key: event.timestamp
            for event in events
            if event.dagster_event_type == dg.DagsterEventType.STEP_START
        }
        timelines.append(
            _RunTimeline(
                partition=record.dagster_run.tags.get("dagster/partition", ""),
                created=record.create_timestamp.timestamp(),
                steps=[
                    (started[event.step_key], event.timestamp)
                    for event in events
                    if event.dagster_event_type in _STEP_ENDS
                ],
                finished=next(e.timestamp for e in events if e.dagster_event_type in _RUN_ENDS),
                events=len(instance.all_logs(run_id)),
            )
        )
    return timelines


def _measurement(
    config: OrchestrationConfig, run: CliRun, timelines: Sequence[_RunTimeline]
) -> Measurement:
    parts = {
        _START_UP: timelines[0].created - run.started,
        "run set-up (run record, planned-materialization events, resources)": sum(
            t.steps[0][0] - t.created for t in timelines
        ),
        _STEPS: sum(end - start for t in timelines for start, end in t.steps),
        "between steps": sum(
            later[0] - earlier[1]
            for t in timelines
            for earlier, later in itertools.pairwise(t.steps)
        ),
        "run completion (last step to the run's end)": sum(
            t.finished - t.steps[-1][1] for t in timelines
        ),
        "between runs (CLI bookkeeping, building the in-process job)": sum(
            later.created - earlier.finished for earlier, later in itertools.pairwise(timelines)
        ),
        _EXIT: run.ended - timelines[-1].finished,
    }
    wall = run.ended - run.started
    beyond = wall - parts[_STEPS]
    per_run = beyond - parts[_START_UP] - parts[_EXIT]
    batch_runs = [t for t in timelines if t.of_a_batch]
    other_runs = [t for t in timelines if not t.of_a_batch]
    steps = sum(len(t.steps) for t in timelines)

    def row(part: str, seconds: float) -> TimeRow:
        return TimeRow(
            part=part,
            seconds=seconds,
            per_partition=seconds / len(batch_runs),
            per_step=seconds / steps,
            part_of_wall=share(seconds, wall),
        )

    rows = [row(part, seconds) for part, seconds in parts.items()]
    rows += [
        row("total wall time of the CLI run", wall),
        row("beyond the steps", beyond),
        row("beyond the steps, without the CLI's start-up and exit", per_run),
    ]
    overhead_per_step = beyond / steps
    largest = max((p for p in parts if p != _STEPS), key=parts.__getitem__)
    notes = [
        f"Where the rest goes: the largest part outside the steps is '{largest}' "
        f"({parts[largest]:.1f} s). Each partition is its own in-process Dagster run "
        f"(`dg.materialize`) that writes about "
        f"{statistics.mean(t.events for t in batch_runs):.0f} events to the SQLite event log "
        "(planned materializations, run start and end, step, input, output, materialization and "
        "asset-check events); those within a step count as the step's time here, so the assets' "
        "own code takes less than the step time.",
        "The analysis in this run is offline (no API calls); with Gemini, each partition's "
        "analysis step adds its API time (section 1) to the same overhead.",
    ]
    if other_runs:
        notes.append(
            f"After the partitions, the CLI run made {len(other_runs)} dataset-level "
            f"{'run' if len(other_runs) == 1 else 'runs'} (partition "
            f"{', '.join(t.partition for t in other_runs)}: the virality model), "
            f"{sum(t.finished - t.created for t in other_runs):.1f} s in all, counted like the "
            "partitions' runs (their steps as steps)."
        )
    return Measurement(
        method=(
            f"A dataset of {config.batches} batches ({config.accounts_per_batch} accounts × "
            f"{config.videos_per_account} videos each, from a synthetic Apify export) is run by "
            f"`tiktok-virality run --dataset {_DATASET} --offline` in a child process with a "
            "fresh data directory and Dagster home (telemetry off). Steps are timed from "
            "STEP_START to STEP_SUCCESS in the Dagster event log; everything else is overhead. "
            "A partition-step is one step of one partition's run."
        ),
        tables=[
            ResultTable(
                f"{len(batch_runs)} partitions, {steps} steps in {len(timelines)} Dagster runs, "
                "offline",
                rows,
            )
        ],
        verdicts=[
            Verdict(
                f"≤ {_TARGET_SECONDS_PER_STEP:g} s per partition-step beyond the assets' work",
                f"{overhead_per_step:.2f} s ({beyond / len(batch_runs):.2f} s per partition; "
                f"{per_run / len(batch_runs):.2f} s without the CLI's start-up and exit)",
                overhead_per_step <= _TARGET_SECONDS_PER_STEP,
            )
        ],
        notes=notes,
    )


BENCHMARK = Benchmark(
    key="orchestration",
    title="4. Orchestration overhead of the offline pipeline",
    full=FULL,
    smoke=SMOKE,
    measure=measure,
)
