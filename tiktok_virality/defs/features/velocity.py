"""View velocity from a video's snapshots (`video_snapshots`: its counts at each scrape), without
looking ahead. Pure functions of the snapshot rows of one partition or dataset.

How fast a video gathers views in its first day is the strongest known signal of where it ends
up; a single scrape cannot tell it, the snapshots of repeated scrapes can. Per video:

- `snapshots`: how many scrapes saw it.
- `views_per_hour`: views gained per hour between its last two snapshots (null with one).
- `views_gained_since_previous`: views gained since the previous snapshot (the previous refresh).
- `views_at_24h`, `views_at_48h`: views at that age, interpolated linearly between the two
  snapshots around it (a video has 0 views when posted: its posting time is the first point);
  null unless a snapshot was taken within `NEAR_HOURS` of that age, and never extrapolated past
  the last snapshot. They describe the growth curve; being interpolated with the snapshot after
  that age — possibly the latest, the one the model's target is read from — they are no feature.
- `early_views_per_hour`: the model's early velocity: views per hour of age at the last snapshot
  taken within the first `EARLY_HOURS` of the video's life, from that snapshot alone (nothing
  later), and only for a video also seen after that day, so that the target it predicts is read
  at a later scrape than the feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tiktok_virality.warehouse.contracts import VIDEO_KEY

VELOCITY_COLUMNS = (
    "snapshots",
    "views_per_hour",
    "views_gained_since_previous",
    "views_at_24h",
    "views_at_48h",
    "early_views_per_hour",
)
# A snapshot this close to an age (before or after it) makes the views at that age known.
NEAR_HOURS = 12.0
EARLY_HOURS = 24.0
_DTYPES = {
    "snapshots": "Int32",
    "views_gained_since_previous": "Int64",
    **{
        name: "Float64"
        for name in ("views_per_hour", "views_at_24h", "views_at_48h", "early_views_per_hour")
    },
}


def views_at_age(ages: np.ndarray, views: np.ndarray, age: float) -> float:
    """The views at `age` (hours) interpolated between the snapshots (`ages` ascending, with their
    `views`) and the posting time (0 views at age 0); NaN past the last snapshot or without a
    snapshot within `NEAR_HOURS` of `age`."""
    if len(ages) == 0 or age > ages[-1] or np.min(np.abs(ages - age)) > NEAR_HOURS:
        return float("nan")
    return float(np.interp(age, np.concatenate([[0.0], ages]), np.concatenate([[0.0], views])))


def early_views_per_hour(ages: np.ndarray, views: np.ndarray) -> float:
    """Views per hour of age at the last snapshot of the first `EARLY_HOURS`, if a later one
    exists (see the module docstring); NaN otherwise."""
    early = np.flatnonzero((ages > 0) & (ages <= EARLY_HOURS))
    if len(early) == 0 or ages[-1] <= EARLY_HOURS:
        return float("nan")
    last_early = early[-1]
    return float(views[last_early] / ages[last_early])


def velocity_features(snapshots: pd.DataFrame) -> pd.DataFrame:
    """One row per video of `snapshots` (`dataset`, `batch`, `video_id`, `age_hours`, `views`):
    its keys and `VELOCITY_COLUMNS`. Snapshots without an age or views are ignored."""
    known = snapshots.dropna(subset=["age_hours", "views"]).sort_values([*VIDEO_KEY, "age_hours"])
    rows = []
    for key, video in known.groupby(VIDEO_KEY, sort=False):
        ages = video["age_hours"].to_numpy(dtype=float)
        views = video["views"].to_numpy(dtype=float)
        gained = views[-1] - views[-2] if len(views) > 1 else np.nan
        hours = ages[-1] - ages[-2] if len(ages) > 1 else np.nan
        rows.append(
            (
                *key,
                len(video),
                gained / hours if hours > 0 else np.nan,
                gained,
                views_at_age(ages, views, 24.0),
                views_at_age(ages, views, 48.0),
                early_views_per_hour(ages, views),
            )
        )
    frame = pd.DataFrame(rows, columns=[*VIDEO_KEY, *VELOCITY_COLUMNS])
    return frame.astype({name: dtype for name, dtype in _DTYPES.items()})


def velocity_columns(videos: pd.DataFrame, snapshots: pd.DataFrame | None) -> dict[str, pd.Series]:
    """The velocity columns of `videos` (rows with `VIDEO_KEY`), aligned with them: null for a
    video without snapshots, or for all when there are none."""
    if snapshots is None or snapshots.empty:
        velocity = pd.DataFrame(columns=[*VIDEO_KEY, *VELOCITY_COLUMNS])
    else:
        velocity = velocity_features(snapshots)
    matched = videos[VIDEO_KEY].merge(velocity, on=VIDEO_KEY, how="left")
    matched.index = videos.index
    return {name: matched[name].astype(dtype) for name, dtype in _DTYPES.items()}
