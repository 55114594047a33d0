"""The measured signals (`video_signals`, `defs/signals/`) as features: each signal is a feature of
the same name, joined on (dataset, batch, video_id); null where the video has no measured file."""

from __future__ import annotations

import pandas as pd

from tiktok_virality.warehouse.contracts import VIDEO_KEY
from tiktok_virality.warehouse.tables import SIGNAL_COLUMNS

SIGNAL_FEATURES: tuple[str, ...] = SIGNAL_COLUMNS
# What the features read of `video_signals`: the IO manager loads only these.
SIGNAL_INPUTS = (*VIDEO_KEY, *SIGNAL_FEATURES)


def signal_features(videos: pd.DataFrame, signals: pd.DataFrame | None) -> dict[str, pd.Series]:
    """Each video's signals, in the videos' order; all null without `signals`. A video has one
    signals row per partition (the IO manager replaces a partition whole); should it have several,
    the last wins."""
    if signals is None:
        return {name: pd.Series(pd.NA, index=videos.index) for name in SIGNAL_FEATURES}
    unique = signals[list(SIGNAL_INPUTS)].drop_duplicates(VIDEO_KEY, keep="last")
    # A left merge keeps the videos' order; with unique keys on the right, one row per video.
    matched = videos[VIDEO_KEY].merge(unique, on=VIDEO_KEY, how="left")
    return {name: matched[name] for name in SIGNAL_FEATURES}
