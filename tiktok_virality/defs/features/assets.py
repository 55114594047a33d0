"""The features phase's asset: a batch's raw videos and analyses turned into one row of model
features per video (`build_features`, pure and tested directly)."""

import dagster as dg
import pandas as pd

from tiktok_virality.core.partitions import parse_partition_key
from tiktok_virality.defs.datasets.catalog import DatasetCatalog
from tiktok_virality.defs.features.build import ANALYSIS_INPUTS, RAW_VIDEO_INPUTS, build_features
from tiktok_virality.defs.features.summary import SUMMARY_COLUMNS, dataset_summary
from tiktok_virality.warehouse.io_manager import COLUMNS_KEY
from tiktok_virality.warehouse.outputs import partitioned_table_asset
from tiktok_virality.warehouse.tables import RAW_VIDEOS, VIDEO_ANALYSES, VIDEO_FEATURES


@partitioned_table_asset(
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
