"""Resources, one per external system or store, each external one an abstract interface with a real
and an offline implementation; `build_resources` is the one place that chooses between them, and the
functions below the one place that turns settings into a resource's values."""

from typing import Any

import dagster as dg

from tiktok_virality.config import Settings
from tiktok_virality.defs.analysis.analyzers import OfflineAnalyzer, VideoAnalyzer
from tiktok_virality.defs.analysis.cache import AnalysisCache
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.analysis.rate_limit import shared_quota_file
from tiktok_virality.defs.costs.ledger import CostLedger
from tiktok_virality.defs.datasets.error_log import ErrorLog
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.media.cache import MediaCache
from tiktok_virality.defs.report.files import ReportFiles
from tiktok_virality.defs.scraping.apify import ApifyVideoSource
from tiktok_virality.defs.scraping.ledger import ScrapeLedger
from tiktok_virality.defs.scraping.sources import ExportVideoSource, OfflineScraper, VideoSource
from tiktok_virality.defs.tracking.channel import AlertChannel
from tiktok_virality.defs.tracking.store import TrackingStore
from tiktok_virality.warehouse.io_manager import WAREHOUSE_IO_MANAGER, DuckDBPartitionIOManager
from tiktok_virality.warehouse.migrations import StoreSchema
from tiktok_virality.warehouse.store import Store

# Every store: what owns tables in the DuckDB file beside the asset tables.
STORES: tuple[type[Store], ...] = (
    DatasetRegistry,
    ErrorLog,
    AnalysisCache,
    ScrapeLedger,
    CostLedger,
    MediaCache,
    TrackingStore,
)
# Every store's tables, which `migrate` makes once per file and version.
STORE_SCHEMAS: tuple[StoreSchema, ...] = tuple(store.store_schema for store in STORES)


def build_resources(settings: Settings, *, offline: bool) -> dict[str, Any]:
    """Live services where credentials allow, unless `offline`; the offline stand-ins otherwise."""
    database = str(settings.database)
    registry = DatasetRegistry(database=database)
    analysis_cache = AnalysisCache(database=database)
    scrape_ledger = ScrapeLedger(database=database)
    media = media_cache(settings)
    scraper: VideoSource = (
        apify_video_source(settings, scrape_ledger, media_cache=media)
        if settings.apify_token_set and not offline
        else OfflineScraper()
    )
    analyzer: VideoAnalyzer = (
        gemini_analyzer(settings, analysis_cache, media_cache=media)
        if settings.gemini_key_set and not offline
        else OfflineAnalyzer()
    )
    return {
        "registry": registry,
        "error_log": ErrorLog(database=database),
        "analysis_cache": analysis_cache,
        "scrape_ledger": scrape_ledger,
        "cost_ledger": CostLedger(database=database),
        "export_source": ExportVideoSource(registry=registry),
        "scraper": scraper,
        "analyzer": analyzer,
        "media_cache": media,
        "report_files": ReportFiles(
            directory=str(settings.report_dir), time_zone=settings.time_zone
        ),
        "tracking": TrackingStore(database=database),
        "alert_channel": alert_channel(settings),
        WAREHOUSE_IO_MANAGER: DuckDBPartitionIOManager(database=database),
    }


def apify_video_source(
    settings: Settings, ledger: ScrapeLedger, **replaced: Any
) -> ApifyVideoSource:
    """Apify's scraper as `settings` configure it; `replaced` sets any of its fields instead (the
    tests' fake Apify, a token of their own, quicker retries)."""
    values = {
        "token": _credential(settings.apify_token_variable),
        "ledger": ledger,
        "api_url": settings.apify_api_url,
        # A paid add-on: only when Gemini watches the videos (offline, no scrape runs at all).
        "download_videos": settings.gemini_key_set,
        "date_filter": settings.apify_date_filter,
        "exclude_pinned_posts": settings.apify_exclude_pinned_posts,
    }
    return ApifyVideoSource(**(values | replaced))


def gemini_analyzer(settings: Settings, cache: AnalysisCache, **replaced: Any) -> GeminiAnalyzer:
    """Gemini as `settings` configure it; `replaced` sets any of its fields instead (the tests'
    fake Gemini, a key of their own, quicker retries)."""
    values = {
        "api_key": _credential(settings.gemini_key_variable),
        "cache": cache,
        "base_url": settings.gemini_api_url,
        "model": settings.gemini_model,
        "requests_per_minute": settings.gemini_requests_per_minute,
        "tokens_per_minute": settings.gemini_tokens_per_minute,
        "media_resolution": settings.gemini_media_resolution,
        "frames_per_second": settings.gemini_frames_per_second,
        "max_video_seconds": settings.gemini_max_video_seconds,
        "thinking_level": settings.gemini_thinking_level,
        "concurrency": settings.gemini_concurrency,
        "request_timeout_seconds": settings.gemini_timeout_seconds,
        "initial_retry_delay_seconds": settings.gemini_retry_delay_seconds,
        "quota_file": str(shared_quota_file(settings.database)),
        # The scraped video files are Apify's key-value-store records, fetched with its token.
        "apify_token": _credential(settings.apify_token_variable),
        "apify_api_url": settings.apify_api_url,
    }
    return GeminiAnalyzer(**(values | replaced))


def media_cache(settings: Settings) -> MediaCache:
    """The local copies of the scraped video files, as `settings` place and budget them."""
    return MediaCache(
        database=str(settings.database),
        directory=str(settings.media_dir),
        max_bytes=settings.media_max_bytes,
    )


def alert_channel(settings: Settings, **replaced: Any) -> AlertChannel:
    """The outlier alerts' rule and channel as `settings` configure them; the channel's URL (a
    secret) as a `dg.EnvVar`, resolved when a run starts. `replaced` sets any field instead."""
    values = {
        "url": _credential(settings.alert_url_variable),
        "multiple": settings.alert_multiple,
        "max_age_hours": settings.alert_max_age_hours,
    }
    return AlertChannel(**(values | replaced))


def _credential(variable: str | None) -> dg.EnvVar | None:
    """The credential as a `dg.EnvVar`, resolved when a run starts: its value never enters run
    config. None when the variable is not set."""
    return dg.EnvVar(variable) if variable else None
