from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tiktok_virality.defs.features.build import build_features
from tiktok_virality.defs.scraping.normalize import normalize_items
from tiktok_virality.warehouse.tables import RAW_VIDEOS, VIDEO_ANALYSES, VIDEO_FEATURES

MONDAY = pd.Timestamp("2025-07-07 00:00", tz="UTC")
EXPECTED_DTYPES = {
    "VARCHAR": "string",
    "BIGINT": "Int64",
    "INTEGER": "Int32",
    "DOUBLE": "Float64",
    "BOOLEAN": "boolean",
}
AI_SOURCE_VALUES = {
    "hook_score": 7.5,
    "has_call_to_action": True,
    "humor_score": 2.0,
    "relatability_score": 6.25,
    "visual_quality_score": 8.0,
    "production_quality_score": 5.5,
    "trend_alignment_score": 3.0,
    "has_text_overlay": False,
    "uses_trending_sound": True,
    "face_in_first_seconds": False,
    "pacing": "fast",
    "primary_emotion": "curiosity",
    "content_category": "tech",
}
# Each boolean has its own pattern over the two analyses, so that mixed-up columns are caught.
OTHER_AI_SOURCE_VALUES = {
    "hook_score": 4.0,
    "has_call_to_action": True,
    "humor_score": 9.0,
    "relatability_score": 1.5,
    "visual_quality_score": 3.5,
    "production_quality_score": 7.0,
    "trend_alignment_score": 8.5,
    "has_text_overlay": True,
    "uses_trending_sound": False,
    "face_in_first_seconds": False,
    "pacing": "slow",
    "primary_emotion": "joy",
    "content_category": "food",
}


def raw_video(**overrides: Any) -> dict[str, Any]:
    row = {
        "dataset": "v1",
        "batch": "b001",
        "account": "alice",
        "video_id": "7500000000000000001",
        "url": "https://www.tiktok.com/@alice/video/7500000000000000001",
        "author_id": "42",
        "author_name": "alice",
        "author_nickname": "Alice",
        "author_verified": False,
        "author_followers": 5000,
        "author_following": 10,
        "author_likes": 90000,
        "author_video_count": 120,
        "author_region": "US",
        "caption": "hello",
        "language": "en",
        "hashtags": ["fyp"],
        "mentions": [],
        "play_count": 1000,
        "like_count": 100,
        "comment_count": 20,
        "share_count": 5,
        "save_count": 8,
        "created_at": MONDAY,
        "music_id": "m1",
        "music_name": "original sound",
        "music_author": "alice",
        "music_original": True,
        "duration_seconds": 30,
        "width": 1080,
        "height": 1920,
        "video_url": "https://cdn.example/v.mp4",
        "cover_url": "https://cdn.example/c.jpg",
        "is_ad": False,
        "is_pinned": False,
        "is_slideshow": False,
        "is_sponsored": False,
        "slideshow_image_count": 0,
        "scraped_at": MONDAY + pd.Timedelta(days=2),
        "raw_item": "{}",
    }
    return {**row, **overrides}


def analysis(**overrides: Any) -> dict[str, Any]:
    row = {
        "dataset": "v1",
        "batch": "b001",
        "account": "alice",
        "video_id": "7500000000000000001",
        "analyzer": "gemini",
        "model": "gemini-2.5-flash",
        "schema_version": "1",
        "input_kind": "video",
        "analyzed_at": MONDAY + pd.Timedelta(days=3),
        "visual_style": "talking_head",
        "setting": "indoor",
        "people_on_screen": 1,
        **AI_SOURCE_VALUES,
        "structure": "tutorial",
        "audio_type": "speech",
        "editing_score": 6.0,
        "trend_format": None,
        "improvement_suggestions": ["shorter intro"],
        "summary": "A tutorial.",
        "analysis_json": "{}",
    }
    return {**row, **overrides}


def raw_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=RAW_VIDEOS.column_names)


def analysis_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=VIDEO_ANALYSES.column_names)


def features_of(*raw_rows: dict[str, Any]) -> pd.DataFrame:
    return build_features(raw_frame(*raw_rows), VIDEO_ANALYSES.empty_frame())


