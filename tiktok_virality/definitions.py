"""The Dagster definitions, and the one place where resources are chosen.

`dagster dev` (via workspace.yaml) and the CLI both load them from here."""

from __future__ import annotations

from typing import Any

import dagster as dg

from tiktok_virality.assets import VIDEO_ASSETS, WAREHOUSE_IO_MANAGER
from tiktok_virality.catalog import DatasetCatalog
from tiktok_virality.io_manager import DuckDBPartitionIOManager
from tiktok_virality.resources.analyzers import OfflineAnalyzer
from tiktok_virality.resources.sources import ExportVideoSource, OfflineScraper
from tiktok_virality.settings import Settings, load_settings


class OnlineModeUnavailableError(RuntimeError):
    """Online scraping and analysis are not part of this version yet."""


def build_resources(settings: Settings, *, offline: bool) -> dict[str, Any]:
    if not offline:
        raise OnlineModeUnavailableError(
            "online mode (Apify scraping, Gemini analysis) is not available in this version yet: "
            "run with --offline"
        )
    catalog = DatasetCatalog(database=str(settings.database))
    return {
        "catalog": catalog,
        "export_source": ExportVideoSource(catalog=catalog),
        "scraper": OfflineScraper(),
        "analyzer": OfflineAnalyzer(),
        WAREHOUSE_IO_MANAGER: DuckDBPartitionIOManager(database=str(settings.database)),
    }


video_pipeline_job = dg.define_asset_job(
    "video_pipeline",
    selection=dg.AssetSelection.assets(*VIDEO_ASSETS),
    description="Scrape, analyse and build the features of dataset × batch partitions.",
)


def build_definitions(settings: Settings, *, offline: bool = True) -> dg.Definitions:
    return dg.Definitions(
        assets=list(VIDEO_ASSETS),
        jobs=[video_pipeline_job],
        resources=build_resources(settings, offline=offline),
    )


defs = build_definitions(load_settings())
