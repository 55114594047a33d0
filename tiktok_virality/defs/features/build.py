"""Features for modelling virality: one row per scraped video, the columns of `VIDEO_FEATURES`.

`build_features` is a pure, vectorized function of the `raw_videos` and `video_analyses` frames of
one partition. The features come in groups:

- Basic engagement (views, likes, comments, shares, saves): the raw counts, which are what
  "viral" is measured by.
- Ratios (like, comment, share and save rate, engagement rate): the counts per view, so that
  videos with very different reach can be compared by how strongly their viewers react.
- Content (caption length, hashtag and mention counts, original sound, duration, slideshow, ad,
  pinned): what the creator controls when posting, and what the scraper knows without analysis.
  A null caption has length 0: the normalizer stores an empty caption as null, so null means "no
  caption". Hashtag and mention counts are null where the list is null, which means unknown (older
  exports have no mentions field), and 0 for an empty list.
- Temporal (posting hour and weekday in UTC, age at scrape time, views per day): counts keep
  growing after posting, so a video's age (its "lifespan", an important predictor in Ling et al.
  below) is needed to compare young and old videos; the posting time is a classic candidate for
  a driver of reach.
- AI (`analyzer` and the `ai_*` columns): what only watching the video tells, such as the
  strength of its hook, on-screen text, emotion and fit with trends, from Gemini or the offline
  metadata analyzer; null where a video has not been analysed.
- Measured (`cuts_per_10s` … `text_in_first_2s`, `features/signals.py`): what the video file
  measures locally (pacing, faces, picture, sound, on-screen text), beside Gemini's judgement;
  null where no file was measured.
- Account-relative (followers, the account's median views, views relative to that median):
  the follower count is the strongest known predictor of virality (Ling et al., "Slapping Cats,
  Bopping Heads, and Oreo Shakes: Understanding Indicators of Virality in TikTok Short Videos",
  WebSci 2022), so a video's success is judged against what its own account usually reaches,
  not only in absolute views.

Every ratio whose denominator is zero or unknown is null, never infinite, and all columns use
pandas' nullable dtypes, following the SQL types of the contract.
"""

from __future__ import annotations

import pandas as pd

from tiktok_virality.defs.features.signals import signal_features
from tiktok_virality.defs.features.velocity import velocity_columns
from tiktok_virality.defs.model.label import virality_targets
from tiktok_virality.warehouse.contracts import (
    ACCOUNT_KEY,
    PANDAS_DTYPES,
    VIDEO_IDENTITY_COLUMNS,
    VIDEO_KEY,
)
from tiktok_virality.warehouse.tables import VIDEO_FEATURES

# Each ai_* feature is the analysis column of the same name without the prefix.
_AI_PREFIX = "ai_"
_FEATURE_BY_ANALYSIS_COLUMN = {
    name.removeprefix(_AI_PREFIX): name
    for name in VIDEO_FEATURES.column_names
    if name.startswith(_AI_PREFIX) or name == "analyzer"
}

# What the features read of their inputs: the IO manager loads only these (at a million videos the
# other columns, `raw_item` above all, would take gigabytes).
RAW_VIDEO_INPUTS = (
    *VIDEO_IDENTITY_COLUMNS,
    "play_count",
    "like_count",
    "comment_count",
    "share_count",
    "save_count",
    "caption",
    "hashtags",
    "mentions",
    "music_original",
    "duration_seconds",
    "is_slideshow",
    "is_ad",
    "is_pinned",
    "created_at",
    "scraped_at",
    "author_followers",
)
ANALYSIS_INPUTS = (*VIDEO_KEY, "analyzed_at", *_FEATURE_BY_ANALYSIS_COLUMN)

# Text as pandas' string dtype too, so that every feature column has a nullable dtype.
_SQL_TO_FEATURE_DTYPE = {**PANDAS_DTYPES, "VARCHAR": "string"}
_FEATURE_DTYPES = {
    name: _SQL_TO_FEATURE_DTYPE[sql] for name, sql in VIDEO_FEATURES.sql_types.items()
}

_ONE_DAY = pd.Timedelta(days=1)