def assert_column(features: pd.DataFrame, name: str, expected: list[Any]) -> None:
    dtype = EXPECTED_DTYPES[VIDEO_FEATURES.sql_types[name]]
    pd.testing.assert_series_equal(
        features[name], pd.Series(expected, dtype=dtype, name=name), check_exact=False
    )


def test_every_row_and_column_in_order_with_the_contract_dtypes() -> None:
    raw = raw_frame(raw_video(video_id="3"), raw_video(video_id="1"), raw_video(video_id="2"))
    analyses = analysis_frame(analysis(video_id="1"), analysis(video_id="9"))

    features = build_features(raw, analyses)

    assert features.columns.tolist() == VIDEO_FEATURES.column_names
    assert features["video_id"].tolist() == ["3", "1", "2"]
    assert features["analyzer"].isna().tolist() == [True, False, True]
    assert {name: str(dtype) for name, dtype in features.dtypes.items()} == {
        name: EXPECTED_DTYPES[sql_type] for name, sql_type in VIDEO_FEATURES.sql_types.items()
    }


def test_counts_and_rates_per_view() -> None:
    features = features_of(raw_video())

    assert_column(features, "views", [1000])
    assert_column(features, "likes", [100])
    assert_column(features, "comments", [20])
    assert_column(features, "shares", [5])
    assert_column(features, "saves", [8])
    assert_column(features, "like_rate", [0.1])
    assert_column(features, "comment_rate", [0.02])
    assert_column(features, "share_rate", [0.005])
    assert_column(features, "save_rate", [0.008])
    assert_column(features, "engagement_rate", [0.133])


def test_unknown_saves_count_as_zero_only_in_the_engagement_rate() -> None:
    features = features_of(raw_video(save_count=None))

    assert_column(features, "saves", [None])
    assert_column(features, "save_rate", [None])
    assert_column(features, "engagement_rate", [0.125])


def test_zero_or_unknown_views_give_null_rates_and_nothing_is_infinite() -> None:
    features = features_of(
        raw_video(play_count=0, like_count=0, comment_count=0, share_count=0, save_count=0),
        raw_video(video_id="2", play_count=0, like_count=3, scraped_at=MONDAY),
        raw_video(video_id="3", play_count=None),
    )

    assert_column(features, "views", [0, 0, None])
    for rate in ["like_rate", "comment_rate", "share_rate", "save_rate", "engagement_rate"]:
        assert_column(features, rate, [None, None, None])
    assert_column(features, "views_per_day", [0.0, None, None])
    assert_column(features, "account_median_views", [0.0, 0.0, 0.0])
    assert_column(features, "views_vs_account_median", [None, None, None])
    floats = features.select_dtypes("Float64").to_numpy(dtype=float, na_value=np.nan)
    assert not np.isinf(floats).any()


def test_caption_length_counts_characters_including_emoji() -> None:
    features = features_of(
        raw_video(caption="Hi 🔥"), raw_video(caption=""), raw_video(caption=None)
    )

    assert_column(features, "caption_length", [4, 0, 0])


def test_hashtags_and_mentions_count_lists_and_numpy_arrays() -> None:
    features = features_of(
        raw_video(hashtags=["a", "b"], mentions=np.array(["bob"])),
        raw_video(hashtags=np.array(["a", "b", "c"]), mentions=["bob", "carol"]),
        raw_video(hashtags=[], mentions=np.array([], dtype=object)),
    )

    assert_column(features, "hashtag_count", [2, 3, 0])
    assert_column(features, "mention_count", [1, 2, 0])


def test_unknown_hashtags_and_mentions_have_null_counts_not_zero() -> None:
    # The normalizer stores None for an export without the field (unknown) and [] for none.
    features = features_of(
        raw_video(hashtags=["a"], mentions=None),
        raw_video(hashtags=None, mentions=[]),
        raw_video(hashtags=np.nan, mentions=pd.NA),
    )

    assert_column(features, "hashtag_count", [1, None, None])
    assert_column(features, "mention_count", [None, 0, None])


def test_unknown_mentions_from_the_normalizer_give_a_null_count() -> None:
    item = {"id": "7000000000000000001", "input": "@alice", "text": "hi", "playCount": 10}
    normalized = normalize_items(
        [item, {**item, "id": "7000000000000000002", "mentions": []}],
        dataset="v1",
        batch="b001",
        scraped_at=MONDAY.to_pydatetime(),
    )

    features = build_features(normalized.videos, VIDEO_ANALYSES.empty_frame())

    assert_column(features, "mention_count", [None, 0])
    assert_column(features, "hashtag_count", [0, 0])


