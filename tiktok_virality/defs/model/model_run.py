"""What one training of the virality model returns: `ModelRun`, its counts, and the names of its
models, metrics and prediction columns. It is apart from the training (training.py) because the
stored tables, the model asset and the report read a run without training one.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from tiktok_virality.defs.model.drivers import DRIVER_COLUMNS
from tiktok_virality.defs.model.evaluation import Evaluation
from tiktok_virality.defs.model.explain import TOP_CONTRIBUTIONS
from tiktok_virality.defs.model.parameters import ModelParameters

MODELS = ("model", "baseline_followers", "baseline_account_median")
METRICS = ("roc_auc", "pr_auc", "spearman", "spearman_relative")
PREDICTION_COLUMNS = (
    "dataset",
    "batch",
    "account",
    "video_id",
    "fold",
    "views",
    "label_basis",
    "expected_views",
    "viral_threshold_views",
    "viral",
    "views_multiple",
    "predicted_multiple",
    "viral_probability",
    "log_views",
    "predicted_log_views",
    *(
        f"top_{part}_{rank}"
        for rank in range(1, TOP_CONTRIBUTIONS + 1)
        for part in ("feature", "value", "effect")
    ),
)


@dataclass(frozen=True)
class DatasetCounts:
    """`videos` and `accounts` in the input; `labelled_*` those with a label (the modelled
    ones); `viral_share` = viral / labelled videos (None without labelled videos); `folds`
    actually used (0 when not evaluated)."""

    videos: int
    accounts: int
    labelled_videos: int
    labelled_accounts: int
    viral_videos: int
    viral_share: float | None
    folds: int
    # Labelled videos per label basis (label.py's LabelBasis values).
    label_bases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRun:
    """The result of `train_virality_model`.

    - `metrics`: one row per model of `MODELS`, columns `model` and `METRICS` (NaN when not
      evaluated or undefined, e.g. a Spearman of constant scores).
    - `selected_features` / `dropped_features` (columns `feature`, `reason`).
    - `importance`: `IMPORTANCE_COLUMNS`, rank 1 first (explain.py).
    - `predictions`: `PREDICTION_COLUMNS`, one row per labelled video, out-of-fold: `fold`,
      `views_multiple` (views / account median), `predicted_multiple`, `viral_probability`,
      `predicted_log_views`, and the top features `top_feature_i`, `top_value_i`, `top_effect_i`
      (multiplier on views, explain.py).
    - `trends`: the trend table (trends.py), computed whether or not the model is evaluated.
    - `residual_sd`: the spread of the out-of-fold relative log views residuals behind
      `viral_probability`.
    - `grouped`: the metrics again with their 95% account-bootstrap intervals, the share of the
      relative spread explained, and whether the data are too small for a claim (evaluation.py);
      `time_ordered`: the same for a model trained on the older videos and tested on the newer.
      Both empty when not evaluated.
    - `drivers`: the top features as drivers (drivers.py: `DRIVER_COLUMNS` but `dataset`).
    """

    dataset: str | None
    parameters: ModelParameters
    evaluated: bool
    reason: str | None
    counts: DatasetCounts
    metrics: pd.DataFrame
    selected_features: tuple[str, ...]
    dropped_features: pd.DataFrame
    importance: pd.DataFrame
    predictions: pd.DataFrame
    trends: pd.DataFrame
    residual_sd: float | None
    grouped: Evaluation = field(default_factory=Evaluation)
    time_ordered: Evaluation = field(default_factory=Evaluation)
    drivers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[c for c in DRIVER_COLUMNS if c != "dataset"])
    )

    def metric(self, model: str, metric: str) -> float | None:
        """One metric of one model; None when not computed."""
        value = self.metrics.set_index("model").loc[model, metric]
        return None if pd.isna(value) else float(value)

    def record(self) -> dict[str, Any]:
        """The run as plain Python values, for a `model_runs` row or materialization metadata:
        dataset, evaluated, reason, the counts, `<model>_<metric>` for every metric, the
        parameters, the selected features and the dropped ones with their reasons."""
        return {
            "dataset": self.dataset,
            "evaluated": self.evaluated,
            "reason": self.reason,
            **asdict(self.counts),
            **{
                f"{model}_{metric}": self.metric(model, metric)
                for model in MODELS
                for metric in METRICS
            },
            "residual_sd": self.residual_sd,
            "too_small": self.grouped.too_small,
            "explained_share": _finite(self.grouped.values.get("explained_share")),
            "explained_share_low": _finite(
                self.grouped.intervals.get("explained_share", (None,))[0]
            ),
            "explained_share_high": _finite(
                self.grouped.intervals.get("explained_share", (None, None))[1]
            ),
            "metric_intervals": self.grouped.record()["intervals"],
            "time_ordered": self.time_ordered.record(),
            "parameters": self.parameters.as_dict(),
            "selected_features": list(self.selected_features),
            "dropped_features": dict(
                zip(self.dropped_features["feature"], self.dropped_features["reason"], strict=True)
            ),
        }


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
