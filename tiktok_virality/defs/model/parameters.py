"""Every setting of the virality model in one frozen, validated dataclass: the label's multiple, the
trend windows, the cross-validation and the gradient-boosting hyperparameters. A run stores them
with its metrics (`ModelParameters.as_dict`), so that every number can be traced to its settings."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

# Trend windows are bounded so that a dataset's posting times (2001-2100, see the normalizer) and
# the windows before them fit the 32-bit second offsets trend counting packs its keys into.
_MAX_WINDOW_DAYS = 3_650.0


@dataclass(frozen=True)
class _Bound:
    whole: bool
    low: float
    low_inclusive: bool = True
    high: float = math.inf

    def check(self, name: str, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if self.whole and not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        number = float(value)
        above_low = number >= self.low if self.low_inclusive else number > self.low
        if not (math.isfinite(number) and above_low and number <= self.high):
            low = f"{'≥' if self.low_inclusive else '>'} {self.low:g}"
            high = "" if math.isinf(self.high) else f" and ≤ {self.high:g}"
            raise ValueError(f"{name} must be {low}{high}, got {value!r}")


_BOUNDS = {
    "viral_multiple": _Bound(whole=False, low=1.0, low_inclusive=False),
    "min_account_videos": _Bound(whole=True, low=2),
    "trend_window_days": _Bound(whole=False, low=0.0, low_inclusive=False, high=_MAX_WINDOW_DAYS),
    "trend_baseline_days": _Bound(whole=False, low=0.0, low_inclusive=False, high=_MAX_WINDOW_DAYS),
    "trend_min_videos": _Bound(whole=True, low=1),
    "trend_growth": _Bound(whole=False, low=1.0, low_inclusive=False),
    "folds": _Bound(whole=True, low=2),
    "near_constant_share": _Bound(whole=False, low=0.5, low_inclusive=False, high=1.0),
    "max_iter": _Bound(whole=True, low=1),
    "learning_rate": _Bound(whole=False, low=0.0, low_inclusive=False, high=1.0),
    "max_depth": _Bound(whole=True, low=1),
    "min_samples_leaf": _Bound(whole=True, low=1),
    "l2_regularization": _Bound(whole=False, low=0.0),
    "permutation_repeats": _Bound(whole=True, low=1),
    "bootstrap_repeats": _Bound(whole=True, low=10),
    "top_drivers": _Bound(whole=True, low=1),
    "time_test_share": _Bound(whole=False, low=0.0, low_inclusive=False, high=0.5),
    "random_state": _Bound(whole=True, low=0, high=2**32 - 1),
}


@dataclass(frozen=True)
class ModelParameters:
    """The virality model's settings, validated on creation (ValueError names the bad one).

    Label (label.py):
    - `viral_multiple` (k, > 1): a video is viral when its views are at least k × its account's
      median views.
    - `min_account_videos` (≥ 2): an account needs at least this many videos with known views for
      its videos to get a label; with fewer, "k × the median" says little (with 2 videos and k ≥ 2
      no video can be viral), and the median of the account's other videos is undefined.

    Trends (trends.py): a hashtag or sound is rising at a time t when it was used by at least
    `trend_min_videos` videos in the `trend_window_days` before t, and its share of all videos
    posted in that window is at least `trend_growth` (> 1) times its share in the
    `trend_baseline_days` before that window.

    Validation and model (training.py): `folds` (≥ 2) grouped cross-validation folds, fewer when
    there are fewer accounts; feature columns whose most frequent value (null counted as a value)
    covers at least `near_constant_share` of the videos are dropped as near-constant;
    `max_iter`, `learning_rate`, `max_depth`, `min_samples_leaf` and `l2_regularization` are
    scikit-learn's `HistGradientBoostingRegressor` hyperparameters, modest by default to stay fast
    and not overfit datasets of a few hundred videos; `permutation_repeats` shuffles per feature
    for the permutation importance; `bootstrap_repeats` resamples of the accounts for every
    metric's 95% interval (evaluation.py); `time_test_share` of the newest videos are the test
    videos of the time-ordered evaluation (time_ordered.py); the `top_drivers` most important
    features are described as drivers (drivers.py); `random_state` seeds the folds, the
    model, the shuffles and the resamples.
    """

    viral_multiple: float = 3.0
    min_account_videos: int = 3
    trend_window_days: float = 7.0
    trend_baseline_days: float = 28.0
    trend_min_videos: int = 3
    trend_growth: float = 2.0
    folds: int = 5
    near_constant_share: float = 0.98
    max_iter: int = 100
    learning_rate: float = 0.05
    max_depth: int = 3
    min_samples_leaf: int = 10
    l2_regularization: float = 1.0
    permutation_repeats: int = 5
    bootstrap_repeats: int = 200
    time_test_share: float = 0.2
    top_drivers: int = 8
    random_state: int = 0

    def __post_init__(self) -> None:
        for name, bound in _BOUNDS.items():
            value = getattr(self, name)
            bound.check(name, value)
            # numpy numbers become plain Python ones, so that as_dict() is JSON-ready.
            object.__setattr__(self, name, int(value) if bound.whole else float(value))

    def as_dict(self) -> dict[str, int | float]:
        """The parameters by name, plain Python numbers (for `model_runs` and metadata)."""
        return dataclasses.asdict(self)
