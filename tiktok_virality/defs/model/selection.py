"""Which columns may reach the model, and how they become a numeric matrix.

Every column of `video_features` has one role, decided here once (a test checks that the contract
and these lists agree, so a new feature column cannot slip in undecided):

- `NOT_FEATURES`: identifiers and pipeline metadata, never features.
- `LEAKING_COLUMNS`: computed from the video's own views or engagement — or an effect of them —
  so a model using them would "predict" virality from virality. Each has its reason.
- `CANDIDATE_FEATURES`: everything else, plus the trend features. Only these can reach the model,
  whatever other columns the input frame has: a column the lists do not know is dropped and
  reported, never used.

`select_features` then drops candidates that cannot help, by rules on their values alone (never
on the label, so selecting on the whole dataset leaks nothing into the cross-validation): all
null, a single value, near-constant (one value, null counted as a value, on at least
`near_constant_share` of the videos), or a text column with more categories than the model can
bin. Every dropped column is reported with its reason.

`encode_features` turns the selected columns, whatever their pandas dtypes (nullable or numpy,
as built or as read back from DuckDB), into a float matrix with NaN for missing: booleans as
0/1, numbers as they are, text columns as category codes (the sorted values of the dataset), which
the gradient-boosting model treats as unordered categories.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import numpy as np
import pandas as pd

from tiktok_virality.defs.model.label import TARGET_COLUMNS
from tiktok_virality.defs.model.trends import TREND_FEATURES
from tiktok_virality.warehouse.tables import SIGNAL_COLUMNS, VIDEO_FEATURES

NOT_FEATURES: Mapping[str, str] = MappingProxyType(
    {
        "dataset": "where the video is stored, not a property of it",
        "batch": "where the video is stored, not a property of it",
        "account": "the cross-validation groups: the model must work for accounts it has not seen",
        "video_id": "an identifier (its high bits are the posting time, already in age_days)",
        "analyzer": "which analyzer made the ai_* columns: pipeline metadata",
        "snapshots": "how often the video was scraped: pipeline metadata",
    }
)

_OWN_ENGAGEMENT = "engagement the video received: it grows with the video's own views"
_RATE_OF_OWN_VIEWS = "a ratio to the video's own views"
_INTERPOLATED_WITH_LATER_SNAPSHOT = (
    "interpolated with the snapshot after that age, possibly the one the target is read from"
)
LEAKING_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "views": "the video's own views: the target",
        "likes": _OWN_ENGAGEMENT,
        "comments": _OWN_ENGAGEMENT,
        "shares": _OWN_ENGAGEMENT,
        "saves": _OWN_ENGAGEMENT,
        "like_rate": _RATE_OF_OWN_VIEWS,
        "comment_rate": _RATE_OF_OWN_VIEWS,
        "share_rate": _RATE_OF_OWN_VIEWS,
        "save_rate": _RATE_OF_OWN_VIEWS,
        "engagement_rate": _RATE_OF_OWN_VIEWS,
        "views_per_day": "the video's own views divided by its age",
        "is_pinned": "creators pin their most viewed posts: an effect of views, not a cause",
        "account_median_views": "median of the account's videos including this one: has its views",
        "views_vs_account_median": "the video's own views relative to its account: the label",
        **{target: "the label or a regression target" for target in TARGET_COLUMNS},
        "views_per_hour": "the video's latest views growth, read from the target's snapshot",
        "views_gained_since_previous": "the video's latest views growth: has the target's views",
        "views_at_24h": _INTERPOLATED_WITH_LATER_SNAPSHOT,
        "views_at_48h": _INTERPOLATED_WITH_LATER_SNAPSHOT,
    }
)

EARLY_VELOCITY_FEATURES = ("early_views_per_hour",)
"""What a tracked dataset adds: the video's views per hour within its first day, read from that
day's snapshots only (velocity.py). A model using it predicts from a video's first day, not
before posting; it is used only when refreshes saw at least `MIN_EARLY_VELOCITY_VIDEOS` videos
that young (a handful of values would only be noise, and a fold holding a single one cannot be
binned)."""
MIN_EARLY_VELOCITY_VIDEOS = 20

CANDIDATE_FEATURES: tuple[str, ...] = (
    "caption_length",
    "hashtag_count",
    "mention_count",
    "original_sound",
    "duration_seconds",
    "is_slideshow",
    "is_ad",
    "post_hour_utc",
    "post_weekday_utc",
    "age_days",
    "ai_hook_score",
    "ai_has_call_to_action",
    "ai_humor_score",
    "ai_relatability_score",
    "ai_visual_quality_score",
    "ai_production_quality_score",
    "ai_trend_alignment_score",
    "ai_has_text_overlay",
    "ai_uses_trending_sound",
    "ai_face_in_first_seconds",
    "ai_pacing",
    "ai_primary_emotion",
    "ai_content_category",
    "followers",
    *TREND_FEATURES,
    *EARLY_VELOCITY_FEATURES,
    # Measured from the video file (`defs/signals/`): properties of the video, none an effect of
    # its views.
    *SIGNAL_COLUMNS,
)
"""The columns that may reach the model: the `video_features` columns that are neither
identifiers nor leaking, and the trend features."""

# The model bins a categorical feature's codes into at most 255 bins, one kept for missing.
MAX_CATEGORIES = 254


class FeatureKind(StrEnum):
    NUMBER = "number"
    BOOLEAN = "boolean"
    CATEGORY = "category"


_KIND_BY_SQL_TYPE = {"BOOLEAN": FeatureKind.BOOLEAN, "VARCHAR": FeatureKind.CATEGORY}
FEATURE_KINDS: Mapping[str, FeatureKind] = MappingProxyType(
    {
        **{
            name: _KIND_BY_SQL_TYPE.get(sql_type, FeatureKind.NUMBER)
            for name, sql_type in VIDEO_FEATURES.sql_types.items()
            if name in CANDIDATE_FEATURES
        },
        **dict.fromkeys(TREND_FEATURES, FeatureKind.BOOLEAN),
    }
)


@dataclass(frozen=True)
class FeatureSelection:
    """`selected`: the features the model uses, in `CANDIDATE_FEATURES` order. `dropped`: one
    row per column left out, with columns `feature` and `reason`."""

    selected: tuple[str, ...]
    dropped: pd.DataFrame


@dataclass(frozen=True)
class EncodedFeatures:
    """The selected features as a float matrix (rows as the frame's, NaN = missing), each
    column's kind, and the categories whose codes the category columns hold."""

    names: tuple[str, ...]
    values: np.ndarray
    kinds: tuple[FeatureKind, ...]
    categories: Mapping[str, tuple[str, ...]]

    @property
    def is_category(self) -> np.ndarray:
        return np.array([kind == FeatureKind.CATEGORY for kind in self.kinds], dtype=bool)


def select_features(frame: pd.DataFrame, near_constant_share: float) -> FeatureSelection:
    """The candidate features of `frame` worth modelling, and every other column with why it is
    left out (identifiers excepted). `frame` holds the videos the model is fit on."""
    dropped: list[tuple[str, str]] = []
    for column in frame.columns:
        if column in LEAKING_COLUMNS:
            dropped.append((column, f"leaks: {LEAKING_COLUMNS[column]}"))
        elif column not in NOT_FEATURES and column not in FEATURE_KINDS:
            dropped.append((column, "unknown column: not in the model's list of features"))
    selected = []
    for feature in CANDIDATE_FEATURES:
        reason = (
            "missing from the input"
            if feature not in frame.columns
            else _too_few_early_videos(feature, frame[feature])
            or _useless_reason(frame[feature], FEATURE_KINDS[feature], near_constant_share)
        )
        if reason is None:
            selected.append(feature)
        else:
            dropped.append((feature, reason))
    return FeatureSelection(
        selected=tuple(selected), dropped=pd.DataFrame(dropped, columns=["feature", "reason"])
    )


def encode_features(frame: pd.DataFrame, names: Sequence[str]) -> EncodedFeatures:
    """The float matrix of `names` (candidate features of `frame`); see the module docstring."""
    columns = []
    categories: dict[str, tuple[str, ...]] = {}
    for name in names:
        kind = FEATURE_KINDS[name]
        if kind == FeatureKind.CATEGORY:
            text = frame[name].astype("string")
            categories[name] = tuple(sorted(text.dropna().unique()))
            codes = pd.Categorical(text, categories=categories[name]).codes
            columns.append(np.where(codes >= 0, codes, np.nan))
        else:
            dtype = "boolean" if kind == FeatureKind.BOOLEAN else "Float64"
            values = frame[name].astype(dtype).astype("Float64")
            columns.append(values.to_numpy(dtype=float, na_value=np.nan))
    matrix = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    return EncodedFeatures(
        names=tuple(names),
        values=matrix.astype(float),
        kinds=tuple(FEATURE_KINDS[name] for name in names),
        categories=MappingProxyType(categories),
    )


def _too_few_early_videos(feature: str, values: pd.Series) -> str | None:
    known = int(values.notna().sum())
    if feature in EARLY_VELOCITY_FEATURES and known < MIN_EARLY_VELOCITY_VIDEOS:
        return (
            f"early velocity known for {known} videos (seen in their first day and again "
            f"later), fewer than {MIN_EARLY_VELOCITY_VIDEOS}: track the dataset to have it"
        )
    return None


def _useless_reason(values: pd.Series, kind: FeatureKind, near_constant_share: float) -> str | None:
    if values.isna().all():
        return "all null"
    counts = values.value_counts(dropna=False)
    if len(counts) == 1:
        return f"a single value ({_shown(counts.index[0])})"
    top_share = counts.iloc[0] / len(values)
    if top_share >= near_constant_share:
        return f"near-constant: {_shown(counts.index[0])} for {top_share:.1%} of the videos"
    if kind == FeatureKind.CATEGORY and values.nunique() > MAX_CATEGORIES:
        return f"more than {MAX_CATEGORIES} categories"
    return None


def _shown(value: object) -> str:
    return "null" if pd.isna(value) else str(value)
