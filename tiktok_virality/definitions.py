"""The one assembly of the graph: what `dagster dev` loads (workspace.yaml) and what the CLI runs.

Each room under `defs/` contributes its assets; this module adds the jobs, the resources (chosen in
`resources.py`, live or offline) and the executor."""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from tiktok_virality.config import load_settings
from tiktok_virality.defs.analysis import definitions as analysis
from tiktok_virality.defs.features import definitions as features
from tiktok_virality.defs.model import definitions as model
from tiktok_virality.defs.model.assets import virality_model
from tiktok_virality.defs.report import definitions as report
from tiktok_virality.defs.report.assets import virality_report
from tiktok_virality.defs.scraping import definitions as scraping
from tiktok_virality.defs.signals import definitions as signals
from tiktok_virality.defs.tracking.schedule import refresh_schedule
from tiktok_virality.resources import build_resources
from tiktok_virality.warehouse.outputs import VIDEO_GROUP

VIDEO_PIPELINE_JOB = "video_pipeline"
DATASET_JOB = "dataset_model"

video_pipeline_job = dg.define_asset_job(
    VIDEO_PIPELINE_JOB,
    selection=dg.AssetSelection.groups(VIDEO_GROUP),
    description="Scrape, analyse and build the features of dataset × batch partitions.",
)
# What a dataset's partition of the model and report materializes.
DATASET_ASSET_KEYS = (*virality_model.keys, *virality_report.keys)
dataset_job = dg.define_asset_job(
    DATASET_JOB,
    selection=dg.AssetSelection.assets(*DATASET_ASSET_KEYS),
    description="Train a dataset's virality model from its stored batches and write its report.",
)


def build_definitions(resources: Mapping[str, Any]) -> dg.Definitions:
    """The graph with these resources (`build_resources` chooses them, live or offline)."""
    return dg.Definitions.merge(
        scraping.defs,
        analysis.defs,
        signals.defs,
        features.defs,
        model.defs,
        report.defs,
        dg.Definitions(
            jobs=[video_pipeline_job, dataset_job],
            schedules=[refresh_schedule(video_pipeline_job)],
            resources=resources,
            # A partition's steps run one after the other and share one DuckDB file, so a process
            # per step (Dagster's default) buys nothing and costs ~3 s a step; partitions of a
            # backfill still run side by side, one run each.
            executor=dg.in_process_executor,
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev` loads: live resources where credentials allow. Built when loaded, not on
    import, so that importing the jobs' names (the CLI does) reads no settings."""
    return build_definitions(build_resources(load_settings(), offline=False))
