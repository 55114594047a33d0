"""The model's estimator and the level its relative predictions are added to, shared by the
grouped cross-validation (training.py) and the time-ordered evaluation (time_ordered.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from tiktok_virality.defs.model.label import LabelBasis
from tiktok_virality.defs.model.parameters import ModelParameters


def new_estimator(
    is_category: np.ndarray, parameters: ModelParameters
) -> HistGradientBoostingRegressor:
    """An unfitted gradient-boosted regression with the run's hyperparameters."""
    return HistGradientBoostingRegressor(
        max_iter=parameters.max_iter,
        learning_rate=parameters.learning_rate,
        max_depth=parameters.max_depth,
        min_samples_leaf=parameters.min_samples_leaf,
        l2_regularization=parameters.l2_regularization,
        categorical_features=is_category,
        early_stopping=False,
        random_state=parameters.random_state,
    )


def predicted_log_views(labelled: pd.DataFrame, predicted_relative: np.ndarray) -> pd.Series:
    """ln(1 + views) as the model predicts it: a level never made from the video's own views —
    the median of the account's other videos, or the peer line's expectation (fitted without
    the video) — plus the predicted relative log views."""
    expected_views = labelled["expected_views"].astype("Float64")
    by_median = labelled["label_basis"].eq(LabelBasis.ACCOUNT_MEDIAN.value).fillna(False)
    level = np.log1p(labelled["other_videos_median_views"].where(by_median, expected_views))
    return (level + predicted_relative).astype("Float64")
