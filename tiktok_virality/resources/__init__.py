"""Resources, one per external system, each an abstract interface with a real and an offline
implementation; `build_resources` is the one place that chooses between them."""

from typing import Any

import dagster as dg

from tiktok_virality.catalog import DatasetCatalog
from tiktok_virality.io_manager import DuckDBPartitionIOManager
from tiktok_virality.resources.analyzers import OfflineAnalyzer
from tiktok_virality.resources.apify import ApifyVideoSource
from tiktok_virality.resources.sources import ExportVideoSource, OfflineScraper, VideoSource
from tiktok_virality.settings import APIFY_TOKEN_VARIABLE, Settings

WAREHOUSE_IO_MANAGER = "warehouse_io_manager"


def build_resources(settings: Settings, *, offline: bool) -> dict[str, Any]:
    """Live services where credentials allow, unless `offline`; the offline stand-ins otherwise.

    The analysis stays offline (metadata only) until the Gemini analyzer lands."""
    catalog = DatasetCatalog(database=str(settings.database))
    scraper: VideoSource = (
        OfflineScraper()
        if offline or not settings.apify_token_set
        else ApifyVideoSource(
            token=dg.EnvVar(APIFY_TOKEN_VARIABLE), catalog=catalog, api_url=settings.apify_api_url
        )
    )
    return {
        "catalog": catalog,
        "export_source": ExportVideoSource(catalog=catalog),
        "scraper": scraper,
        "analyzer": OfflineAnalyzer(),
        WAREHOUSE_IO_MANAGER: DuckDBPartitionIOManager(database=str(settings.database)),
    }
