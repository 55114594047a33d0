"""The Dagster definitions that `dagster dev` loads (see workspace.yaml).

Kept apart from the CLI, which builds its own resources after loading `.env`."""

import dagster as dg

from tiktok_virality.assets import VIDEO_ASSETS
from tiktok_virality.model_assets import MODEL_ASSETS
from tiktok_virality.resources import build_resources
from tiktok_virality.settings import Settings, load_settings

video_pipeline_job = dg.define_asset_job(
    "video_pipeline",
    selection=dg.AssetSelection.assets(*VIDEO_ASSETS),
    description="Scrape, analyse and build the features of dataset × batch partitions.",
)


def build_definitions(settings: Settings, *, offline: bool = False) -> dg.Definitions:
    return dg.Definitions(
        assets=[*VIDEO_ASSETS, *MODEL_ASSETS],
        jobs=[video_pipeline_job],
        resources=build_resources(settings, offline=offline),
        # A partition's steps run one after the other and share one DuckDB file, so a process per
        # step (Dagster's default) buys nothing and costs ~3 s a step; partitions of a backfill
        # still run side by side, one run each.
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_settings())
