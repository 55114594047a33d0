"""The virality model: a relative virality label, trend features, a gradient-boosted model
cross-validated by account against two baselines, and per-video explanations. Pure functions of
DataFrames; the Dagster assets call them and store what they return.

- `parameters.py`: `ModelParameters`, every setting, validated.
- `label.py`: `virality_targets` (the account-median label and the targets), `dataset_targets`
  (a label for every video: the account median, or the peer line of followers and age),
  `median_of_other_videos`.
- `trends.py`: `trend_features` (uses a rising hashtag / sound at posting time, no look-ahead),
  `trend_table` (counts per window).
- `selection.py`: the role of every feature column (`LEAKING_COLUMNS` with reasons,
  `NOT_FEATURES`, `CANDIDATE_FEATURES`), `select_features`, `encode_features`.
- `training.py`: `train_virality_model` → `ModelRun` (model_run.py: metrics, importance,
  predictions, trends).
- `metrics.py`: the scores of the model and of its baselines.
- `evaluation.py`: 95% account-bootstrap intervals, the explained spread, "too small for a claim";
  `time_ordered.py`: trained on the older videos, tested on the newer; `estimator.py`: the
  estimator and the predicted level both evaluations share.
- `drivers.py`: the top features as drivers, with counts, ratios and intervals.
- `explain.py`: permutation importance and per-video occlusion effects.
"""

from tiktok_virality.defs.model.label import median_of_other_videos, virality_targets
from tiktok_virality.defs.model.model_run import (
    METRICS,
    MODELS,
    PREDICTION_COLUMNS,
    DatasetCounts,
    ModelRun,
)
from tiktok_virality.defs.model.parameters import ModelParameters
from tiktok_virality.defs.model.selection import (
    CANDIDATE_FEATURES,
    LEAKING_COLUMNS,
    NOT_FEATURES,
    select_features,
)
from tiktok_virality.defs.model.training import train_virality_model
from tiktok_virality.defs.model.trends import TREND_TABLE_COLUMNS, trend_features, trend_table

__all__ = [
    "CANDIDATE_FEATURES",
    "LEAKING_COLUMNS",
    "METRICS",
    "MODELS",
    "NOT_FEATURES",
    "PREDICTION_COLUMNS",
    "TREND_TABLE_COLUMNS",
    "DatasetCounts",
    "ModelParameters",
    "ModelRun",
    "median_of_other_videos",
    "select_features",
    "train_virality_model",
    "trend_features",
    "trend_table",
    "virality_targets",
]
