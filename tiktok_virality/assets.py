"""The partitioned assets: raw (and rejected) videos → video analyses → video features.

Thin by design: each one asks its resources for data and hands it to pure functions (scraping,
analyzer, features); the IO manager stores each frame as the partition's rows."""

import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import dagster as dg
import pandas as pd

from tiktok_virality.catalog import DatasetCatalog, DatasetSource, RecordedError
from tiktok_virality.dataset_summary import SUMMARY_COLUMNS, dataset_summary
from tiktok_virality.errors import describe_error
from tiktok_virality.features import ANALYSIS_INPUTS, RAW_VIDEO_INPUTS, build_features
from tiktok_virality.io_manager import COLUMN_SCHEMA_KEY, COLUMNS_KEY, PREVIEW_COLUMNS_KEY
from tiktok_virality.limits import batch_video_budget
from tiktok_virality.partitions import VideoPartition, parse_partition_key, video_partitions
from tiktok_virality.phases import Phase
from tiktok_virality.quality import RULE_DESCRIPTIONS, QualityRule
from tiktok_virality.resources import WAREHOUSE_IO_MANAGER
from tiktok_virality.resources.analyzers import VideoAnalyzer
from tiktok_virality.resources.sources import ExportVideoSource, ScrapeRequest, VideoSource
from tiktok_virality.scraping import process_batch
from tiktok_virality.tables import (
    RAW_VIDEOS,
    REJECTED_VIDEOS,
    VIDEO_ANALYSES,
    VIDEO_FEATURES,
    TableContract,
)

# Partitioned asset checks are a preview feature in Dagster 1.13; we use them knowingly (one check
# result per batch), so users are not shown the warning on every command.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)

GROUP = "tiktok_virality"
# Concurrent runs share the user's Gemini quota: `dagster instance concurrency set gemini N`.
GEMINI_POOL = "gemini"


class DatasetFullError(RuntimeError):
    """The dataset holds its max total videos: another batch would exceed it."""


def _table_metadata(contract: TableContract) -> dict[str, object]:
    return {
        COLUMN_SCHEMA_KEY: contract.dagster_schema(),
        PREVIEW_COLUMNS_KEY: list(contract.preview_columns),
    }


def _partitioned_table_asset(
    contract: TableContract,
    *,
    pool: str | None = None,
    ins: Mapping[str, dg.AssetIn] | None = None,
) -> Callable[[Callable[..., pd.DataFrame]], dg.AssetsDefinition]:
    """An asset stored as the DuckDB table of `contract`, one dataset × batch partition at a time."""
    return dg.asset(
        pool=pool,
        ins=ins,
        name=contract.name,
        partitions_def=video_partitions,
        io_manager_key=WAREHOUSE_IO_MANAGER,
        metadata=_table_metadata(contract),
        description=contract.description,
        group_name=GROUP,
        kinds={"duckdb"},
    )


def table_out(contract: TableContract, *, group: str = GROUP) -> dg.AssetOut:
    """An output of a multi-asset stored as the DuckDB table of `contract`."""
    return dg.AssetOut(
        io_manager_key=WAREHOUSE_IO_MANAGER,
        metadata=_table_metadata(contract),
        description=contract.description,
        group_name=group,
        kinds={"duckdb"},
    )


@contextmanager
def _failure_recorded(
    catalog: DatasetCatalog, partition: VideoPartition, phase: Phase
) -> Iterator[None]:
    """A step that fails leaves its reason in the errors table (where `status` reads it), then
    fails as it would have."""
    try:
        yield
    except Exception as error:
        catalog.record_errors(
            partition, phase, [RecordedError(None, describe_error(error), permanent=False)]
        )
        raise


def _quality_check_results(
    failures_by_rule: dict[QualityRule, int], checked_rows: int
) -> Iterator[dg.AssetCheckResult]:
    for rule in QualityRule:
        failed = failures_by_rule.get(rule, 0)
        yield dg.AssetCheckResult(
            check_name=rule.value,
            asset_key=RAW_VIDEOS.name,
            passed=failed == 0,
            # Rejected rows are expected in real data: they are kept aside, not a broken pipeline.
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rejected_rows": failed, "checked_rows": checked_rows},
        )


