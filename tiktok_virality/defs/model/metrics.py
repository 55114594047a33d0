"""The scores of the model and of its two baselines, on the pooled out-of-fold predictions.

**Metrics** (`ModelRun.metrics`, one row per model in `MODELS`):
- `roc_auc`: the chance that a viral video is scored above a non-viral one (0.5 = guessing).
- `pr_auc`: average precision for the viral label; guessing scores the viral share.
- `spearman`: rank correlation of the scores with log views.
- `spearman_relative`: rank correlation with relative log views — how well videos are ranked
  against what their label compares them with (their account's usual, or their peers').
The baselines are scores, not fitted models: `baseline_followers` scores every video by its
account's follower count, `baseline_account_median` by the median views of the account's other
videos (a video without either number ranks last). All four metrics are rank-based, so any model
fit on that one number with a monotone link would score the same; they are computed on the same
videos as the model's out-of-fold predictions. Against the relative label, both baselines are
expected near 0.5 (the median of the *other* videos is a little lower for videos above their
account's median, so that baseline tends below 0.5): that is what the label is designed for.

The metrics are computed here with NumPy from ranks — the same values as scikit-learn's
`roc_auc_score` and `average_precision_score` and SciPy's `spearmanr` (tests compare them), at a
fraction of their per-call cost — because the bootstrap intervals (evaluation.py) compute them hundreds of times.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

Scores = Mapping[str, tuple[np.ndarray, np.ndarray]]
"""Per model, its (label score, log-views score) of each video."""


def model_scores(
    labelled: pd.DataFrame, predicted_relative: np.ndarray, predicted_log_views: pd.Series
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per model of `MODELS`, its scores: the model's out-of-fold predictions, the baselines'
    one number for both."""
    followers = _ranked_last_when_missing(labelled["followers"])
    other_median = _ranked_last_when_missing(labelled["other_videos_median_views"])
    return {
        "model": (predicted_relative, predicted_log_views.to_numpy(dtype=float)),
        "baseline_followers": (followers, followers),
        "baseline_account_median": (other_median, other_median),
    }


def metric_values(
    viral: np.ndarray, log_views: np.ndarray, relative: np.ndarray, scores: Scores
) -> dict[tuple[str, str], float]:
    """Every (model, metric) of `scores` on these videos; NaN where undefined (no viral video, or
    a constant side)."""
    values = {}
    for model, (label_score, views_score) in scores.items():
        values[model, "roc_auc"] = roc_auc(viral, label_score)
        values[model, "pr_auc"] = average_precision(viral, label_score)
        values[model, "spearman"] = spearman(log_views, views_score)
        values[model, "spearman_relative"] = spearman(relative, label_score)
    return values


def metrics_frame(values: Mapping[tuple[str, str], float]) -> pd.DataFrame:
    """One row per model, columns `model` and the metrics, from `metric_values`."""
    models = dict.fromkeys(model for model, _ in values)
    return pd.DataFrame(
        [
            {"model": model, **{m: v for (of, m), v in values.items() if of == model}}
            for model in models
        ]
    )


def roc_auc(viral: np.ndarray, scores: np.ndarray) -> float:
    """The Mann-Whitney form of the ROC-AUC (ties count half); NaN without both classes."""
    positives = int(viral.sum())
    negatives = len(viral) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = average_ranks(scores)
    return float((ranks[viral].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(viral: np.ndarray, scores: np.ndarray) -> float:
    """Average precision over the distinct score thresholds, as scikit-learn computes it; NaN
    without a viral video."""
    positives = int(viral.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_viral = scores[order], viral[order]
    # The last row of each group of equal scores: where a threshold admits the whole group.
    ends = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    true_positives = np.cumsum(sorted_viral)[ends]
    precision = true_positives / (ends + 1)
    recall_steps = np.diff(np.r_[0, true_positives]) / positives
    return float(np.sum(recall_steps * precision))


def spearman(actual: np.ndarray, scores: np.ndarray) -> float:
    """Spearman's rank correlation; NaN when either side is constant (undefined)."""
    if len(actual) < 2 or np.ptp(actual) == 0 or np.ptp(scores) == 0:
        return float("nan")
    return float(np.corrcoef(average_ranks(actual), average_ranks(scores))[0, 1])


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties getting the mean of their ranks (SciPy's `rankdata`, without its
    per-call overhead)."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts_group = np.r_[True, ordered[1:] != ordered[:-1]]
    starts = np.flatnonzero(starts_group)
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = ((starts + ends + 1) / 2)[np.cumsum(starts_group) - 1]
    return ranks


def _ranked_last_when_missing(values: pd.Series) -> np.ndarray:
    numbers = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    known = numbers[~np.isnan(numbers)]
    lowest = known.min() - 1 if len(known) else 0.0
    return np.where(np.isnan(numbers), lowest, numbers)
