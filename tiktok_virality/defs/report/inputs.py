"""What the report is made of, whichever way it is gathered: from a `ModelRun` and the frames it
was trained on (tests, notebooks), from the asset inputs the IO manager loads, or straight from the
DuckDB tables (`load_report_inputs`). The columns each table must provide are in `TABLE_COLUMNS`:
the report's subsets of `raw_videos` and `video_features`, and the model tables' columns as the
model makes them; `ReportInputs` refuses frames that lack any of them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from tiktok_virality.defs.model import (
    METRICS,
    MODELS,
    PREDICTION_COLUMNS,
    TREND_TABLE_COLUMNS,
    ModelRun,
)
from tiktok_virality.defs.model.drivers import DRIVER_COLUMNS
from tiktok_virality.defs.model.explain import IMPORTANCE_COLUMNS
from tiktok_virality.defs.report.formatting import is_missing
from tiktok_virality.defs.report.tracking_views import TrackingInputs
from tiktok_virality.warehouse.storage import quote_identifier
from tiktok_virality.warehouse.tables import (
    DRIVERS,
    FEATURE_IMPORTANCE,
    MODEL_RUNS,
    RAW_VIDEOS,
    TRENDS,
    VIDEO_FEATURES,
    VIDEO_PREDICTIONS,
)

RAW_VIDEO_COLUMNS = (
    "dataset",
    "batch",
    "account",
    "video_id",
    "url",
    "cover_url",
    "caption",
    "author_nickname",
    "author_followers",
    "created_at",
    "scraped_at",
)
VIDEO_FEATURE_COLUMNS = (
    "dataset",
    "batch",
    "account",
    "video_id",
    "views",
    "engagement_rate",
    "views_vs_account_median",
    "viral",
    "analyzer",
)
# The keys of `ModelRun.record()`: the `model_runs` table's columns but `trained_at`, which a run
# only has once stored.
RUN_RECORD_KEYS = tuple(column for column in MODEL_RUNS.column_names if column != "trained_at")
TABLE_COLUMNS: Mapping[str, Sequence[str]] = {
    RAW_VIDEOS.name: RAW_VIDEO_COLUMNS,
    VIDEO_FEATURES.name: VIDEO_FEATURE_COLUMNS,
    MODEL_RUNS.name: MODEL_RUNS.column_names,
    VIDEO_PREDICTIONS.name: PREDICTION_COLUMNS,
    FEATURE_IMPORTANCE.name: IMPORTANCE_COLUMNS,
    TRENDS.name: TREND_TABLE_COLUMNS,
    DRIVERS.name: DRIVER_COLUMNS,
}
"""Per DuckDB table, the columns `load_report_inputs` reads (rows of the dataset only)."""

_JSON_RECORD_KEYS = tuple(column.name for column in MODEL_RUNS.columns if column.sql_type == "JSON")


@dataclass(frozen=True, eq=False)
class ReportInputs:
    """Everything one dataset's report shows. `model_run` is shaped like `ModelRun.record()`
    (optionally with `trained_at`); the frames need at least the `*_COLUMNS` of this module and may
    be empty (an unevaluated model has no importance or predictions, a dataset without dated
    videos no trends)."""

    dataset: str
    generated_at: datetime
    raw_videos: pd.DataFrame
    video_features: pd.DataFrame
    model_run: Mapping[str, Any]
    importance: pd.DataFrame
    predictions: pd.DataFrame
    trends: pd.DataFrame
    # The model's drivers (drivers.py); none for a model that was not evaluated.
    drivers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(DRIVER_COLUMNS))
    )
    # What quality control left out, per rule in words, most first (quality.describe_rejections).
    left_out: Sequence[str] = ()
    # Paid units and dollars on record, by service (the cost ledger's `spend_by_service`).
    spend: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # The dataset followed over time (tracking_views.py); None: the tracking sections say how.
    tracking: TrackingInputs | None = None

    def __post_init__(self) -> None:
        frames = {
            RAW_VIDEOS.name: self.raw_videos,
            VIDEO_FEATURES.name: self.video_features,
            VIDEO_PREDICTIONS.name: self.predictions,
            FEATURE_IMPORTANCE.name: self.importance,
            TRENDS.name: self.trends,
            DRIVERS.name: self.drivers,
        }
        for table, frame in frames.items():
            _require(table, frame.columns, TABLE_COLUMNS[table])
        _require("model_run", self.model_run.keys(), RUN_RECORD_KEYS)

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per model of `MODELS`, a column per metric of `METRICS` (NaN when not
        computed)."""
        return pd.DataFrame(
            [
                {
                    "model": model,
                    **{metric: _number(self.model_run[f"{model}_{metric}"]) for metric in METRICS},
                }
                for model in MODELS
            ]
        )

    @classmethod
    def from_model_run(
        cls,
        dataset: str,
        generated_at: datetime,
        features: pd.DataFrame,
        raw_videos: pd.DataFrame,
        run: ModelRun,
    ) -> ReportInputs:
        """The report of a run made in this process from these `video_features` and
        `raw_videos` rows."""
        return cls(
            dataset=dataset,
            generated_at=generated_at,
            raw_videos=raw_videos,
            video_features=features,
            model_run=run.record(),
            importance=run.importance,
            predictions=run.predictions,
            trends=run.trends,
            drivers=run.drivers.assign(dataset=dataset),
        )

    @classmethod
    def from_tables(
        cls,
        dataset: str,
        generated_at: datetime,
        *,
        raw_videos: pd.DataFrame,
        video_features: pd.DataFrame,
        model_runs: pd.DataFrame,
        video_predictions: pd.DataFrame,
        feature_importance: pd.DataFrame,
        trends: pd.DataFrame,
        drivers: pd.DataFrame | None = None,
        left_out: Sequence[str] = (),
        spend: Mapping[str, Mapping[str, float]] | None = None,
        tracking: TrackingInputs | None = None,
    ) -> ReportInputs:
        """The report from the stored tables' rows of one dataset (as the IO manager loads them
        for an asset, or `load_report_inputs` reads them): `model_runs` must hold exactly one
        row."""
        if len(model_runs) != 1:
            raise LookupError(
                f"dataset {dataset!r} has {len(model_runs)} model_runs rows, expected 1: "
                "materialize the virality_model asset of the dataset first"
            )
        return cls(
            dataset=dataset,
            generated_at=generated_at,
            raw_videos=raw_videos,
            video_features=video_features,
            model_run=run_record_from_row(model_runs.iloc[0].to_dict()),
            importance=feature_importance,
            predictions=video_predictions,
            trends=trends,
            drivers=pd.DataFrame(columns=list(DRIVER_COLUMNS)) if drivers is None else drivers,
            left_out=left_out,
            spend=spend or {},
            tracking=tracking,
        )