@dg.multi_asset(
    name="scrape_batch",
    outs={
        RAW_VIDEOS.name: table_out(RAW_VIDEOS),
        REJECTED_VIDEOS.name: table_out(REJECTED_VIDEOS),
    },
    partitions_def=video_partitions,
    check_specs=[
        dg.AssetCheckSpec(
            rule.value,
            asset=RAW_VIDEOS.name,
            description=RULE_DESCRIPTIONS[rule],
            # One result per partition, so that one batch's result never hides another's.
            partitions_def=video_partitions,
        )
        for rule in QualityRule
    ],
)
def scrape_batch(
    context: dg.AssetExecutionContext,
    catalog: DatasetCatalog,
    export_source: ExportVideoSource,
    scraper: VideoSource,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    """Scrape one batch's accounts; store the videos that pass quality control as `raw_videos`
    and the others, with their reasons, as `rejected_videos`."""
    partition = parse_partition_key(context.partition_key)
    dataset = catalog.require(partition.dataset)
    accounts = catalog.batch_accounts(partition.dataset, partition.batch)
    if not accounts:
        context.log.info(
            f"{partition} is not a batch of dataset {partition.dataset!r} (the dataset × batch grid "
            "shows every pair): stored as empty"
        )
        yield dg.Output(RAW_VIDEOS.empty_frame(), RAW_VIDEOS.name, metadata={"phantom": True})
        yield dg.Output(REJECTED_VIDEOS.empty_frame(), REJECTED_VIDEOS.name)
        yield from _quality_check_results({}, checked_rows=0)
        return

    source = export_source if dataset.source is DatasetSource.EXPORT else scraper
    with _failure_recorded(catalog, partition, Phase.SCRAPING):
        budget = batch_video_budget(
            dataset.limits.max_total_videos,
            catalog.stored_video_count(partition.dataset, excluding_batch=partition.batch),
        )
        if budget == 0:
            # Failing (rather than storing an empty batch as done) lets the batch be scraped once
            # the limit is raised.
            raise DatasetFullError(
                f"dataset {partition.dataset!r} already holds its max total videos "
                f"({dataset.limits.max_total_videos}); raise it with `tiktok-virality run "
                f"--dataset {partition.dataset} --max-total-videos N` to scrape {partition.batch}"
            )
        request = ScrapeRequest(
            dataset=partition.dataset,
            batch=partition.batch,
            accounts=tuple(accounts),
            videos_per_account=dataset.limits.videos_per_account,
            max_videos=budget,
            max_age_days=dataset.thresholds.max_age_days,
        )
        fetched = source.fetch(request, context.log)
        batch = process_batch(
            fetched.items,
            request=request,
            scraped_at=fetched.scraped_at,
            thresholds=dataset.thresholds,
        )
    for error in batch.errors:
        context.log.warning(f"{error.account or 'an item'}: {error.error}")

    per_account = Counter(batch.accepted["account"])
    yield dg.Output(
        batch.accepted,
        RAW_VIDEOS.name,
        metadata={
            "accounts": len(accounts),
            "videos_per_account": dg.MetadataValue.json(
                {account: per_account.get(account, 0) for account in accounts}
            ),
            "account_errors": dg.MetadataValue.json(
                [{"account": e.account, "error": e.error} for e in batch.errors]
            ),
            "errors": len(batch.errors),
            "rejected_rows": len(batch.rejected),
            "left_out_by_limits": batch.left_out_by_limits,
        },
    )
    yield dg.Output(batch.rejected, REJECTED_VIDEOS.name)
    yield from _quality_check_results(batch.failures_by_rule, checked_rows=batch.checked_rows)
    # Dagster has stored the outputs by now: this attempt's account outcomes replace the last's.
    catalog.record_errors(partition, Phase.SCRAPING, batch.errors)


class AnalysisIncompleteError(RuntimeError):
    """Some videos could not be analysed this time; the others are stored and paid for once."""


@_partitioned_table_asset(VIDEO_ANALYSES, pool=GEMINI_POOL)
def video_analyses(
    context: dg.AssetExecutionContext,
    raw_videos: pd.DataFrame,
    analyzer: VideoAnalyzer,
    catalog: DatasetCatalog,
) -> pd.DataFrame:
    if raw_videos.empty:
        return VIDEO_ANALYSES.empty_frame()
    partition = parse_partition_key(context.partition_key)
    with _failure_recorded(catalog, partition, Phase.ANALYSIS):
        result = analyzer.analyze(raw_videos, context.log)
    catalog.record_errors(partition, Phase.ANALYSIS, result.errors)
    for error in result.errors:
        context.log.warning(error.error)
    if result.retryable_errors:
        raise AnalysisIncompleteError(
            f"{len(result.retryable_errors)} of {len(raw_videos)} videos of {partition} could not "
            f"be analysed this time (e.g. {result.retryable_errors[0].error}); the "
            f"{len(result.analyses)} analysed are kept and will not be paid for again: retry "
            "the partition"
        )
    context.add_output_metadata({"videos": len(raw_videos), "errors": len(result.errors)})
    return result.analyses


@_partitioned_table_asset(
    VIDEO_FEATURES,
    ins={
        RAW_VIDEOS.name: dg.AssetIn(metadata={COLUMNS_KEY: list(RAW_VIDEO_INPUTS)}),
        VIDEO_ANALYSES.name: dg.AssetIn(metadata={COLUMNS_KEY: list(ANALYSIS_INPUTS)}),
    },
)
def video_features(
    context: dg.AssetExecutionContext,
    raw_videos: pd.DataFrame,
    video_analyses: pd.DataFrame,
    catalog: DatasetCatalog,
) -> pd.DataFrame:
    """The partition's features, shown with a summary of its whole dataset so far."""
    features = build_features(raw_videos, video_analyses)
    if not features.empty:
        others = catalog.other_batches_rows(
            VIDEO_FEATURES, parse_partition_key(context.partition_key), SUMMARY_COLUMNS
        )
        rows = features[list(SUMMARY_COLUMNS)]
        context.add_output_metadata(
            dataset_summary(pd.concat([others, rows]) if not others.empty else rows)
        )
    return features


VIDEO_ASSETS = (scrape_batch, video_analyses, video_features)
