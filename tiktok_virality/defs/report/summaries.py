"""The numbers the report shows, computed from its inputs: one row per video with its links and
its prediction, the top and bottom videos, a summary per account, the rising hashtags and sounds
and the dataset's overview. Pure functions; the frames come out with plain dtypes (float64 numbers,
nullable booleans, UTC timestamps) whichever source — a `ModelRun` or DuckDB — the inputs came
from, so that the page is the same either way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiktok_virality.defs.report.inputs import (
    RAW_VIDEO_COLUMNS,
    VIDEO_FEATURE_COLUMNS,
    ReportInputs,
)
from tiktok_virality.warehouse.contracts import VIDEO_KEY

_NUMBERS = (
    "views",
    "engagement_rate",
    "views_vs_account_median",
    "author_followers",
    "predicted_multiple",
    "viral_probability",
    "top_effect_1",
)
# The model's label of each video: its basis, and views against what the basis expects.
_LABEL = ("label_basis", "viral", "views_multiple")
_PREDICTED = (
    "predicted_multiple",
    "viral_probability",
    "top_feature_1",
    "top_value_1",
    "top_effect_1",
)


@dataclass(frozen=True)
class Overview:
    """The dataset at a glance; None where there is nothing to measure."""

    videos: int
    accounts: int
    labelled_videos: int
    viral_videos: int
    viral_share: float | None
    first_post: pd.Timestamp | None
    last_post: pd.Timestamp | None
    last_scrape: pd.Timestamp | None
    median_views: float | None
    median_engagement_rate: float | None
    analyzers: tuple[str, ...]


def video_table(inputs: ReportInputs) -> pd.DataFrame:
    """One row per raw video: its key, account, links, caption, posting time, views, engagement,
    views against what its label compares them with (`views_vs_account_median`: the account's
    median, or the peer line of `label_basis`), label and — when the model scored it — its
    prediction and the feature that moved it most (`top_feature_1`, `top_value_1`,
    `top_effect_1`)."""
    raw = inputs.raw_videos[list(RAW_VIDEO_COLUMNS)]
    features = inputs.video_features[list(VIDEO_FEATURE_COLUMNS)].drop(
        columns=["account", "analyzer"]
    )
    predictions = inputs.predictions[[*VIDEO_KEY, *_PREDICTED, *_LABEL]]
    videos = raw.merge(features, on=VIDEO_KEY, how="left").merge(
        predictions, on=VIDEO_KEY, how="left", suffixes=("", "_of_model")
    )
    # The model's label covers every video, also those of accounts too small for their own
    # median; the features' label is the account-median one.
    labelled_by_model = videos["label_basis"].notna()
    videos["viral"] = videos["viral_of_model"].where(labelled_by_model, videos["viral"])
    videos["views_vs_account_median"] = videos["views_multiple"].where(
        labelled_by_model, videos["views_vs_account_median"]
    )
    return (
        videos.drop(columns=["viral_of_model", "views_multiple"])
        .assign(
            **{
                column: pd.to_numeric(videos[column], errors="coerce").astype(float)
                for column in _NUMBERS
            },
            viral=videos["viral"].astype("boolean"),
            created_at=pd.to_datetime(videos["created_at"], utc=True),
        )
        .sort_values(["account", "video_id"], kind="stable", ignore_index=True)
    )


def top_and_bottom(videos: pd.DataFrame, count: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The `count` videos furthest above and below their account's median views (most views
    first on a tie); fewer, so that they never overlap, on a small dataset."""
    ranked = videos[videos["views_vs_account_median"].notna()].sort_values(
        ["views_vs_account_median", "views", "video_id"],
        ascending=[False, False, True],
        kind="stable",
        ignore_index=True,
    )
    shown = min(count, len(ranked) // 2) if len(ranked) > 1 else len(ranked)
    return ranked.head(shown), ranked.tail(shown).iloc[::-1].reset_index(drop=True)


def account_summary(videos: pd.DataFrame) -> pd.DataFrame:
    """One row per account, most median views first: its display name, followers, videos, median
    views and engagement rate, its best video against its median, and its viral videos (None when
    no video of it has a label)."""
    grouped = videos.groupby("account", sort=True)
    summary = pd.DataFrame(
        {
            "name": grouped["author_nickname"].agg(_most_frequent),
            "followers": grouped["author_followers"].max(),
            "videos": grouped.size(),
            "median_views": grouped["views"].median(),
            "median_engagement_rate": grouped["engagement_rate"].median(),
            "best_multiple": grouped["views_vs_account_median"].max(),
            "labelled": grouped["viral"].count(),
            "viral_videos": grouped["viral"].sum(),
        }
    )
    summary["viral_videos"] = summary["viral_videos"].astype(float).where(summary["labelled"] > 0)
    return (
        summary.drop(columns="labelled")
        .reset_index()
        .sort_values(["median_views", "account"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )


def account_views(videos: pd.DataFrame, limit: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Per account (at most `limit`, those with the most videos, then by name), ordered by
    median views, lowest first: its name, its videos' views and whether each is viral."""
    known = videos[videos["views"].notna()]
    counts = known.groupby("account").size().sort_index()
    kept = counts.sort_values(ascending=False, kind="stable").head(limit).index
    medians = known[known["account"].isin(kept)].groupby("account")["views"].median()
    order = medians.sort_values(kind="stable").index
    grouped = dict(tuple(known.groupby("account")))
    return [
        (
            str(account),
            grouped[account]["views"].to_numpy(dtype=float),
            grouped[account]["viral"].fillna(False).to_numpy(dtype=bool),
        )
        for account in order
    ]


def rising_trends(trends: pd.DataFrame) -> pd.DataFrame:
    """One row per hashtag or sound that was rising in some window: its latest rising window
    (`window_start`, `window_end`, `videos`, `share`, `baseline_share`), the number of windows it
    was rising in, most recent first, then most used."""
    rising = trends[trends["rising"].astype("boolean").fillna(False).astype(bool)].assign(
        window_start=lambda frame: pd.to_datetime(frame["window_start"], utc=True),
        window_end=lambda frame: pd.to_datetime(frame["window_end"], utc=True),
        videos=lambda frame: frame["videos"].astype(int),
        share=lambda frame: frame["share"].astype(float),
        baseline_share=lambda frame: frame["baseline_share"].astype(float),
        name=lambda frame: frame["name"].where(frame["name"].notna(), frame["item"]).astype(str),
    )
    latest = rising.sort_values(["kind", "item", "window_end"], kind="stable").drop_duplicates(
        ["kind", "item"], keep="last"
    )
    windows = rising.groupby(["kind", "item"]).size().rename("rising_windows").reset_index()
    return (
        latest.merge(windows, on=["kind", "item"])
        .sort_values(
            ["window_end", "videos", "kind", "name"],
            ascending=[False, False, True, True],
            kind="stable",
        )
        .reset_index(drop=True)
    )


def dataset_overview(inputs: ReportInputs, videos: pd.DataFrame) -> Overview:
    run = inputs.model_run
    posted = videos["created_at"].dropna()
    scraped = pd.to_datetime(inputs.raw_videos["scraped_at"], utc=True).dropna()
    analyzers = inputs.video_features["analyzer"].dropna().astype(str).unique()
    return Overview(
        videos=len(videos),
        accounts=int(videos["account"].nunique()),
        labelled_videos=int(run["labelled_videos"] or 0),
        viral_videos=int(run["viral_videos"] or 0),
        viral_share=run["viral_share"],
        first_post=posted.min() if len(posted) else None,
        last_post=posted.max() if len(posted) else None,
        last_scrape=scraped.max() if len(scraped) else None,
        median_views=_median(videos["views"]),
        median_engagement_rate=_median(videos["engagement_rate"]),
        analyzers=tuple(sorted(analyzers)),
    )


def _median(values: pd.Series) -> float | None:
    known = values.dropna()
    return float(known.median()) if len(known) else None


def _most_frequent(values: pd.Series) -> str | None:
    counts = values.dropna().astype(str).value_counts()
    if counts.empty:
        return None
    # The alphabetically first of the most frequent, so that ties are decided the same each time.
    return str(sorted(counts[counts == counts.max()].index)[0])
