from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tiktok_virality.defs.model import (
    CANDIDATE_FEATURES,
    LEAKING_COLUMNS,
    NOT_FEATURES,
    select_features,
    virality_targets,
)
from tiktok_virality.defs.model.selection import MAX_CATEGORIES, FeatureKind, encode_features
from tiktok_virality.defs.model.trends import TREND_FEATURES
from tiktok_virality.warehouse.tables import VIDEO_FEATURES


def test_every_video_features_column_has_exactly_one_role() -> None:
    roles = [set(NOT_FEATURES), set(LEAKING_COLUMNS), set(CANDIDATE_FEATURES)]

    assert set(VIDEO_FEATURES.column_names) <= set().union(*roles)
    assert all(not (a & b) for index, a in enumerate(roles) for b in roles[index + 1 :])
    assert set(CANDIDATE_FEATURES) - set(VIDEO_FEATURES.column_names) == set(TREND_FEATURES)


def test_columns_made_of_the_videos_own_views_or_engagement_are_leaks() -> None:
    own_views_and_engagement = {
        "views",
        "likes",
        "comments",
        "shares",
        "saves",
        "like_rate",
        "comment_rate",
        "share_rate",
        "save_rate",
        "engagement_rate",
        "views_per_day",
        "is_pinned",
        "account_median_views",
        "views_vs_account_median",
        # velocity read from the latest snapshot, or interpolated with a later one
        "views_per_hour",
        "views_gained_since_previous",
        "views_at_24h",
        "views_at_48h",
    }
    targets = set(virality_targets(pd.DataFrame(columns=["dataset", "account", "views"])).columns)

    assert set(LEAKING_COLUMNS) == own_views_and_engagement | targets
    assert all(len(reason) > 10 for reason in LEAKING_COLUMNS.values())


def frame_with(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_selection_reports_leaks_unknown_columns_and_useless_features() -> None:
    size = 100
    frame = frame_with(
        account=["a"] * size,
        views=list(range(size)),
        like_rate=[0.1] * size,
        mystery=list(range(size)),
        followers=list(range(size)),
        original_sound=[True, False] * 50,
        is_ad=[False] * size,
        ai_hook_score=[None] * size,
        is_slideshow=[True] + [False] * 99,
        ai_pacing=["fast", None] * 50,
    )

    selection = select_features(frame, near_constant_share=0.98)
    reasons = dict(zip(selection.dropped["feature"], selection.dropped["reason"], strict=True))

    assert selection.selected == ("original_sound", "ai_pacing", "followers")
    assert reasons["views"].startswith("leaks: ")
    assert reasons["like_rate"] == f"leaks: {LEAKING_COLUMNS['like_rate']}"
    assert reasons["mystery"].startswith("unknown column")
    assert reasons["is_ad"] == "a single value (False)"
    assert reasons["ai_hook_score"] == "all null"
    assert reasons["is_slideshow"] == "near-constant: False for 99.0% of the videos"
    assert reasons["duration_seconds"] == "missing from the input"
    assert "account" not in reasons
    assert not set(selection.selected) & set(LEAKING_COLUMNS)


def test_a_column_mostly_null_is_near_constant_and_too_many_categories_are_dropped() -> None:
    size = 300
    frame = frame_with(
        age_days=[1.0] * 2 + [None] * (size - 2),
        ai_content_category=[f"c{index}" for index in range(size)],
    )

    selection = select_features(frame, near_constant_share=0.98)
    reasons = dict(zip(selection.dropped["feature"], selection.dropped["reason"], strict=True))

    assert reasons["age_days"] == "near-constant: null for 99.3% of the videos"
    assert reasons["ai_content_category"] == f"more than {MAX_CATEGORIES} categories"
    assert selection.selected == ()


def test_encoding_gives_the_same_matrix_for_nullable_and_numpy_dtypes() -> None:
    names = ("original_sound", "duration_seconds", "ai_pacing", "followers")
    nullable = pd.DataFrame(
        {
            "original_sound": pd.array([True, None, False], dtype="boolean"),
            "duration_seconds": pd.array([12, 30, None], dtype="Int32"),
            "ai_pacing": pd.array(["slow", "fast", None], dtype="string"),
            "followers": pd.array([10, None, 30], dtype="Int64"),
        }
    )
    # As DuckDB's .df() may return them: object booleans, floats with NaN, object strings.
    numpy = pd.DataFrame(
        {
            "original_sound": np.array([True, None, False], dtype=object),
            "duration_seconds": [12.0, 30.0, np.nan],
            "ai_pacing": np.array(["slow", "fast", None], dtype=object),
            "followers": [10.0, np.nan, 30.0],
        }
    )

    encoded = encode_features(nullable, names)

    np.testing.assert_array_equal(encode_features(numpy, names).values, encoded.values)
    np.testing.assert_array_equal(
        encoded.values,
        [[1.0, 12.0, 1.0, 10.0], [np.nan, 30.0, 0.0, np.nan], [0.0, np.nan, np.nan, 30.0]],
    )
    assert encoded.categories == {"ai_pacing": ("fast", "slow")}
    assert encoded.kinds == (
        FeatureKind.BOOLEAN,
        FeatureKind.NUMBER,
        FeatureKind.CATEGORY,
        FeatureKind.NUMBER,
    )
    assert encoded.is_category.tolist() == [False, False, True, False]


def test_only_candidate_features_can_be_encoded() -> None:
    with pytest.raises(KeyError):
        encode_features(frame_with(views=[1, 2]), ["views"])


def test_early_velocity_is_used_only_when_enough_videos_have_it() -> None:
    size = 100
    varied = [float(i) for i in range(size)]
    few = frame_with(
        caption_length=varied, early_views_per_hour=[*varied[:19], *[None] * (size - 19)]
    )
    enough = frame_with(
        caption_length=varied, early_views_per_hour=[*varied[:20], *[None] * (size - 20)]
    )

    assert select_features(few, 0.98).selected == ("caption_length",)
    reason = select_features(few, 0.98).dropped.set_index("feature").loc["early_views_per_hour"]
    assert "known for 19 videos" in reason["reason"]
    assert select_features(enough, 0.9).selected == ("caption_length", "early_views_per_hour")
