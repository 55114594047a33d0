"""Outlier alerts: a video that reaches k × its baseline while still young, found in a scrape.

The baseline is the label's (label.py `dataset_targets`): the median views of the video's account
in the dataset when the account has enough videos, else what an account of its size gets at that
age (a line fitted across the dataset's videos: the size baseline of sparse accounts). A video is
an outlier when its views are at least `multiple` × that baseline within `max_age_hours` of being
posted: early, when acting on it (replying, boosting, making a follow-up) still pays. Pure
functions; the store keeps one alert per video, and the channel posts it."""

from __future__ import annotations

import pandas as pd

from tiktok_virality.defs.model.label import dataset_targets
from tiktok_virality.defs.model.parameters import ModelParameters
from tiktok_virality.defs.tracking.tables import ALERT_COLUMNS

DEFAULT_ALERT_MULTIPLE = 3.0
DEFAULT_ALERT_MAX_AGE_HOURS = 48.0
_HOUR = pd.Timedelta(hours=1)
_BASELINE_COLUMNS = ["dataset", "account", "views", "followers", "age_days"]


def baseline_frame(raw_videos: pd.DataFrame) -> pd.DataFrame:
    """A scrape's `raw_videos` rows as the baseline needs them, with their age in hours."""
    scraped_at = pd.to_datetime(raw_videos["scraped_at"], utc=True)
    age = scraped_at - pd.to_datetime(raw_videos["created_at"], utc=True)
    return pd.DataFrame(
        {
            "dataset": raw_videos["dataset"],
            "batch": raw_videos["batch"],
            "account": raw_videos["account"],
            "video_id": raw_videos["video_id"],
            "url": raw_videos["url"],
            "scraped_at": scraped_at,
            "views": raw_videos["play_count"].astype("Float64"),
            "followers": raw_videos["author_followers"].astype("Float64"),
            "age_days": (age / pd.Timedelta(days=1)).astype("Float64"),
            "age_hours": (age / _HOUR).astype("Float64"),
        }
    ).reset_index(drop=True)


def outlier_alerts(
    videos: pd.DataFrame,
    peers: pd.DataFrame,
    *,
    multiple: float = DEFAULT_ALERT_MULTIPLE,
    max_age_hours: float = DEFAULT_ALERT_MAX_AGE_HOURS,
) -> pd.DataFrame:
    """The `ALERT_COLUMNS` rows of the `videos` (`baseline_frame` rows of one scrape) that reach
    `multiple` × their baseline within `max_age_hours`. `peers` (`dataset`, `account`, `views`,
    `followers`, `age_days`) are the dataset's other videos, which the size baseline is fitted on
    too."""
    if videos.empty:
        return pd.DataFrame(columns=list(ALERT_COLUMNS))
    parts = [videos[_BASELINE_COLUMNS], peers.reindex(columns=_BASELINE_COLUMNS)]
    together = pd.concat([part for part in parts if not part.empty], ignore_index=True)
    targets = dataset_targets(together, ModelParameters(viral_multiple=multiple)).iloc[
        : len(videos)
    ]
    young = videos["age_hours"].le(max_age_hours).fillna(False).to_numpy(dtype=bool)
    reached = targets["viral"].fillna(False).to_numpy(dtype=bool)
    chosen = videos[young & reached].assign(
        baseline_views=targets["expected_views"][young & reached].to_numpy(dtype=float),
        baseline=targets["label_basis"][young & reached].to_numpy(dtype=object),
    )
    chosen = chosen.assign(
        views=chosen["views"].astype("Int64"),
        multiple=chosen["views"].astype(float) / chosen["baseline_views"],
    )
    return chosen[list(ALERT_COLUMNS)].reset_index(drop=True)


def alert_message(alert: pd.Series) -> tuple[str, str]:
    """The title and body of an alert's notification: the video and its numbers, nothing else
    (no setting, no credential)."""
    basis = "its account's median" if alert["baseline"] == "account_median" else "its size's norm"
    title = f"Outlier: @{alert['account']} ×{alert['multiple']:.1f} in {alert['age_hours']:.0f} h"
    body = (
        f"@{alert['account']}'s video {alert['video_id']} has {int(alert['views']):,} views "
        f"{alert['age_hours']:.0f} h after posting: {alert['multiple']:.1f} × {basis} "
        f"({alert['baseline_views']:,.0f} views; dataset {alert['dataset']}).\n{alert['url'] or ''}"
    ).strip()
    return title, body