def load_report_inputs(
    connection: duckdb.DuckDBPyConnection, dataset: str, generated_at: datetime
) -> ReportInputs:
    """Read one dataset's report inputs from the tables of `TABLE_COLUMNS` (SELECTs only, so a
    read-only connection will do). Raises LookupError when the dataset has no model run."""
    frames = {
        table: connection.execute(
            f"SELECT {', '.join(quote_identifier(column) for column in columns)} "
            f"FROM {quote_identifier(table)} WHERE dataset = ? ORDER BY ALL",
            [dataset],
        ).df()
        for table, columns in TABLE_COLUMNS.items()
    }
    return ReportInputs.from_tables(
        dataset,
        generated_at,
        raw_videos=frames[RAW_VIDEOS.name],
        video_features=frames[VIDEO_FEATURES.name],
        model_runs=frames[MODEL_RUNS.name],
        video_predictions=frames[VIDEO_PREDICTIONS.name],
        feature_importance=frames[FEATURE_IMPORTANCE.name],
        trends=frames[TRENDS.name],
        drivers=frames[DRIVERS.name],
    )


def run_record_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A `model_runs` row as `ModelRun.record()` gives it: JSON columns parsed, the selected
    features a list, numpy scalars and NaN turned into Python values and None."""
    record = {key: _plain(value) for key, value in row.items()}
    for key in _JSON_RECORD_KEYS:
        if isinstance(record[key], str):
            record[key] = json.loads(record[key])
    record["selected_features"] = [str(feature) for feature in record["selected_features"] or []]
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _require(name: str, present: Any, required: Sequence[str]) -> None:
    missing = [column for column in required if column not in set(present)]
    if missing:
        raise ValueError(f"the report's {name} lacks the columns {missing}")
