"""Resources, one per external system, each an abstract interface with a real and an offline
implementation; `build_resources` is the one place that chooses between them, and the functions
below the one place that turns settings into a resource's values."""

from typing import Any

import dagster as dg

from tiktok_virality.config import Settings
from tiktok_virality.defs.analysis.analyzers import OfflineAnalyzer, VideoAnalyzer
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.datasets.catalog import DatasetCatalog
from tiktok_virality.defs.report.files import ReportFiles
from tiktok_virality.defs.scraping.apify import ApifyVideoSource
from tiktok_virality.defs.scraping.sources import ExportVideoSource, OfflineScraper, VideoSource
from tiktok_virality.warehouse.io_manager import WAREHOUSE_IO_MANAGER, DuckDBPartitionIOManager


def build_resources(settings: Settings, *, offline: bool) -> dict[str, Any]:
    """Live services where credentials allow, unless `offline`; the offline stand-ins otherwise."""
    catalog = DatasetCatalog(database=str(settings.database))
    scraper: VideoSource = (
        apify_video_source(settings, catalog)
        if settings.apify_token_set and not offline
        else OfflineScraper()
    )
    analyzer: VideoAnalyzer = (
        gemini_analyzer(settings, catalog)
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


def apify_video_source(
    settings: Settings, catalog: DatasetCatalog, **replaced: Any
) -> ApifyVideoSource:
    """Apify's scraper as `settings` configure it; `replaced` sets any of its fields instead (the
    tests' fake Apify, a token of their own, quicker retries)."""
    values = {
        "token": _credential(settings.apify_token_variable),
        "catalog": catalog,
        "api_url": settings.apify_api_url,
    }
    return ApifyVideoSource(**(values | replaced))


def gemini_analyzer(settings: Settings, catalog: DatasetCatalog, **replaced: Any) -> GeminiAnalyzer:
    """Gemini as `settings` configure it; `replaced` sets any of its fields instead (the tests'
    fake Gemini, a key of their own, quicker retries)."""
    values = {
        "api_key": _credential(settings.gemini_key_variable),
        "catalog": catalog,
        "base_url": settings.gemini_api_url,
        "model": settings.gemini_model,
        "requests_per_minute": settings.gemini_requests_per_minute,
        "concurrency": settings.gemini_concurrency,
        "request_timeout_seconds": settings.gemini_timeout_seconds,
        "initial_retry_delay_seconds": settings.gemini_retry_delay_seconds,
        # The scraped video files are Apify's key-value-store records, fetched with its token.
        "apify_token": _credential(settings.apify_token_variable),
        "apify_api_url": settings.apify_api_url,
    }
    return GeminiAnalyzer(**(values | replaced))


def _credential(variable: str | None) -> dg.EnvVar | None:
    """The credential as a `dg.EnvVar`, resolved when a run starts: its value never enters run
    config. None when the variable is not set."""
    return dg.EnvVar(variable) if variable else None
