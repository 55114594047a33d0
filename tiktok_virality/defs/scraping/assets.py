"""The scraping phase's asset: one batch's accounts scraped (or read from its export), quality
controlled, and stored as `raw_videos` and `rejected_videos`, with one check result per rule.

Thin by design: the sources fetch, `process_batch` normalizes and applies the rules."""

import warnings
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from tiktok_virality.core.partitions import VideoPartition, parse_partition_key, video_partitions
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.costs.ledger import CostLedger
from tiktok_virality.defs.costs.scraping import budgeted_request, record_actor_run
from tiktok_virality.defs.datasets.dataset import DatasetSource
from tiktok_virality.defs.datasets.error_log import ErrorLog, failure_recorded
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.datasets.registry_tables import not_a_dataset
from tiktok_virality.defs.scraping.batch import process_batch
from tiktok_virality.defs.scraping.limits import batch_video_budget
from tiktok_virality.defs.scraping.quality_rules import (
    RULE_DESCRIPTIONS,
    QualityRule,
    describe_rejections,
    nothing_kept_hint,
)
from tiktok_virality.defs.scraping.sources import ExportVideoSource, ScrapeRequest, VideoSource
from tiktok_virality.defs.tracking.channel import AlertChannel
from tiktok_virality.defs.tracking.scrape import track_scrape
from tiktok_virality.defs.tracking.store import TrackingStore
from tiktok_virality.warehouse.outputs import table_out
from tiktok_virality.warehouse.queries import stored_video_count
from tiktok_virality.warehouse.tables import RAW_VIDEOS, REJECTED_VIDEOS

# Partitioned asset checks are a preview feature in Dagster 1.13; we use them knowingly (one check
# result per batch), so users are not shown the warning on every command.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)


class DatasetFullError(RuntimeError):
    """The dataset holds its max total videos: another batch would exceed it."""


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


def _why_empty(partition: VideoPartition, *, known_dataset: bool) -> str:
    """Why a partition with no accounts to scrape is stored as empty, at once."""
    if not known_dataset:
        return f"{partition}: {not_a_dataset(partition.dataset)}"
    return (
        f"{partition} is not a batch of dataset {partition.dataset!r} (the dataset × batch grid "
        "shows every pair): stored as empty"
    )


# Actor runs at once across runs (the plan's memory): its limit is APIFY_MAX_CONCURRENT_RUNS, set
# in the instance by `tiktok-virality run` (or `dagster instance concurrency set apify N`).
APIFY_POOL = "apify"


@dg.multi_asset(
    name="scrape_batch",
    pool=APIFY_POOL,
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
    registry: DatasetRegistry,
    error_log: ErrorLog,
    export_source: ExportVideoSource,
    scraper: VideoSource,
    cost_ledger: CostLedger,
    tracking: TrackingStore,
    alert_channel: AlertChannel,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    """Scrape one batch's accounts; store the videos that pass quality control as `raw_videos`
    and the others, with their reasons, as `rejected_videos`."""
    partition = parse_partition_key(context.partition_key)
    dataset = registry.get(partition.dataset)
    accounts = registry.batch_accounts(partition.dataset, partition.batch)
    if dataset is None or not accounts:
        context.log.info(_why_empty(partition, known_dataset=dataset is not None))
        yield dg.Output(RAW_VIDEOS.empty_frame(), RAW_VIDEOS.name, metadata={"phantom": True})
        yield dg.Output(REJECTED_VIDEOS.empty_frame(), REJECTED_VIDEOS.name)
        yield from _quality_check_results({}, checked_rows=0)
        return

    source = export_source if dataset.source is DatasetSource.EXPORT else scraper
    with failure_recorded(error_log, partition, Phase.SCRAPING):
        budget = batch_video_budget(
            dataset.limits.max_total_videos,
            stored_video_count(
                registry.database, partition.dataset, excluding_batch=partition.batch
            ),
        )
        if budget == 0:
            # Failing (rather than storing an empty batch as done) lets the batch be scraped once
            # the limit is raised.
            raise DatasetFullError(
                f"dataset {partition.dataset!r} already holds its max total videos "
                f"({dataset.limits.max_total_videos}); raise it with `tiktok-virality run "
                f"--dataset {partition.dataset} --max-total-videos N` to scrape {partition.batch}"
            )
        refresh = tracking.current_refresh(partition.dataset)
        request = ScrapeRequest(
            dataset=partition.dataset,
            batch=partition.batch,
            accounts=tuple(accounts),
            videos_per_account=dataset.limits.videos_per_account,
            max_videos=budget,
            max_age_days=dataset.thresholds.max_age_days,
            refresh=refresh,
            # Their files, if cached, are not downloaded again (`new_downloads.py`).
            known_videos=tracking.videos_scraped_before(
                partition.dataset, partition.batch, refresh
            ),
        )
        request = budgeted_request(cost_ledger, dataset, source, request)
        fetched = source.fetch(request, context.log)
        record_actor_run(cost_ledger, partition, fetched.charges)
        batch = process_batch(
            fetched.items,
            request=request,
            scraped_at=fetched.scraped_at,
            thresholds=dataset.thresholds,
        )
    for error in batch.errors:
        context.log.warning(f"{error.account or 'an item'}: {error.error}")
    left_out = describe_rejections(batch.failures_by_rule, dataset.thresholds, fetched.scraped_at)
    if left_out:
        context.log.info(f"left out by quality control: {'; '.join(left_out)}")
    if batch.accepted.empty and not batch.rejected.empty:
        left_out.append(nothing_kept_hint(batch.failures_by_rule))
        context.log.warning(left_out[-1])

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
            # Per rule (a row failing two counts for both), for the CLI's summary and `status`.
            "rejected_by_rule": dg.MetadataValue.json(
                {rule.value: failed for rule, failed in batch.failures_by_rule.items() if failed}
            ),
            "left_out": dg.MetadataValue.md(
                "\n".join(f"- {line}" for line in left_out) or "nothing"
            ),
            "left_out_by_limits": batch.left_out_by_limits,
        },
    )
    yield dg.Output(batch.rejected, REJECTED_VIDEOS.name)
    yield from _quality_check_results(batch.failures_by_rule, checked_rows=batch.checked_rows)
    # Dagster has stored the outputs by now: this attempt's account outcomes replace the last's.
    error_log.record_errors(partition, Phase.SCRAPING, batch.errors)
    tracked = track_scrape(
        tracking,
        alert_channel,
        dataset,
        partition,
        batch.accepted,
        refresh=request.refresh,
        batches=registry.batches(partition.dataset),
        log=context.log,
    )
    context.log.info(
        f"{tracked.new_snapshots} new snapshots, {tracked.new_alerts} new outlier alerts "
        f"({tracked.notified} posted)"
    )
