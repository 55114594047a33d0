"""What Dagster's records say about a dataset's partitions, whoever ran them (the CLI, the UI, a
backfill, a schedule): each phase's status, whether a partition's last run was interrupted rather
than failed, and the dataset's last run. Reading them imports Dagster but not the graph, so that
`status` answers quickly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import dagster as dg

from tiktok_virality.core.partitions import (
    DATASET_DIMENSION,
    PARTITION_TAG,
    VideoPartition,
    video_partitions,
)
from tiktok_virality.core.phases import PHASES, Phase
from tiktok_virality.warehouse.tables import (
    RAW_VIDEOS,
    REJECTED_VIDEOS,
    VIDEO_ANALYSES,
    VIDEO_FEATURES,
    VIDEO_SIGNALS,
)

# The asset whose partition status is the phase's status.
PHASE_ASSETS: Mapping[Phase, dg.AssetKey] = {
    Phase.SCRAPING: dg.AssetKey(RAW_VIDEOS.name),
    Phase.ANALYSIS: dg.AssetKey(VIDEO_ANALYSES.name),
    Phase.FEATURES: dg.AssetKey(VIDEO_FEATURES.name),
}
# What a run of the phase materializes: scraping stores the rejected rows beside the raw ones.
PHASE_SELECTION: Mapping[Phase, tuple[dg.AssetKey, ...]] = {
    **{phase: (key,) for phase, key in PHASE_ASSETS.items()},
    Phase.SCRAPING: (dg.AssetKey(RAW_VIDEOS.name), dg.AssetKey(REJECTED_VIDEOS.name)),
    # The features read the measured signals: the phase measures them first.
    Phase.FEATURES: (dg.AssetKey(VIDEO_SIGNALS.name), dg.AssetKey(VIDEO_FEATURES.name)),
}

Status = dg.AssetPartitionStatus | None


@dataclass(frozen=True)
class PartitionState:
    partition: VideoPartition
    statuses: Mapping[Phase, Status]
    # The last run stopped from outside rather than failing: it is resumed, not retried.
    interrupted: bool = False

    @property
    def done(self) -> bool:
        return all(
            status is dg.AssetPartitionStatus.MATERIALIZED for status in self.statuses.values()
        )

    @property
    def failed_phase(self) -> Phase | None:
        return next((p for p in PHASES if self.statuses[p] is dg.AssetPartitionStatus.FAILED), None)

    @property
    def in_progress(self) -> bool:
        return any(s is dg.AssetPartitionStatus.IN_PROGRESS for s in self.statuses.values())

    def materialized_before(self, phase: Phase) -> bool:
        return all(
            self.statuses[earlier] is dg.AssetPartitionStatus.MATERIALIZED
            for earlier in PHASES[: PHASES.index(phase)]
        )

    @property
    def first_unmaterialized_phase(self) -> Phase | None:
        return next(
            (p for p in PHASES if self.statuses[p] is not dg.AssetPartitionStatus.MATERIALIZED),
            None,
        )


def partition_states(
    instance: dg.DagsterInstance, partitions: Sequence[VideoPartition]
) -> list[PartitionState]:
    keys = [partition.key for partition in partitions]
    by_asset: dict[dg.AssetKey, Mapping[str, Status]] = {}
    with dg.partition_loading_context(dynamic_partitions_store=instance):
        for asset_key in {key for selection in PHASE_SELECTION.values() for key in selection}:
            by_asset[asset_key] = (
                instance.get_status_by_partition(asset_key, keys, video_partitions) or {}
            )
    states = [
        PartitionState(
            partition,
            {
                phase: phase_status([by_asset[key].get(partition.key) for key in selection])
                for phase, selection in PHASE_SELECTION.items()
            },
        )
        for partition in partitions
    ]
    return [
        replace(state, interrupted=_last_run_interrupted(instance, state.partition))
        if state.failed_phase is not None
        else state
        for state in states
    ]


# Tags Dagster puts on runs: the partition a run materializes (a dataset's, or a dataset × batch key
# with a tag per dimension), why a run failed (which we also set for a run whose process was
# killed), and what launched it.
DATASET_PARTITION_TAG = f"{PARTITION_TAG}/{DATASET_DIMENSION}"
FAILURE_REASON_TAG = "dagster/failure_reason"
UNEXPECTED_TERMINATION = "UNEXPECTED_TERMINATION"
# The CLI's own tag on the runs it launches.
LAUNCHED_BY_TAG = "tiktok_virality/launched_by"
# What else launches runs, by the tag Dagster gives their runs, in the order they are told apart
# (the automation's runs also carry the name of the sensor that evaluates it).
LAUNCHERS_BY_TAG = {
    "dagster/from_automation_condition": "automation",
    "dagster/backfill": "backfill",
    "dagster/schedule_name": "schedule",
    "dagster/sensor_name": "sensor",
}
# A run with none of these tags was launched from the UI (or by a script of the user's).
UNTAGGED_LAUNCHER = "ui"


def run_was_interrupted(run: dg.DagsterRun) -> bool:
    """Stopped from outside (Ctrl-C, a killed process, terminated in the UI), not failed by its
    own work."""
    return (
        run.status is dg.DagsterRunStatus.CANCELED
        or run.tags.get(FAILURE_REASON_TAG) == UNEXPECTED_TERMINATION
    )


def _last_run_interrupted(instance: dg.DagsterInstance, partition: VideoPartition) -> bool:
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={PARTITION_TAG: str(partition.key)}), limit=1
    )
    return bool(records) and run_was_interrupted(records[0].dagster_run)


def phase_status(statuses: Sequence[Status]) -> Status:
    """A phase is as far as the least advanced of the assets it materializes: a phase whose
    rejected rows were not stored is failed, though its accepted rows were."""
    for worst in (dg.AssetPartitionStatus.FAILED, dg.AssetPartitionStatus.IN_PROGRESS):
        if worst in statuses:
            return worst
    if all(status is dg.AssetPartitionStatus.MATERIALIZED for status in statuses):
        return dg.AssetPartitionStatus.MATERIALIZED
    return None


@dataclass(frozen=True)
class LastRun:
    """The latest run that materialized any partition of a dataset."""

    run_id: str
    launched_at: datetime
    status: str  # Dagster's run status, in lower case: success, failure, started, ...
    launched_by: str  # cli, ui, backfill, schedule, sensor or automation


def launched_by(tags: Mapping[str, str]) -> str:
    """Who launched a run, by its tags."""
    if LAUNCHED_BY_TAG in tags:
        return tags[LAUNCHED_BY_TAG]
    return next(
        (launcher for tag, launcher in LAUNCHERS_BY_TAG.items() if tag in tags), UNTAGGED_LAUNCHER
    )


def last_run(instance: dg.DagsterInstance, dataset: str) -> LastRun | None:
    """The dataset's latest run, whoever launched it: of its batches' partitions (tagged with their
    dataset dimension) or of its model and report (tagged with the dataset's key)."""
    latest = [
        record
        for tags in ({DATASET_PARTITION_TAG: dataset}, {PARTITION_TAG: dataset})
        for record in instance.get_run_records(filters=dg.RunsFilter(tags=tags), limit=1)
    ]
    if not latest:
        return None
    record = max(latest, key=lambda found: found.create_timestamp)
    run = record.dagster_run
    return LastRun(
        run_id=run.run_id,
        launched_at=record.create_timestamp,
        status=run.status.value.lower(),
        launched_by=launched_by(run.tags),
    )
