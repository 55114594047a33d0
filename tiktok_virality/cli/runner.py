"""Running a dataset's partitions from the CLI, with Dagster's partition status as the resume record.

What is materialized is done, what failed is retried on request, and what was interrupted (Ctrl-C, a
killed process, a run terminated in the UI) is resumed by the next run: `plan_runs` turns the status
of each (partition, phase), read by `partition_status.py`, into the runs to make, and
`run_partition` makes one through the persistent instance, so the runs also show in `dagster dev`."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from tiktok_virality.cli.partition_status import (
    FAILURE_REASON_TAG,
    LAUNCHED_BY_TAG,
    PHASE_ASSETS,
    PHASE_SELECTION,
    UNEXPECTED_TERMINATION,
    PartitionState,
    run_was_interrupted,
)
from tiktok_virality.core.partitions import VideoPartition, dataset_partitions, runs_of_keys
from tiktok_virality.core.phases import PHASES, Phase
from tiktok_virality.definitions import DATASET_ASSET_KEYS, DATASET_JOB, VIDEO_PIPELINE_JOB
from tiktok_virality.defs.scraping.assets import APIFY_POOL
from tiktok_virality.defs.scraping.quality_rules import QualityRule


@dataclass(frozen=True)
class PlannedRun:
    partition: VideoPartition
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class RunPlan:
    runs: list[PlannedRun]
    already_done: list[VideoPartition] = field(default_factory=list)
    failed_not_retried: list[VideoPartition] = field(default_factory=list)
    in_progress: list[VideoPartition] = field(default_factory=list)


def _phases_from(first: Phase) -> tuple[Phase, ...]:
    return PHASES[PHASES.index(first) :]


def plan_runs(
    states: Sequence[PartitionState], *, retry_failed: bool, retry_phase: Phase | None
) -> RunPlan:
    """The runs that resume a dataset.

    Without `retry_failed`: partitions never attempted, stopped part-way or interrupted, from their
    first unmaterialized phase on. With it: only the partitions whose last attempt failed (or was
    interrupted), from the failed phase on — or from `retry_phase` on, when given and every phase
    before it is materialized (an analysis cannot be retried for a batch whose scrape failed). A
    partition that is in progress in another run is left alone.
    """
    plan = RunPlan(runs=[])
    for state in states:
        failed_phase = state.failed_phase
        if state.in_progress:
            plan.in_progress.append(state.partition)
        elif state.done:
            plan.already_done.append(state.partition)
        elif failed_phase is not None and (retry_failed or not state.interrupted):
            start = retry_phase or failed_phase
            if retry_failed and state.materialized_before(start):
                plan.runs.append(PlannedRun(state.partition, _phases_from(start)))
            else:
                plan.failed_not_retried.append(state.partition)
        elif not retry_failed:
            first = state.first_unmaterialized_phase
            assert first is not None  # not done, so some phase is unmaterialized
            plan.runs.append(PlannedRun(state.partition, _phases_from(first)))
    return plan


@dataclass(frozen=True)
class RunOutcome:
    partition: VideoPartition
    phases: tuple[Phase, ...]
    success: bool
    seconds: float
    rows: Mapping[Phase, int]
    # Problems recorded without failing the phase: missing accounts, videos Gemini cannot analyse.
    errors: Mapping[Phase, int]
    error: str | None
    run_id: str
    interrupted: bool = False
    # Videos the scraping phase left out, per quality rule (a video failing two counts for both).
    rejected_by_rule: Mapping[QualityRule, int] = field(default_factory=dict)


@dataclass
class PartitionsRun:
    """What running the planned partitions did."""

    outcomes: list[RunOutcome] = field(default_factory=list)
    # Planned scrapes left out because the dataset holds its max total videos.
    left_unscraped: list[VideoPartition] = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed(self) -> list[VideoPartition]:
        return [outcome.partition for outcome in self.outcomes if not outcome.success]


def _step_error(result: dg.ExecuteInProcessResult) -> str | None:
    """The first failed step and its root cause (Dagster wraps user errors in its own)."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:
                error = error.cause
            return f"{event.step_key}: {error.message.strip() if error else 'failed'}"
    return None if result.success else "the run failed"


# The CLI prints its own lines and live display, with each failure's reason; Dagster's console log
# would break into them. The full event log stays in the instance for the UI.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
HOST_TAG = "tiktok_virality/host"
PID_TAG = "tiktok_virality/pid"
# The phases a partition's run makes: a batch scraped ahead (`run --parallel`) has two runs, told
# apart by it in the UI's list of runs.
PHASES_TAG = "tiktok_virality/phases"
_UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _cli_run_tags() -> dict[str, str]:
    return {LAUNCHED_BY_TAG: "cli", HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the CLI runs on this machine whose process is gone (killed, out of memory).

    Such a run stays STARTED for ever, and its partition shows as in progress; once failed, it is
    retried like any failed partition. Returns the run ids."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            statuses=_UNFINISHED,
            tags={LAUNCHED_BY_TAG: "cli", HOST_TAG: socket.gethostname()},
        )
    )
    abandoned = [
        record.dagster_run
        for record in records
        if not _process_alive(int(record.dagster_run.tags[PID_TAG]))
    ]
    for run in abandoned:
        # What Dagster records for a run interrupted while it could still say so (Ctrl-C).
        instance.add_run_tags(run.run_id, {FAILURE_REASON_TAG: UNEXPECTED_TERMINATION})
        instance.report_run_failed(
            run, f"process {run.tags[PID_TAG]} running it ended without finishing the run"
        )
        _free_pool_slots(instance, run.run_id)
    return [run.run_id for run in abandoned]


