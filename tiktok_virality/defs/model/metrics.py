"""The scores of the model and of its two baselines, on the pooled out-of-fold predictions.

**Metrics** (`ModelRun.metrics`, one row per model in `MODELS`):
- `roc_auc`: the chance that a viral video is scored above a non-viral one (0.5 = guessing).
- `pr_auc`: average precision for the viral label; guessing scores the viral share.
- `spearman`: rank correlation of the scores with log views.
- `spearman_relative`: rank correlation with relative log views — how well videos are ranked
  against their own account's usual.
The baselines are scores, not fitted models: `baseline_followers` scores every video by its
account's follower count, `baseline_account_median` by the median views of the account's other
videos (a video without that number ranks last). All four metrics are rank-based, so any model
fit on that one number with a monotone link would score the same; they are computed on the same
videos as the model's out-of-fold predictions. Against the relative label, both baselines are
expected near 0.5 (the median of the *other* videos is a little lower for videos above their
account's median, so that baseline tends below 0.5): that is what the label is designed for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, roc_auc_score


def model_metrics(
    labelled: pd.DataFrame, predicted_relative: np.ndarray, predicted_log_views: pd.Series
) -> pd.DataFrame:
    """One row per model of `MODELS`, columns `model` and `METRICS`: the model scored by its
    out-of-fold predictions, the baselines by their one number, on the same `labelled` videos."""
    viral = labelled["viral"].to_numpy(dtype=bool)
    log_views = labelled["log_views"].to_numpy(dtype=float)
    relative = labelled["relative_log_views"].to_numpy(dtype=float)
    followers = _ranked_last_when_missing(labelled["followers"])
    other_median = _ranked_last_when_missing(labelled["other_videos_median_views"])
    # (label score, log-views score) per model; the baselines rank by one number for both.
    scores = {
        "model": (predicted_relative, predicted_log_views.to_numpy(dtype=float)),
        "baseline_followers": (followers, followers),
        "baseline_account_median": (other_median, other_median),
    }
    return pd.DataFrame(
        [
            {
                "model": model,
                "roc_auc": float(roc_auc_score(viral, label_score)),
                "pr_auc": float(average_precision_score(viral, label_score)),
                "spearman": spearman(log_views, views_score),
                "spearman_relative": spearman(relative, label_score),
            }
            for model, (label_score, views_score) in scores.items()
        ]
    )


def _ranked_last_when_missing(values: pd.Series) -> np.ndarray:
    numbers = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    known = numbers[~np.isnan(numbers)]
    lowest = known.min() - 1 if len(known) else 0.0
    return np.where(np.isnan(numbers), lowest, numbers)


def spearman(actual: np.ndarray, scores: np.ndarray) -> float:
    """Spearman's rank correlation; NaN when either side is constant (undefined)."""
    if np.ptp(actual) == 0 or np.ptp(scores) == 0:
        return float("nan")
    return float(spearmanr(actual, scores).statistic)