def build_features(
    raw_videos: pd.DataFrame,
    analyses: pd.DataFrame,
    snapshots: pd.DataFrame | None = None,
    signals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The `VIDEO_FEATURES` rows of the given videos, in their order, one row per raw video.

    `snapshots` (`video_snapshots` rows of the same videos) give the velocity columns
    (velocity.py); without them those are null. `signals` (the partition's `video_signals`) adds
    the measured signals; without it they are null.

    Analyses are joined on (dataset, batch, video_id); analyses without a raw video are ignored.
    A video has at most one analysis per partition, as the IO manager replaces a partition whole;
    should it have several, the latest `analyzed_at` wins. Neither input is modified.
    """
    videos = raw_videos.reset_index(drop=True)
    views = videos["play_count"].astype("Int64")
    features = {
        **{column: videos[column] for column in VIDEO_IDENTITY_COLUMNS},
        **_engagement_features(videos, views),
        **_content_features(videos),
        **_temporal_features(videos, views),
        **_analysis_features(videos, analyses),
        **_account_features(videos, views),
        **velocity_columns(videos, snapshots),
        **signal_features(videos, signals),
        # Labels are per account, and each account is in one batch: a partition has them all.
        **virality_targets(
            pd.DataFrame(
                {"dataset": videos["dataset"], "account": videos["account"], "views": views}
            )
        ).to_dict("series"),
    }
    return pd.DataFrame(
        {name: features[name].astype(dtype) for name, dtype in _FEATURE_DTYPES.items()}
    )


def _analysis_features(videos: pd.DataFrame, analyses: pd.DataFrame) -> dict[str, pd.Series]:
    """The `analyzer` and `ai_*` columns of each video's latest analysis; null where it has none."""
    sources = list(_FEATURE_BY_ANALYSIS_COLUMN)
    latest = (
        analyses[VIDEO_KEY + sources]
        .assign(analyzed_at=_utc(analyses["analyzed_at"]))
        # Undated analyses sort first, so that any dated analysis of the same video wins.
        .sort_values("analyzed_at", kind="stable", na_position="first")
        .drop_duplicates(VIDEO_KEY, keep="last")
        .drop(columns="analyzed_at")
    )
    # A left merge keeps the videos' order; with unique keys on the right, one row per video.
    matched = videos[VIDEO_KEY].merge(latest, on=VIDEO_KEY, how="left")
    return {feature: matched[source] for source, feature in _FEATURE_BY_ANALYSIS_COLUMN.items()}


def _engagement_features(videos: pd.DataFrame, views: pd.Series) -> dict[str, pd.Series]:
    likes = videos["like_count"].astype("Int64")
    comments = videos["comment_count"].astype("Int64")
    shares = videos["share_count"].astype("Int64")
    saves = videos["save_count"].astype("Int64")
    return {
        "views": views,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "saves": saves,
        "like_rate": _ratio(likes, views),
        "comment_rate": _ratio(comments, views),
        "share_rate": _ratio(shares, views),
        "save_rate": _ratio(saves, views),
        # Many exports lack saves; counting them as 0 keeps the rate comparable across exports
        # instead of losing it for every video of such an export.
        "engagement_rate": _ratio(likes + comments + shares + saves.fillna(0), views),
    }


def _content_features(videos: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        "caption_length": videos["caption"].astype("string").str.len().fillna(0),
        "hashtag_count": _list_length(videos["hashtags"]),
        "mention_count": _list_length(videos["mentions"]),
        "original_sound": videos["music_original"],
        "duration_seconds": videos["duration_seconds"],
        "is_slideshow": videos["is_slideshow"],
        "is_ad": videos["is_ad"],
        "is_pinned": videos["is_pinned"],
    }


def _temporal_features(videos: pd.DataFrame, views: pd.Series) -> dict[str, pd.Series]:
    created_at = _utc(videos["created_at"])
    age_days = ((_utc(videos["scraped_at"]) - created_at) / _ONE_DAY).astype("Float64")
    return {
        "post_hour_utc": created_at.dt.hour,
        "post_weekday_utc": created_at.dt.dayofweek,
        "age_days": age_days,
        "views_per_day": _ratio(views, age_days.where(age_days > 0)),
    }


def _account_features(videos: pd.DataFrame, views: pd.Series) -> dict[str, pd.Series]:
    account_median_views = (
        views.astype("Float64")
        .groupby([videos[column] for column in ACCOUNT_KEY])
        .transform("median")
    )
    return {
        "followers": videos["author_followers"],
        "account_median_views": account_median_views,
        "views_vs_account_median": _ratio(views, account_median_views),
    }


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, null where the denominator is zero or null rather than infinite."""
    denominator = denominator.astype("Float64")
    return numerator.astype("Float64") / denominator.mask(denominator.eq(0).fillna(False))


def _list_length(lists: pd.Series) -> pd.Series:
    """Lengths of list-valued cells (Python lists or, from DuckDB, numpy arrays); null where the
    list is null (unknown)."""
    return lists.map(len, na_action="ignore").astype("Float64")


def _utc(timestamps: pd.Series) -> pd.Series:
    return pd.to_datetime(timestamps, utc=True)
