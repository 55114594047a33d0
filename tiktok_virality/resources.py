"""Resources, one per external system, each an abstract interface with a real and an offline
implementation; `build_resources` is the one place that chooses between them."""

from typing import Any

import dagster as dg

from tiktok_virality.config import APIFY_TOKEN_VARIABLE, GEMINI_KEY_VARIABLE, Settings
from tiktok_virality.defs.analysis.analyzers import OfflineAnalyzer, VideoAnalyzer
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.datasets.catalog import DatasetCatalog
from tiktok_virality.defs.report.files import ReportFiles
from tiktok_virality.defs.scraping.apify import ApifyVideoSource
from tiktok_virality.defs.scraping.sources import ExportVideoSource, OfflineScraper, VideoSource
from tiktok_virality.warehouse.io_manager import WAREHOUSE_IO_MANAGER, DuckDBPartitionIOManager


def build_resources(settings: Settings, *, offline: bool) -> dict[str, Any]:
    """Live services where credentials allow, unless `offline`; the offline stand-ins otherwise.

    Secrets go in as `dg.EnvVar`s, resolved when a run starts: they never enter run config."""
    catalog = DatasetCatalog(database=str(settings.database))
    apify_token = dg.EnvVar(APIFY_TOKEN_VARIABLE) if settings.apify_token_set else None
    scraper: VideoSource = (
        ApifyVideoSource(token=apify_token, catalog=catalog, api_url=settings.apify_api_url)
        if apify_token and not offline
        else OfflineScraper()
    )
    analyzer: VideoAnalyzer = (
        GeminiAnalyzer(
            api_key=dg.EnvVar(GEMINI_KEY_VARIABLE),
            catalog=catalog,
            base_url=settings.gemini_api_url,
            model=settings.gemini_model,
            requests_per_minute=settings.gemini_requests_per_minute,
            concurrency=settings.gemini_concurrency,
            request_timeout_seconds=settings.gemini_timeout_seconds,
            initial_retry_delay_seconds=settings.gemini_retry_delay_seconds,
            apify_token=apify_token,
            apify_api_url=settings.apify_api_url,
        )
        if settings.gemini_key_set and not offline
        else OfflineAnalyzer()
    )
    return {
        "catalog": catalog,
        "export_source": ExportVideoSource(catalog=catalog),
        "scraper": scraper,
        "analyzer": analyzer,
        "report_files": ReportFiles(directory=str(settings.report_dir)),
        WAREHOUSE_IO_MANAGER: DuckDBPartitionIOManager(database=str(settings.database)),
    }
