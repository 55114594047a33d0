"""A scrape's videos as snapshot rows (`video_snapshots`), and the bundled sample's history.

Pure functions: the scraping asset stores what `snapshot_rows` returns through the tracking store.

The bundled sample is an export, one photograph: so that the offline demo shows tracking too,
`sample_history` derives the snapshots a tracked sample would have had from its own growth law
(sample.py: views grow as 1 − e^(−age/2 days)), scaling each count back to each earlier instant
in `SAMPLE_HISTORY_HOURS` before the scrape. Deterministic: same rows, same history."""

from __future__ import annotations

import math

import pandas as pd

from tiktok_virality.defs.tracking.tables import SNAPSHOT_COLUMNS

_COUNTS = {
    "views": "play_count",
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "share_count",
    "saves": "save_count",
}
_HOUR = pd.Timedelta(hours=1)
# Earlier instants of the sample's history, in hours before its scrape: refreshes every 6 h
# over the last day, then daily.
SAMPLE_HISTORY_HOURS = (6, 12, 18, 24, 48, 72)
# The sample's growth law (sample.py): views saturate as 1 − e^(−age / 2 days).
_SAMPLE_SATURATION_HOURS = 48.0


def snapshot_rows(raw_videos: pd.DataFrame, refresh: int) -> pd.DataFrame:
    """One snapshot per video of a scrape (`raw_videos` rows): its counts and age then."""
    scraped_at = pd.to_datetime(raw_videos["scraped_at"], utc=True)
    created_at = pd.to_datetime(raw_videos["created_at"], utc=True)
    frame = pd.DataFrame(
        {
            "dataset": raw_videos["dataset"],
            "batch": raw_videos["batch"],
            "account": raw_videos["account"],
            "video_id": raw_videos["video_id"],
            "scraped_at": scraped_at,
            "refresh": refresh,
            "created_at": created_at,
            "age_hours": ((scraped_at - created_at) / _HOUR).astype("Float64"),
            **{name: raw_videos[column].astype("Int64") for name, column in _COUNTS.items()},
        }
    )
    return frame[list(SNAPSHOT_COLUMNS)].reset_index(drop=True)


def sample_history(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The earlier snapshots of the sample's videos (see the module docstring): at each instant
    of `SAMPLE_HISTORY_HOURS` before the scrape when the video was already posted, its counts
    scaled by the growth law. `snapshots` are the sample scrape's rows (`snapshot_rows`)."""
    earlier = []
    for hours_before in SAMPLE_HISTORY_HOURS:
        then = snapshots.assign(
            scraped_at=snapshots["scraped_at"] - hours_before * _HOUR,
            age_hours=snapshots["age_hours"] - hours_before,
        )
        then = then[then["age_hours"] > 0]
        share = _grown(then["age_hours"]) / _grown(snapshots.loc[then.index, "age_hours"])
        for name in _COUNTS:
            then[name] = (then[name].astype("Float64") * share).round().astype("Int64")
        earlier.append(then)
    return pd.concat(earlier, ignore_index=True) if earlier else snapshots.iloc[0:0]


def _grown(age_hours: pd.Series) -> pd.Series:
    return age_hours.astype(float).map(
        lambda hours: 1 - math.exp(-hours / _SAMPLE_SATURATION_HOURS)
    )
