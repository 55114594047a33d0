"""Drivers a user can act on: for each of the model's top features, the videos that have it against
the others, in the label's own terms.

A feature's *having it* is: true for a flag (`original_sound = true`), at or above the median for a
number (`duration_seconds ≥ 25`; above it when most videos share the median), the most frequent
value for a category (`ai_content_category = education`). Videos without a value are in neither
group. For each group, the median of its videos' multiple of what their label compares them with
(`views_multiple`: views ÷ the account's median, or ÷ the peer line's expectation); the driver's
`ratio` is the median multiple of the videos with it ÷ that of the others, with a 95% interval
from resampling accounts (as the metrics' intervals, evaluation.py). A ratio of 1.5 (1.2 to 1.9):
videos with it typically get half as many views again, relative to their creator's level.

These are associations within the dataset, not causes: the features that go together (a short
video and a trending sound) share their ratios. The importance ranks the features by what the
model needs; the ratio says which way, and how much, in views.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiktok_virality.defs.model.evaluation import account_bootstrap
from tiktok_virality.defs.model.selection import FEATURE_KINDS, FeatureKind

DRIVER_COLUMNS = (
    "dataset",
    "rank",
    "feature",
    "having_it",
    "videos_with",
    "videos_without",
    "median_multiple_with",
    "median_multiple_without",
    "ratio",
    "ratio_low",
    "ratio_high",
)
# Fewer videos than this on either side make a median say nothing.
MIN_GROUP_VIDEOS = 5


@dataclass(frozen=True)
class _Split:
    having_it: str
    has: np.ndarray  # True: has it, False: has not, per row; rows without a value are masked out
    known: np.ndarray


def driver_table(
    labelled: pd.DataFrame,
    views_multiple: np.ndarray,
    importance: pd.DataFrame,
    *,
    top: int,
    repeats: int,
    random_state: int,
) -> pd.DataFrame:
    """`DRIVER_COLUMNS` for the `top` features of `importance` (rank order), from the labelled
    videos' feature values and `views_multiple` (same rows); `dataset` is left to the caller.
    A feature whose groups are too small has counts but no medians or ratio."""
    rows = []
    accounts = labelled["account"].to_numpy()
    for rank, feature in enumerate(importance["feature"].head(top), start=1):
        split = _split(labelled[feature], FEATURE_KINDS[str(feature)])
        with_it = split.known & split.has
        without = split.known & ~split.has
        row = {
            "rank": rank,
            "feature": feature,
            "having_it": split.having_it,
            "videos_with": int(with_it.sum()),
            "videos_without": int(without.sum()),
        }
        if min(row["videos_with"], row["videos_without"]) >= MIN_GROUP_VIDEOS:
            row |= _ratio(views_multiple, with_it, without, accounts, repeats, random_state)
        rows.append(row)
    return pd.DataFrame(rows, columns=[c for c in DRIVER_COLUMNS if c != "dataset"])


def _ratio(
    multiple: np.ndarray,
    with_it: np.ndarray,
    without: np.ndarray,
    accounts: np.ndarray,
    repeats: int,
    random_state: int,
) -> dict[str, float]:
    def measure(rows: np.ndarray) -> dict[str, float]:
        having, others = multiple[rows][with_it[rows]], multiple[rows][without[rows]]
        if len(having) == 0 or len(others) == 0:
            return {"ratio": float("nan")}
        return {"ratio": float(np.median(having) / np.median(others))}

    low, high = account_bootstrap(accounts, measure, repeats, random_state)["ratio"]
    return {
        "median_multiple_with": float(np.median(multiple[with_it])),
        "median_multiple_without": float(np.median(multiple[without])),
        "ratio": measure(np.arange(len(multiple)))["ratio"],
        "ratio_low": low,
        "ratio_high": high,
    }


def _split(values: pd.Series, kind: FeatureKind) -> _Split:
    known = values.notna().to_numpy(dtype=bool)
    if kind == FeatureKind.BOOLEAN:
        has = values.astype("boolean").fillna(False).to_numpy(dtype=bool)
        return _Split(f"{values.name} = true", has, known)
    if kind == FeatureKind.CATEGORY:
        text = values.astype("string")
        top = text.mode().iloc[0] if known.any() else ""
        return _Split(f"{values.name} = {top}", text.eq(top).fillna(False).to_numpy(bool), known)
    numbers = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    median = float(np.nanmedian(numbers)) if known.any() else 0.0
    at_least = np.nan_to_num(numbers, nan=-np.inf) >= median
    if at_least[known].all():  # most videos share the median: above it is the distinction
        return _Split(f"{values.name} > {median:.3g}", numbers > median, known)
    return _Split(f"{values.name} ≥ {median:.3g}", at_least, known)
