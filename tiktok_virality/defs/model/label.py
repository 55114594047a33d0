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

**The median of the account's other videos** (`median_of_other_videos`) is what the "account
median" baseline predicts from: it never contains the video's own views. It is not a model
feature: leaving one video out moves the median down for videos above it and up for videos below
it, so within an account it still tells which side of the median the video is on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tiktok_virality.defs.model.parameters import ModelParameters
from tiktok_virality.warehouse.tables import ACCOUNT_KEY

TARGET_COLUMNS = ("log_views", "relative_log_views", "viral_threshold_views", "viral")


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
