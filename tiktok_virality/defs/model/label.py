"""The virality label and the regression targets, and the account median the baseline uses.

**Relative virality.** A video is *viral* when its views are at least k × its account's median
views (k = `ModelParameters.viral_multiple`, default 3), the median taken over the account's
videos in the dataset *including this one* — the account's typical video. Big accounts do not win
by size alone: a 2M-follower account's ordinary video is not viral, a small account's breakout is.
The label is null (unknown) when the video's views are unknown, when the account has fewer than
`min_account_videos` videos with known views, or when the account's median is 0 (k × 0 would make
every video viral, even one with no views).

**Targets.** `log_views` = ln(1 + views), the regression target whose ranking the model is judged
on (Spearman); the + 1 keeps a video with 0 views finite. `relative_log_views` = ln(1 + views) −
ln(1 + account median): how far the video is above or below its account's typical video, on the
log scale; the model is fit to it (see training.py), and a video is viral about when it is at
least ln k.

An account's videos are all in one batch (the batch plan pins accounts to batches), so these
columns can be computed per `video_features` partition and stored with the features, as well as on
a whole dataset: the result is the same.

**A label for every video.** Hashtag, search and trending exports hold one or two videos per
author: too few for the author's own median. Such a video is compared with what an account of
its size gets at that age instead (`dataset_targets`): the expected log views from log followers
and log age, a least-squares line fitted across the dataset — follower count is the strongest
single predictor of views (Ling et al., WebSci 2022), and views grow with age. Without follower
counts (the 2020 legacy export schema has none), the expectation is what a video of that age gets
in the dataset (log views on log age). Each video's `label_basis` says which (`LabelBasis`), and
`expected_views` what it was compared with: viral when views ≥ k × expected views, as for the
account median. Evaluated with the model, the line is cross-fitted: fitted on the other folds'
videos, so that no video's label uses its own views, nor its account's.

**The median of the account's other videos** (`median_of_other_videos`) is what the "account
median" baseline predicts from: it never contains the video's own views. It is not a model
feature: leaving one video out moves the median down for videos above it and up for videos below
it, so within an account it still tells which side of the median the video is on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from tiktok_virality.defs.model.parameters import ModelParameters
from tiktok_virality.warehouse.contracts import ACCOUNT_KEY

TARGET_COLUMNS = ("log_views", "relative_log_views", "viral_threshold_views", "viral")
LABEL_COLUMNS = (*TARGET_COLUMNS, "label_basis", "expected_views")
# A line through fewer videos than this says too little about what a video should get.
MIN_PEER_FIT_VIDEOS = 10


class LabelBasis(StrEnum):
    """What a video's views are compared with. The values are stored in `video_predictions`."""

    ACCOUNT_MEDIAN = "account_median"
    FOLLOWERS_AND_AGE = "followers_and_age"
    AGE = "age"


LABEL_BASIS_DESCRIPTIONS: Mapping[LabelBasis, str] = {
    LabelBasis.ACCOUNT_MEDIAN: "its account's median views in the dataset",
    LabelBasis.FOLLOWERS_AND_AGE: (
        "what an account of its size gets at that age (log views on log followers and log age, "
        "across the dataset)"
    ),
    LabelBasis.AGE: (
        "what a video of that age gets in the dataset (log views on log age: the export has no "
        "follower counts)"
    ),
}


def virality_targets(
    features: pd.DataFrame, parameters: ModelParameters | None = None
) -> pd.DataFrame:
    """The label and targets of each video of `features` (same index and order).

    `features` needs `dataset`, `account` and `views`. Columns of the result:
    `log_views` (Float64), `relative_log_views` (Float64), `viral_threshold_views` (Float64,
    k × the account's median) and `viral` (boolean); the last three are null where the label is
    unknown (see the module docstring).
    """
    parameters = parameters or ModelParameters()
    views = features["views"].astype("Float64")
    by_account = views.groupby([features[column] for column in ACCOUNT_KEY], dropna=False)
    account_videos = by_account.transform("count")
    account_median = by_account.transform("median")
    labelled = (
        (views.notna() & account_videos.ge(parameters.min_account_videos) & account_median.gt(0))
        .fillna(False)
        .astype(bool)
    )
    threshold = (parameters.viral_multiple * account_median).where(labelled)
    log_views = np.log1p(views)
    return pd.DataFrame(
        {
            "log_views": log_views,
            "relative_log_views": (log_views - np.log1p(account_median)).where(labelled),
            "viral_threshold_views": threshold,
            "viral": views.ge(threshold).astype("boolean").where(labelled),
        },
        index=features.index,
    )


