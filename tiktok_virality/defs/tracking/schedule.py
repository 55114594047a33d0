"""The schedule that refreshes the tracked datasets: one schedule reading the cadences in the
tracking store (`tiktok-virality track`), so that tracking a dataset needs no code change or
reload. It ticks every 15 minutes, asks for the refresh of each dataset that is due and requests
one video-pipeline run per batch. Shown on the UI's Automation page, where it can be turned off;
on by default, as it does nothing until a dataset is tracked. It runs while the Dagster daemon
does (`tiktok-virality ui`); the dataset's model and report follow by their automation
condition."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.tracking.refresh import due_datasets, refresh_runs
from tiktok_virality.defs.tracking.store import TrackingStore

REFRESH_SCHEDULE = "refresh_tracked_datasets"


def refresh_tracked_datasets(
    context: dg.ScheduleEvaluationContext, tracking: TrackingStore, registry: DatasetRegistry
) -> list[dg.RunRequest] | dg.SkipReason:
    """Each due dataset's refresh: one run of the video pipeline per batch."""
    now = context.scheduled_execution_time or datetime.now(UTC)
    requests = []
    for dataset in due_datasets(tracking.tracked(), now):
        # Keyed by the tick's time: a tick evaluated again asks for the same refresh.
        refresh = tracking.request_refresh(dataset, requested_at=now, origin="schedule")
        requests += [
            dg.RunRequest(run_key=run.run_key, partition_key=run.partition.key, tags=run.tags)
            for run in refresh_runs(dataset, registry.batches(dataset), refresh)
        ]
    return requests or dg.SkipReason("no tracked dataset is due for a refresh")


def refresh_schedule(video_pipeline: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """The schedule, on the job that `definitions.py` assembles."""
    return dg.schedule(
        name=REFRESH_SCHEDULE,
        cron_schedule="*/15 * * * *",
        job=video_pipeline,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Refresh the tracked datasets on their cadence (`tiktok-virality track`).",
    )(refresh_tracked_datasets)