def _free_pool_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    """Give back the pool slots (`apify`, `gemini`) a finished or abandoned run may still hold: a
    killed step never returns its own, and would hold its pool's place for ever."""
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def limit_actor_runs(instance: dg.DagsterInstance, limit: int) -> None:
    """Set the `apify` pool's limit from APIFY_MAX_CONCURRENT_RUNS, for every run of the instance
    (the CLI's, the UI's backfills) to keep."""
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.set_concurrency_slots(APIFY_POOL, limit)


def _execute(
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    partition_key: str,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """A CLI run of `job` for one partition, in this process, recorded in the persistent instance
    (tagged as the CLI's, so that a killed run is found) with Dagster's console log silenced."""
    return job.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        asset_selection=asset_selection,
        raise_on_error=False,
        tags={**_cli_run_tags(), **(tags or {})},
        run_config=QUIET_CONSOLE,
    )


def dataset_runs_in_progress(
    instance: dg.DagsterInstance, *, datasets: Sequence[str] = (), batches: Sequence[str] = ()
) -> list[str]:
    """The ids of the runs of these keys' partitions that are under way, after failing the CLI's
    abandoned ones (their process is gone: they will never finish)."""
    fail_abandoned_runs(instance)
    running = runs_of_keys(instance, datasets=datasets, batches=batches, statuses=_UNFINISHED)
    return [run.run_id for run in running]


def run_partition(
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    planned: PlannedRun,
    tags: Mapping[str, str] | None = None,
) -> RunOutcome:
    """One run of the video pipeline job for the partition's planned phases (with these tags
    too, e.g. a refresh's number)."""
    started = time.monotonic()
    result = _execute(
        instance,
        defs.resolve_job_def(VIDEO_PIPELINE_JOB),
        str(planned.partition.key),
        asset_selection=[key for phase in planned.phases for key in PHASE_SELECTION[phase]],
        tags={PHASES_TAG: ", ".join(planned.phases), **(tags or {})},
    )
    phase_by_key = {key: phase for phase, key in PHASE_ASSETS.items()}
    rows: dict[Phase, int] = {}
    errors: dict[Phase, int] = {}
    rejected_by_rule: dict[QualityRule, int] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        phase = phase_by_key.get(materialization.asset_key)
        if phase is None:
            continue
        rows[phase] = int(materialization.metadata["dagster/row_count"].value)
        if "errors" in materialization.metadata:
            errors[phase] = int(materialization.metadata["errors"].value)
        if "rejected_by_rule" in materialization.metadata:
            rejected = materialization.metadata["rejected_by_rule"].value
            rejected_by_rule = {QualityRule(rule): int(n) for rule, n in rejected.items()}  # type: ignore[union-attr]
    run = instance.get_run_by_id(result.run_id)
    _free_pool_slots(instance, result.run_id)
    return RunOutcome(
        partition=planned.partition,
        phases=planned.phases,
        success=result.success,
        seconds=time.monotonic() - started,
        rows=rows,
        errors=errors,
        error=_step_error(result),
        run_id=result.run_id,
        interrupted=run is not None and run_was_interrupted(run),
        rejected_by_rule=rejected_by_rule,
    )


@dataclass(frozen=True)
class DatasetRunOutcome:
    """A run of the assets made from a whole dataset (the model and the report)."""

    dataset: str
    success: bool
    seconds: float
    metadata: Mapping[str, Any]
    error: str | None


def dataset_model_missing(instance: dg.DagsterInstance, dataset: str) -> bool:
    """Whether the dataset's model or its report is not materialized (never, or it failed)."""
    with dg.partition_loading_context(dynamic_partitions_store=instance):
        return any(
            (instance.get_status_by_partition(key, [dataset], dataset_partitions) or {}).get(
                dataset
            )
            is not dg.AssetPartitionStatus.MATERIALIZED
            for key in DATASET_ASSET_KEYS
        )


def run_dataset_assets(
    instance: dg.DagsterInstance, defs: dg.Definitions, dataset: str
) -> DatasetRunOutcome:
    """Materialize the dataset's model and report from its stored partitions."""
    started = time.monotonic()
    result = _execute(instance, defs.resolve_job_def(DATASET_JOB), dataset)
    metadata: dict[str, Any] = {}
    for event in result.get_asset_materialization_events():
        metadata.update({key: value.value for key, value in event.materialization.metadata.items()})
    return DatasetRunOutcome(
        dataset=dataset,
        success=result.success,
        seconds=time.monotonic() - started,
        metadata=metadata,
        error=_step_error(result),
    )
