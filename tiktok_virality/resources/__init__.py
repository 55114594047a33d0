"""Resources, one per external system, each an abstract interface with a real and an offline
implementation; `build_resources` is the one place that chooses between them."""

from typing import Any

from tiktok_virality.catalog import DatasetCatalog
from tiktok_virality.io_manager import DuckDBPartitionIOManager
from tiktok_virality.resources.analyzers import OfflineAnalyzer
from tiktok_virality.resources.sources import ExportVideoSource, OfflineScraper
from tiktok_virality.settings import Settings

WAREHOUSE_IO_MANAGER = "warehouse_io_manager"


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