def median_of_other_videos(frame: pd.DataFrame, column: str, by: Sequence[str]) -> pd.Series:
    """Per row, the median of `column` over the other rows of its group (`by`), nulls ignored;
    null when the group has no other known value. Vectorized: one sort, no loop over groups."""
    values = frame[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(values)
    if not known.any():
        return pd.Series(np.nan, index=frame.index, dtype="Float64")
    groups = frame.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
    known_rows = np.flatnonzero(known)
    order = known_rows[np.lexsort((values[known_rows], groups[known_rows]))]
    sorted_values = values[order]
    sizes = np.bincount(groups[order], minlength=groups.max() + 1)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts[groups[order]]
    known_in_group = sizes[groups]
    # The row's own value is left out; an unknown row leaves out nothing (its "rank" is past the
    # end), so it gets its group's plain median.
    left_out = np.where(known, rank, known_in_group)
    others = known_in_group - known
    has_others = others > 0

    def other_value(position: np.ndarray) -> np.ndarray:
        """The value at `position` among the group's other values, sorted."""
        index = starts[groups] + position + (position >= left_out)
        return sorted_values[np.where(has_others, index, 0)]

    lower = other_value(np.maximum((others - 1) // 2, 0))
    upper = other_value(others // 2)
    medians = np.where(has_others, (lower + upper) / 2, np.nan)
    return pd.Series(medians, index=frame.index, dtype="Float64")


@dataclass(frozen=True)
class PeerExpectation:
    """ln(1 + views) ≈ `coefficients` · (1, *predictors) for the predictors of its basis."""

    basis: LabelBasis
    coefficients: np.ndarray

    def expected_log_views(self, frame: pd.DataFrame) -> np.ndarray:
        return _design(frame, self.basis) @ self.coefficients


def fit_peer_expectations(frame: pd.DataFrame) -> dict[LabelBasis, PeerExpectation]:
    """The lines of both peer bases that `frame` (`views`, `followers`, `age_days`) has enough
    videos for: followers and age where followers are known, age alone everywhere."""
    log_views = _log_views(frame)
    fitted = {}
    for basis in (LabelBasis.FOLLOWERS_AND_AGE, LabelBasis.AGE):
        design = _design(frame, basis)
        usable = np.isfinite(design).all(axis=1) & np.isfinite(log_views)
        if usable.sum() >= MIN_PEER_FIT_VIDEOS:
            coefficients, *_ = np.linalg.lstsq(design[usable], log_views[usable], rcond=None)
            fitted[basis] = PeerExpectation(basis, coefficients)
    return fitted


def dataset_targets(
    frame: pd.DataFrame,
    parameters: ModelParameters,
    folds: np.ndarray | None = None,
    fit_rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """The label of every video with views (`LABEL_COLUMNS`, same index as `frame`): against its
    account's median when the account has enough videos (`virality_targets`), else against the
    peer expectation of its basis (followers and age where its followers are known, else age).

    `frame` needs `dataset`, `account` and `views`; `followers` and `age_days` are unknown where
    null or absent. With `folds` (a fold
    per row), each fold's expectation is fitted on the other folds' videos (cross-fitting); a fold
    whose others are too few for a line falls back to the line of all videos. With `fit_rows` (a
    boolean mask) instead, every video's expectation is fitted on those rows only (the older
    videos of a time-ordered evaluation)."""
    targets = virality_targets(frame, parameters)
    by_median = targets["viral"].notna().to_numpy(dtype=bool)
    expected = (targets["viral_threshold_views"] / parameters.viral_multiple).to_numpy(
        dtype=float, na_value=np.nan
    )
    basis = np.where(by_median, LabelBasis.ACCOUNT_MEDIAN.value, None).astype(object)
    everyone = fit_peer_expectations(frame)
    for rows, fitted in _peer_fits(frame, folds, fit_rows, everyone):
        for peer_basis in (LabelBasis.AGE, LabelBasis.FOLLOWERS_AND_AGE):  # followers win
            line = fitted.get(peer_basis) or everyone.get(peer_basis)
            if line is None:
                continue
            predicted = line.expected_log_views(frame)
            # A line below 0 log views would make every video "viral": such a video is left
            # unlabelled.
            chosen = rows & ~by_median & np.isfinite(predicted) & (predicted > 0)
            expected[chosen] = np.expm1(predicted[chosen])
            basis[chosen] = peer_basis.value
    log_views = _log_views(frame)
    labelled = ~pd.isna(basis) & np.isfinite(log_views)
    expected_views = pd.Series(expected, index=frame.index, dtype="Float64")
    threshold = (parameters.viral_multiple * expected_views).where(labelled)
    views = frame["views"].astype("Float64")
    return pd.DataFrame(
        {
            "log_views": targets["log_views"],
            "relative_log_views": pd.Series(
                log_views - np.log1p(expected), index=frame.index, dtype="Float64"
            ).where(labelled),
            "viral_threshold_views": threshold,
            "viral": views.ge(threshold).astype("boolean").where(labelled),
            "label_basis": pd.Series(basis, index=frame.index, dtype="string").where(labelled),
            "expected_views": expected_views.where(labelled),
        },
        index=frame.index,
    )


def _peer_fits(
    frame: pd.DataFrame,
    folds: np.ndarray | None,
    fit_rows: np.ndarray | None,
    everyone: dict[LabelBasis, PeerExpectation],
) -> list[tuple[np.ndarray, dict[LabelBasis, PeerExpectation]]]:
    """(rows, the lines for them): each fold and its others' lines, or all rows and the lines of
    `fit_rows`, or of `everyone`."""
    every_row = np.ones(len(frame), dtype=bool)
    if fit_rows is not None:
        return [(every_row, fit_peer_expectations(frame[fit_rows]))]
    if folds is None:
        return [(every_row, everyone)]
    return [
        (folds == fold, fit_peer_expectations(frame[folds != fold])) for fold in np.unique(folds)
    ]


def _log_views(frame: pd.DataFrame) -> np.ndarray:
    return np.log1p(_numbers(frame, "views"))


def _design(frame: pd.DataFrame, basis: LabelBasis) -> np.ndarray:
    """The intercept and the basis's predictors, NaN where a value is unknown."""
    columns = [np.ones(len(frame)), np.log1p(np.clip(_numbers(frame, "age_days"), 0, None))]
    if basis is LabelBasis.FOLLOWERS_AND_AGE:
        columns.append(np.log1p(np.clip(_numbers(frame, "followers"), 0, None)))
    return np.column_stack(columns)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The column as floats, NaN where unknown; all NaN when the frame lacks it."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
