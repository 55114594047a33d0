"""The dataset's HTML report: one self-contained page from its model and features."""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from tiktok_virality.core.partitions import dataset_partitions
from tiktok_virality.defs.costs.ledger import spend_by_service
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.datasets.registry_tables import not_a_dataset
from tiktok_virality.defs.model.assets import ALL_BATCHES_OF_THE_DATASET, GROUP
from tiktok_virality.defs.model.automation import AFTER_NEW_FEATURES
from tiktok_virality.defs.report import ReportInputs, render_report
from tiktok_virality.defs.report.files import ReportFiles
from tiktok_virality.defs.report.tracking_views import TrackingInputs, tracked_videos
from tiktok_virality.defs.scraping.quality_rules import QualityRule, describe_rejections
from tiktok_virality.defs.tracking.store import TrackingStore
from tiktok_virality.warehouse.queries import rejections_by_reason
from tiktok_virality.warehouse.tables import (
    DRIVERS,
    FEATURE_IMPORTANCE,
    MODEL_RUNS,
    RAW_VIDEOS,
    TRENDS,
    VIDEO_FEATURES,
    VIDEO_PREDICTIONS,
)


@dg.asset(
    partitions_def=dataset_partitions,
    ins={
        **{
            name: dg.AssetIn(name, partition_mapping=ALL_BATCHES_OF_THE_DATASET)
            for name in (VIDEO_FEATURES.name, RAW_VIDEOS.name)
        },
        **{
            contract.name: dg.AssetIn(contract.name)
            for contract in (MODEL_RUNS, VIDEO_PREDICTIONS, FEATURE_IMPORTANCE, TRENDS, DRIVERS)
        },
    },
    group_name=GROUP,
    automation_condition=AFTER_NEW_FEATURES,
)
def virality_report(
    context: dg.AssetExecutionContext,
    report_files: ReportFiles,
    registry: DatasetRegistry,
    tracking: TrackingStore,
    video_features: pd.DataFrame,
    raw_videos: pd.DataFrame,
    model_runs: pd.DataFrame,
    video_predictions: pd.DataFrame,
    feature_importance: pd.DataFrame,
    trends: pd.DataFrame,
    drivers: pd.DataFrame,
) -> dg.MaterializeResult:
    """The dataset's report: one self-contained HTML page (`tiktok-virality report --dataset
    NAME` opens it)."""
    dataset = context.partition_key
    settings = registry.get(dataset)
    if settings is None:
        # No page for a key that names no dataset (nor a file named after whatever was typed).
        context.log.info(not_a_dataset(dataset))
        return dg.MaterializeResult(metadata={"not_a_dataset": True})
    # Read from the table rather than taken as an input: the rejected rows are no dependency
    # that should make the model and report run again.
    rejections = rejections_by_reason(registry.database, dataset)
    inputs = ReportInputs.from_tables(
        dataset,
        datetime.now(UTC),
        raw_videos=raw_videos,
        video_features=video_features,
        model_runs=model_runs,
        video_predictions=video_predictions,
        feature_importance=feature_importance,
        trends=trends,
        drivers=drivers,
        left_out=describe_rejections(
            {QualityRule(rule): n for rule, n in rejections.items()},
            settings.thresholds,
            settings.export_scraped_at,
        ),
        spend=spend_by_service(registry.database, dataset),
        tracking=TrackingInputs(
            snapshots=tracking.snapshots(dataset),
            alerts=tracking.alerts(dataset),
            videos=tracked_videos(raw_videos, video_features),
            time_zone=report_files.time_zone,
        ),
    )
    path = report_files.write(dataset, render_report(inputs))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "open": dg.MetadataValue.url(path.as_uri()),
            "bytes": path.stat().st_size,
        }
    )