def test_content_flags_duration_and_followers_are_copied() -> None:
    # Each boolean column has its own pattern over the rows, so that mixed-up columns are caught.
    features = features_of(
        raw_video(
            music_original=True,
            is_slideshow=False,
            is_ad=False,
            is_pinned=True,
            is_sponsored=False,
            author_verified=True,
            duration_seconds=15,
            author_followers=123,
        ),
        raw_video(
            music_original=False,
            is_slideshow=True,
            is_ad=False,
            is_pinned=True,
            is_sponsored=True,
            author_verified=False,
            duration_seconds=61,
            author_followers=None,
        ),
        raw_video(
            music_original=False,
            is_slideshow=False,
            is_ad=True,
            is_pinned=False,
            is_sponsored=True,
            author_verified=True,
            duration_seconds=None,
            author_followers=0,
        ),
    )

    assert_column(features, "original_sound", [True, False, False])
    assert_column(features, "is_slideshow", [False, True, False])
    assert_column(features, "is_ad", [False, False, True])
    assert_column(features, "is_pinned", [True, True, False])
    assert_column(features, "duration_seconds", [15, 61, None])
    assert_column(features, "followers", [123, None, 0])


def test_posting_hour_and_weekday_are_utc_with_monday_zero() -> None:
    features = features_of(
        raw_video(created_at=MONDAY + pd.Timedelta(hours=23, minutes=30)),
        raw_video(created_at=MONDAY + pd.Timedelta(days=6, hours=5)),
    )

    assert_column(features, "post_hour_utc", [23, 5])
    assert_column(features, "post_weekday_utc", [0, 6])


def test_timestamps_in_another_time_zone_are_converted_to_utc() -> None:
    # Sunday 01:30 in Berlin (UTC+2 in summer) is Saturday 23:30 UTC.
    sunday_night_berlin = pd.Timestamp("2025-07-13 01:30", tz="Europe/Berlin")
    features = features_of(
        raw_video(
            created_at=sunday_night_berlin,
            scraped_at=sunday_night_berlin + pd.Timedelta(hours=12),
        )
    )

    assert_column(features, "post_hour_utc", [23])
    assert_column(features, "post_weekday_utc", [5])
    assert_column(features, "age_days", [0.5])


def test_age_in_fractional_days_and_views_per_day_null_unless_age_is_positive() -> None:
    features = features_of(
        raw_video(play_count=1000, scraped_at=MONDAY + pd.Timedelta(days=2, hours=12)),
        raw_video(play_count=1000, scraped_at=MONDAY),
        raw_video(play_count=1000, scraped_at=MONDAY - pd.Timedelta(days=1)),
        raw_video(play_count=1000, created_at=None),
    )

    assert_column(features, "age_days", [2.5, 0.0, -1.0, None])
    assert_column(features, "views_per_day", [400.0, None, None, None])
    assert_column(features, "post_hour_utc", [0, 0, 0, None])


def test_account_median_views_per_dataset_and_account() -> None:
    features = features_of(
        raw_video(account="odd", play_count=10),
        raw_video(account="even", play_count=1),
        raw_video(account="odd", play_count=1000),
        raw_video(account="even", play_count=3),
        raw_video(account="odd", play_count=30),
        raw_video(account="even", play_count=5),
        raw_video(account="even", play_count=100),
        raw_video(dataset="v2", account="odd", play_count=5000),
    )

    assert_column(features, "account_median_views", [30.0, 4.0, 30.0, 4.0, 30.0, 4.0, 4.0, 5000.0])
    assert_column(
        features,
        "views_vs_account_median",
        [10 / 30, 0.25, 1000 / 30, 0.75, 1.0, 1.25, 25.0, 1.0],
    )


def test_ai_features_are_copied_from_the_analysis_and_null_without_one() -> None:
    raw = raw_frame(raw_video(video_id="1"), raw_video(video_id="2"), raw_video(video_id="3"))
    analyses = analysis_frame(
        analysis(video_id="3", **OTHER_AI_SOURCE_VALUES), analysis(video_id="1", analyzer="offline")
    )

    features = build_features(raw, analyses)

    assert_column(features, "analyzer", ["offline", None, "gemini"])
    for source, value in AI_SOURCE_VALUES.items():
        assert_column(features, f"ai_{source}", [value, None, OTHER_AI_SOURCE_VALUES[source]])


