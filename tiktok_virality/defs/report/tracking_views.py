"""The analyst's daily views of a dataset, as numbers (pure functions of frames; the HTML is in
tracking_sections.py):

- `growth_curves`: the snapshots of the videos that gained the most views while tracked.
- `posting_heatmap`: weekday × hour of posting in the user's time zone, the median multiple of
  the account's median views (`views_vs_account_median`) per cell, with its number of videos; a
  cell of fewer than `MIN_CELL_VIDEOS` is sparse (shown greyed: a median of one or two says
  little).
- `account_benchmark`: per account, posts per week (its scraped videos over the weeks from its
  oldest to the scrape: a scrape keeps each account's latest videos), median views, median
  engagement rate, share of outliers (viral videos among its labelled ones), and the trend of the
  last 4 weeks: the median views of its videos posted in the 28 days before the scrape over the
  median of its earlier ones (young videos have not finished growing: a trend below 1 may only be
  youth).
- `adoption_speed`: hashtags and sounds used by at least two accounts, ranked by how many accounts
  took them up within `ADOPTION_WINDOW_DAYS` of their first use in the dataset, then by the median
  days the other accounts took.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_CELL_VIDEOS = 3
ADOPTION_WINDOW_DAYS = 7
TREND_DAYS = 28
_DAY = pd.Timedelta(days=1)
_WEEK = pd.Timedelta(days=7)

BENCHMARK_COLUMNS = (
    "account",
    "videos",
    "posts_per_week",
    "median_views",
    "engagement_rate",
    "outlier_share",
    "trend_4_weeks",
)
ADOPTION_COLUMNS = (
    "kind",
    "item",
    "name",
    "first_seen",
    "accounts",
    "adopted_within_window",
    "median_days_to_adopt",
)


@dataclass(frozen=True, eq=False)
class TrackingInputs:
    """What the tracking views read: the dataset's snapshots and alerts (tracking store), its
    videos (`raw_videos` joined with `video_features`: `account`, `video_id`, `created_at`,
    `scraped_at`, `hashtags`, `music_id`, `music_name`, `caption`, `url`, `views`,
    `engagement_rate`, `views_vs_account_median`, `viral`) and the time zone of the heatmap."""

    snapshots: pd.DataFrame
    alerts: pd.DataFrame
    videos: pd.DataFrame
    time_zone: str = "UTC"


# Beside the keys (dataset, batch, video_id).
_VIDEO_COLUMNS = (
    "account",
    "created_at",
    "scraped_at",
    "hashtags",
    "music_id",
    "music_name",
    "url",
)
_FEATURE_COLUMNS = ("views", "engagement_rate", "views_vs_account_median", "viral")


def tracked_videos(raw_videos: pd.DataFrame, video_features: pd.DataFrame) -> pd.DataFrame:
    """The videos as `TrackingInputs` wants them: `raw_videos` joined with their features."""
    keys = ["dataset", "batch", "video_id"]
    features = video_features[[*keys, *_FEATURE_COLUMNS]]
    return raw_videos[[*keys, *_VIDEO_COLUMNS]].merge(features, on=keys, how="left")


def growth_curves(snapshots: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The snapshots (`video_id`, `account`, `age_hours`, `views`, `scraped_at`) of the `top`
    videos that gained the most views while tracked (first to last snapshot; seen at least
    twice), by rank then age, with their `rank`."""
    seen = snapshots.dropna(subset=["age_hours", "views"]).sort_values("scraped_at")
    views = seen.groupby("video_id")["views"]
    gained = (views.last() - views.first())[views.size() >= 2]
    chosen = gained.sort_values(ascending=False, kind="stable").index[:top]
    curves = seen[seen["video_id"].isin(chosen)]
    order = {video: rank for rank, video in enumerate(chosen)}
    return curves.assign(rank=curves["video_id"].map(order)).sort_values(["rank", "age_hours"])


def posting_heatmap(videos: pd.DataFrame, time_zone: str) -> pd.DataFrame:
    """One row per (weekday 0 = Monday, hour) with videos: `videos`, `median_multiple`,
    `sparse`."""
    known = videos.dropna(subset=["created_at", "views_vs_account_median"])
    local = pd.to_datetime(known["created_at"], utc=True).dt.tz_convert(time_zone)
    cells = (
        pd.DataFrame(
            {
                "weekday": local.dt.dayofweek,
                "hour": local.dt.hour,
                "multiple": known["views_vs_account_median"].astype(float),
            }
        )
        .groupby(["weekday", "hour"])["multiple"]
        .agg(videos="size", median_multiple="median")
        .reset_index()
    )
    return cells.assign(sparse=cells["videos"] < MIN_CELL_VIDEOS)


def account_benchmark(videos: pd.DataFrame) -> pd.DataFrame:
    """`BENCHMARK_COLUMNS` per account (see the module docstring), most viewed first."""
    rows = []
    for account, own in videos.groupby("account", sort=True):
        created = pd.to_datetime(own["created_at"], utc=True)
        scraped = pd.to_datetime(own["scraped_at"], utc=True).max()
        views = own["views"].astype(float)
        weeks = max((scraped - created.min()) / _WEEK, 1.0)
        recent = created > scraped - TREND_DAYS * _DAY
        earlier_median = views[~recent].median()
        labelled = own["viral"].dropna().astype(bool)
        rows.append(
            (
                account,
                len(own),
                len(own) / weeks,
                views.median(),
                own["engagement_rate"].astype(float).median(),
                labelled.mean() if len(labelled) else np.nan,
                views[recent].median() / earlier_median
                if recent.any() and earlier_median > 0
                else np.nan,
            )
        )
    frame = pd.DataFrame(rows, columns=list(BENCHMARK_COLUMNS))
    return frame.sort_values("median_views", ascending=False, kind="stable").reset_index(drop=True)


def adoption_speed(videos: pd.DataFrame) -> pd.DataFrame:
    """`ADOPTION_COLUMNS` per hashtag and sound used by two accounts or more, fastest first."""
    created = pd.to_datetime(videos["created_at"], utc=True)
    hashtags = (
        pd.DataFrame({"account": videos["account"], "at": created, "item": videos["hashtags"]})
        .explode("item")
        .dropna(subset=["item"])
        .assign(kind="hashtag", name=lambda frame: "#" + frame["item"].astype(str))
    )
    sounds = pd.DataFrame(
        {
            "account": videos["account"],
            "at": created,
            "item": videos["music_id"],
            "name": videos["music_name"],
            "kind": "sound",
        }
    ).dropna(subset=["item"])
    rows = []
    for (kind, item), uses in (
        pd.concat([hashtags, sounds]).dropna(subset=["at"]).groupby(["kind", "item"])
    ):
        first_by_account = uses.groupby("account")["at"].min().sort_values()
        if len(first_by_account) < 2:
            continue
        first_seen = first_by_account.iloc[0]
        delays = (first_by_account.iloc[1:] - first_seen) / _DAY
        rows.append(
            (
                kind,
                str(item),
                str(uses["name"].dropna().iloc[0]) if uses["name"].notna().any() else str(item),
                first_seen,
                len(first_by_account),
                int((delays <= ADOPTION_WINDOW_DAYS).sum()) + 1,
                float(delays.median()),
            )
        )
    frame = pd.DataFrame(rows, columns=list(ADOPTION_COLUMNS))
    return frame.sort_values(
        ["adopted_within_window", "median_days_to_adopt", "item"],
        ascending=[False, True, True],
        kind="stable",
    ).reset_index(drop=True)
