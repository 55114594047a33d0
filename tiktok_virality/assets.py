"""The three partitioned assets: raw videos → video analyses → video features.

Thin by design: each one asks its resources for data and hands it to pure functions (normalizer,
limits, analyzer, features); the IO manager stores the frame as the partition's rows."""

from collections import Counter
from collections.abc import Callable

import dagster as dg
import pandas as pd

from tiktok_virality.apify.normalize import normalize_items
from tiktok_virality.catalog import DatasetCatalog, DatasetSource
from tiktok_virality.features import build_features
from tiktok_virality.io_manager import COLUMN_SCHEMA_KEY
from tiktok_virality.limits import batch_video_budget, limit_videos
from tiktok_virality.partitions import parse_partition_key, video_partitions
from tiktok_virality.resources import WAREHOUSE_IO_MANAGER
from tiktok_virality.resources.analyzers import VideoAnalyzer
from tiktok_virality.resources.sources import ExportVideoSource, ScrapeRequest, VideoSource
from tiktok_virality.tables import RAW_VIDEOS, VIDEO_ANALYSES, VIDEO_FEATURES, TableContract

GROUP = "tiktok_virality"


class DatasetFullError(RuntimeError):
    """The dataset holds its max total videos: another batch would exceed it."""


def _partitioned_table_asset(
    contract: TableContract,
) -> Callable[[Callable[..., pd.DataFrame]], dg.AssetsDefinition]:
    """An asset stored as the DuckDB table of `contract`, one dataset × batch partition at a time."""
    return dg.asset(
        name=contract.name,
        partitions_def=video_partitions,
        io_manager_key=WAREHOUSE_IO_MANAGER,
        metadata={COLUMN_SCHEMA_KEY: contract.dagster_schema()},
        description=contract.description,
        group_name=GROUP,
        kinds={"duckdb"},
    )


@_partitioned_table_asset(RAW_VIDEOS)
def raw_videos(
    context: dg.AssetExecutionContext,
    catalog: DatasetCatalog,
    export_source: ExportVideoSource,
    scraper: VideoSource,
) -> pd.DataFrame:
    partition = parse_partition_key(context.partition_key)
    dataset = catalog.require(partition.dataset)
    accounts = catalog.batch_accounts(partition.dataset, partition.batch)
    if not accounts:
        context.log.info(
            f"{partition} is not a batch of dataset {partition.dataset!r} (the dataset × batch grid "
            "shows every pair): stored as empty"
        )
        context.add_output_metadata({"accounts": 0, "phantom": True})
        return RAW_VIDEOS.empty_frame()

    budget = batch_video_budget(
        dataset.limits.max_total_videos,
        catalog.stored_video_count(partition.dataset, excluding_batch=partition.batch),
    )
    if budget == 0:
        # Failing (rather than storing an empty batch as done) lets the batch be scraped once the
        # limit is raised.
        raise DatasetFullError(
            f"dataset {partition.dataset!r} already holds its max total videos "
            f"({dataset.limits.max_total_videos}); raise it with `tiktok-virality run --dataset "
            f"{partition.dataset} --max-total-videos N` to scrape {partition.batch}"
        )
    request = ScrapeRequest(
        dataset=partition.dataset,
        batch=partition.batch,
        accounts=tuple(accounts),
        videos_per_account=dataset.limits.videos_per_account,
        max_videos=budget,
    )
    source = export_source if dataset.source is DatasetSource.EXPORT else scraper
    fetched = source.fetch(request)
    normalized = normalize_items(
        fetched.items,
        dataset=partition.dataset,
        batch=partition.batch,
        scraped_at=fetched.scraped_at,
    )
    videos = limit_videos(
        normalized.videos, videos_per_account=request.videos_per_account, max_videos=budget
    )
    for error in normalized.errors:
        context.log.warning(f"{error.account or error.url or 'an item'}: {error.error}")
    per_account = Counter(videos["account"])
    context.add_output_metadata(
        {
            "accounts": len(accounts),
            "videos_per_account": dg.MetadataValue.json(
                {a: per_account.get(a, 0) for a in accounts}
            ),
            "item_errors": len(normalized.errors),
            "left_out_by_limits": len(normalized.videos) - len(videos),
        }
    )
    return videos


@_partitioned_table_asset(VIDEO_ANALYSES)
def video_analyses(
    context: dg.AssetExecutionContext, raw_videos: pd.DataFrame, analyzer: VideoAnalyzer
) -> pd.DataFrame:
    if raw_videos.empty:
        return VIDEO_ANALYSES.empty_frame()
    return analyzer.analyze(raw_videos, context.log)


@_partitioned_table_asset(VIDEO_FEATURES)
def video_features(raw_videos: pd.DataFrame, video_analyses: pd.DataFrame) -> pd.DataFrame:
    return build_features(raw_videos, video_analyses)


VIDEO_ASSETS = (raw_videos, video_analyses, video_features)