def test_ai_features_stay_null_where_the_analyzer_left_them_null() -> None:
    raw = raw_frame(raw_video())

    features = build_features(raw, analysis_frame(analysis(hook_score=None, pacing=None)))

    assert_column(features, "analyzer", ["gemini"])
    assert_column(features, "ai_hook_score", [None])
    assert_column(features, "ai_pacing", [None])
    assert_column(features, "ai_humor_score", [2.0])


def test_the_latest_analysis_of_a_video_wins() -> None:
    analyses = analysis_frame(
        analysis(analyzer="offline", hook_score=0.0, analyzed_at=None),
        analysis(analyzer="gemini", hook_score=9.0, analyzed_at=MONDAY + pd.Timedelta(days=5)),
        analysis(analyzer="offline", hook_score=1.0, analyzed_at=MONDAY + pd.Timedelta(days=1)),
        analysis(analyzer="offline", hook_score=2.0, analyzed_at=MONDAY + pd.Timedelta(days=3)),
    )

    features = build_features(raw_frame(raw_video()), analyses)

    assert_column(features, "analyzer", ["gemini"])
    assert_column(features, "ai_hook_score", [9.0])


def test_analyses_are_matched_on_dataset_batch_and_video_id() -> None:
    raw = raw_frame(raw_video(dataset="v1", batch="b001", video_id="1"))
    analyses = analysis_frame(
        analysis(dataset="v2", batch="b001", video_id="1"),
        analysis(dataset="v1", batch="b002", video_id="1"),
        analysis(dataset="v1", batch="b001", video_id="2"),
    )

    features = build_features(raw, analyses)

    assert_column(features, "analyzer", [None])


def test_empty_inputs_give_an_empty_frame_with_the_contract_columns() -> None:
    features = build_features(RAW_VIDEOS.empty_frame(), VIDEO_ANALYSES.empty_frame())

    assert features.empty
    assert features.columns.tolist() == VIDEO_FEATURES.column_names


def test_analyses_without_raw_videos_are_ignored() -> None:
    features = build_features(RAW_VIDEOS.empty_frame(), analysis_frame(analysis()))

    assert features.empty
    assert features.columns.tolist() == VIDEO_FEATURES.column_names


def test_object_dtype_inputs_give_the_same_features_as_typed_ones() -> None:
    raw = raw_frame(
        raw_video(video_id="1", save_count=None, hashtags=np.array(["a"])),
        raw_video(video_id="2", caption=None, created_at=MONDAY + pd.Timedelta(hours=7)),
    )
    analyses = analysis_frame(analysis(video_id="2"))

    pd.testing.assert_frame_equal(
        build_features(raw.astype(object), analyses.astype(object)),
        build_features(raw, analyses),
    )


def test_inputs_are_not_modified() -> None:
    raw = raw_frame(raw_video(video_id="1"), raw_video(video_id="2", save_count=None))
    analyses = analysis_frame(analysis(video_id="2"), analysis(video_id="2", analyzer="offline"))
    raw_before, analyses_before = raw.copy(deep=True), analyses.copy(deep=True)

    build_features(raw, analyses)

    pd.testing.assert_frame_equal(raw, raw_before)
    pd.testing.assert_frame_equal(analyses, analyses_before)


def test_the_input_indexes_do_not_matter() -> None:
    raw = raw_frame(
        raw_video(video_id="1", play_count=10),
        raw_video(video_id="2", play_count=20),
        raw_video(video_id="3", play_count=30),
    ).set_axis([7, 3, 3])
    analyses = analysis_frame(
        analysis(video_id="3", analyzer="offline", analyzed_at=MONDAY),
        analysis(video_id="1", analyzer="gemini", analyzed_at=MONDAY),
        analysis(video_id="3", analyzer="gemini", analyzed_at=MONDAY + pd.Timedelta(hours=1)),
    ).set_axis([2, 1, 0])

    features = build_features(raw, analyses)

    assert features.index.tolist() == [0, 1, 2]
    assert_column(features, "views", [10, 20, 30])
    assert_column(features, "analyzer", ["gemini", None, "gemini"])
