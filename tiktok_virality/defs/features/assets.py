"""The features phase's asset: a batch's raw videos and analyses turned into one row of model
features per video (`build_features`, pure and tested directly)."""

import dagster as dg
import pandas as pd

from tiktok_virality.core.partitions import VideoPartition, parse_partition_key
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.features.build import ANALYSIS_INPUTS, RAW_VIDEO_INPUTS, build_features
from tiktok_virality.defs.features.signals import SIGNAL_INPUTS
from tiktok_virality.defs.features.summary import SUMMARY_COLUMNS, dataset_summary
from tiktok_virality.defs.tracking.store import TrackingStore
from tiktok_virality.warehouse.io_manager import COLUMNS_KEY, read_partitions
from tiktok_virality.warehouse.outputs import partitioned_table_asset
from tiktok_virality.warehouse.tables import (
    RAW_VIDEOS,
    VIDEO_ANALYSES,
    VIDEO_FEATURES,
    VIDEO_SIGNALS,
)


def _other_batches_summary_rows(
    registry: DatasetRegistry, partition: VideoPartition
) -> pd.DataFrame:
    """The summary columns of the features the partition's dataset has stored for its other
    batches (the asset tables live in the registry's DuckDB file)."""
    others = [
        VideoPartition(partition.dataset, batch)
        for batch in registry.batches(partition.dataset)
        if batch != partition.batch
    ]
    types = {column: VIDEO_FEATURES.sql_types[column] for column in SUMMARY_COLUMNS}
    return read_partitions(registry.database, VIDEO_FEATURES.name, types, others)


@partitioned_table_asset(
    VIDEO_FEATURES,
    ins={
        RAW_VIDEOS.name: dg.AssetIn(metadata={COLUMNS_KEY: list(RAW_VIDEO_INPUTS)}),
        VIDEO_ANALYSES.name: dg.AssetIn(metadata={COLUMNS_KEY: list(ANALYSIS_INPUTS)}),
        VIDEO_SIGNALS.name: dg.AssetIn(metadata={COLUMNS_KEY: list(SIGNAL_INPUTS)}),
    },
)
def video_features(
    context: dg.AssetExecutionContext,
    raw_videos: pd.DataFrame,
    video_analyses: pd.DataFrame,
    video_signals: pd.DataFrame,
    registry: DatasetRegistry,
    tracking: TrackingStore,
) -> pd.DataFrame:
    """The partition's features (with the view velocity of its snapshots and the measured signals
    of its files), shown with a summary of its whole dataset so far."""
    partition = parse_partition_key(context.partition_key)
    snapshots = tracking.snapshots(partition.dataset, [partition.batch])
    features = build_features(raw_videos, video_analyses, snapshots, video_signals)
    if not features.empty:
        others = _other_batches_summary_rows(registry, partition)
        rows = features[list(SUMMARY_COLUMNS)]
        context.add_output_metadata(
            dataset_summary(pd.concat([others, rows]) if not others.empty else rows)
        )
    return features
