"""The virality model of a whole dataset: its evaluation, per-video predictions, feature importance
and the dataset's trends. Partitioned by dataset; reads all of its dataset's batches."""

import json
import warnings
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandas as pd

from tiktok_virality.core.markdown import markdown_table, readable
from tiktok_virality.core.partitions import DATASET_DIMENSION, dataset_partitions
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.datasets.registry_tables import not_a_dataset
from tiktok_virality.defs.model import ModelParameters, ModelRun, train_virality_model
from tiktok_virality.defs.model.automation import AFTER_NEW_FEATURES
from tiktok_virality.defs.model.selection import EARLY_VELOCITY_FEATURES
from tiktok_virality.warehouse.outputs import table_out
from tiktok_virality.warehouse.tables import (
    DRIVERS,
    FEATURE_IMPORTANCE,
    MODEL_RUNS,
    RAW_VIDEOS,
    TRENDS,
    VIDEO_FEATURES,
    VIDEO_PREDICTIONS,
)

# The mapping from a dataset × batch partition to its dataset is beta in Dagster 1.13; we use it
# knowingly, so users are not shown the warning on every command.
warnings.filterwarnings(
    "ignore", message="Class `MultiToSingleDimensionPartitionMapping`", category=dg.BetaWarning
)

GROUP = "virality_model"
# The model_runs columns stored as JSON text.
_JSON_COLUMNS = [column.name for column in MODEL_RUNS.columns if column.sql_type == "JSON"]
# A dataset's partition of a model asset reads every batch of that dataset.
ALL_BATCHES_OF_THE_DATASET = dg.MultiToSingleDimensionPartitionMapping(
    partition_dimension_name=DATASET_DIMENSION
)


class ModelConfig(dg.Config):
    """The label and validation settings a run can change (the Launchpad in the UI)."""

    viral_multiple: float = ModelParameters.viral_multiple
    folds: int = ModelParameters.folds


def model_runs_row(run: ModelRun, trained_at: datetime) -> pd.DataFrame:
    record = run.record()
    return pd.DataFrame(
        [
            {
                **record,
                "trained_at": trained_at,
                **{key: json.dumps(record[key]) for key in _JSON_COLUMNS},
            }
        ]
    )


def model_metadata(run: ModelRun) -> dict[str, Any]:
    record = run.record()
    metadata: dict[str, Any] = {
        "evaluated": run.evaluated,
        "videos": run.counts.videos,
        "labelled_videos": run.counts.labelled_videos,
        "viral_videos": run.counts.viral_videos,
        "folds": run.counts.folds,
        "label_bases": dg.MetadataValue.json(run.counts.label_bases),
        # Whether it predicts from a video's first day (a tracked dataset) or from before posting.
        "early_velocity": any(f in EARLY_VELOCITY_FEATURES for f in run.selected_features),
    }
    if not run.evaluated:
        return metadata | {"reason": run.reason or ""}
    return metadata | {
        "too_small": run.grouped.too_small or "",
        "metric_intervals": dg.MetadataValue.json(record["metric_intervals"]),
        "time_ordered": dg.MetadataValue.json(record["time_ordered"]),
        "explained_share": dg.MetadataValue.md(_explained_line(record)),
        **{
            key: None if record[key] is None else readable(record[key])
            for key in ("model_roc_auc", "baseline_followers_roc_auc", "model_spearman")
        },
        "metrics": dg.MetadataValue.md(
            markdown_table(run.metrics.round(3), list(run.metrics.columns), limit=3)
        ),
        "drivers": dg.MetadataValue.md(
            markdown_table(
                run.drivers.round(2),
                ["rank", "having_it", "videos_with", "ratio", "ratio_low", "ratio_high"],
                limit=10,
            )
        ),
        "top_features": dg.MetadataValue.md(
            markdown_table(
                run.importance.round(3), ["rank", "feature", "spearman_relative_drop"], limit=10
            )
        ),
    }


def _explained_line(record: dict[str, Any]) -> str:
    share, low, high = (record[f"explained_share{end}"] for end in ("", "_low", "_high"))
    if share is None:
        return "not measured"
    interval = f" (95% CI {low:.0%} to {high:.0%})" if low is not None and high is not None else ""
    return (
        f"The model explains {share:.0%}{interval} of the spread in views relative to the "
        "creator's level (or their peers')."
    )


@dg.multi_asset(
    name="virality_model",
    outs={
        contract.name: table_out(contract, group=GROUP, automation_condition=AFTER_NEW_FEATURES)
        for contract in (MODEL_RUNS, VIDEO_PREDICTIONS, FEATURE_IMPORTANCE, TRENDS, DRIVERS)
    },
    ins={
        name: dg.AssetIn(name, partition_mapping=ALL_BATCHES_OF_THE_DATASET)
        for name in (VIDEO_FEATURES.name, RAW_VIDEOS.name)
    },
    partitions_def=dataset_partitions,
)
def virality_model(
    context: dg.AssetExecutionContext,
    config: ModelConfig,
    registry: DatasetRegistry,
    video_features: pd.DataFrame,
    raw_videos: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train and cross-validate the dataset's virality model against its two baselines."""
    if registry.get(context.partition_key) is None:
        context.log.info(not_a_dataset(context.partition_key))
        context.add_output_metadata({"not_a_dataset": True}, output_name=MODEL_RUNS.name)
        return (
            MODEL_RUNS.empty_frame(),
            VIDEO_PREDICTIONS.empty_frame(),
            FEATURE_IMPORTANCE.empty_frame(),
            TRENDS.empty_frame(),
            DRIVERS.empty_frame(),
        )
    parameters = ModelParameters(viral_multiple=config.viral_multiple, folds=config.folds)
    run = train_virality_model(video_features, raw_videos, parameters)
    context.add_output_metadata(model_metadata(run), output_name=MODEL_RUNS.name)
    if not run.evaluated:
        context.log.warning(f"{context.partition_key}: model not evaluated: {run.reason}")
    return (
        model_runs_row(run, datetime.now(UTC)),
        run.predictions,
        run.importance.assign(dataset=context.partition_key),
        run.trends,
        run.drivers.assign(dataset=context.partition_key),
    )
