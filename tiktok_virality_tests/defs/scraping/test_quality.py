from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from tiktok_virality.defs.scraping.quality import (
    CHECKED_COLUMNS,
    FUTURE_TOLERANCE,
    NON_NEGATIVE_COLUMNS,
    REJECTION_REASONS_COLUMN,
    REQUIRED_COLUMNS,
    QualityResult,
    QualityThresholds,
    apply_quality_rules,
)
from tiktok_virality.defs.scraping.quality_rules import RULE_DESCRIPTIONS, QualityRule
from tiktok_virality.warehouse.tables import RAW_VIDEOS

SCRAPED_AT = pd.Timestamp("2025-07-08 10:00", tz="UTC")
DEFAULTS = QualityThresholds()
# The dtypes of the frames that normalize_items builds.
NORMALIZED_DTYPES = {
    "BIGINT": "Int64",
    "INTEGER": "Int32",
    "BOOLEAN": "boolean",
    "TIMESTAMPTZ": "datetime64[ns, UTC]",
}
NO_FAILURES = dict.fromkeys(QualityRule, 0)


def video(number: int = 1, **overrides: Any) -> dict[str, Any]:
    """A raw_videos row that passes every rule with the default thresholds."""
    video_id = f"75000000000000{number:05d}"
    row = {
        "dataset": "v1",
        "batch": "b001",
        "account": "alice",
        "video_id": video_id,
        "url": f"https://www.tiktok.com/@alice/video/{video_id}",
        "author_id": "42",
        "author_name": "alice",
        "author_nickname": "Alice",
        "author_verified": False,
        "author_followers": 12_000,
        "author_following": 150,
        "author_likes": 340_000,
        "author_video_count": 87,
        "author_region": "US",
        "caption": "How I cook rice #food #recipe",
        "language": "en",
        "hashtags": ["food", "recipe"],
        "mentions": [],
        "play_count": 25_000,
        "like_count": 1_800,
        "comment_count": 40,
        "share_count": 12,
        "save_count": 90,
        "created_at": SCRAPED_AT - pd.Timedelta(days=10),
        "music_id": "7000000000000000001",
        "music_name": "original sound",
        "music_author": "alice",
        "music_original": True,
        "duration_seconds": 31,
        "width": 1080,
        "height": 1920,
        "video_url": "https://api.apify.com/v2/key-value-stores/x/records/video-1",
        "cover_url": "https://p16.tiktokcdn.com/cover-1.jpeg",
        "is_ad": False,
        "is_pinned": False,
        "is_slideshow": False,
        "is_sponsored": False,
        "slideshow_image_count": 0,
        "scraped_at": SCRAPED_AT,
        "raw_item": '{"id": "' + video_id + '"}',
    }
    unknown = set(overrides) - set(row)
    assert not unknown, f"not raw_videos columns: {unknown}"
    return {**row, **overrides}


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A raw_videos frame with the columns, order and dtypes of normalize_items."""
    return pd.DataFrame(
        {
            column.name: pd.Series(
                [row[column.name] for row in rows],
                dtype=NORMALIZED_DTYPES.get(column.sql_type, "object"),
            )
            for column in RAW_VIDEOS.columns
        }
    )


def object_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A raw_videos frame of plain Python objects, which nothing has type-checked."""
    return pd.DataFrame(
        {
            name: pd.Series([row[name] for row in rows], dtype=object)
            for name in RAW_VIDEOS.column_names
        }
    )


def check(*rows: dict[str, Any], thresholds: QualityThresholds = DEFAULTS) -> QualityResult:
    return apply_quality_rules(frame(*rows), thresholds)


def reasons(result: QualityResult) -> list[list[str]]:
    return list(result.rejected[REJECTION_REASONS_COLUMN])


def only(rule: QualityRule) -> dict[QualityRule, int]:
    return {**NO_FAILURES, rule: 1}


# --- the rules


def test_rule_values_are_stable_and_in_order() -> None:
    assert [rule.value for rule in QualityRule] == [
        "required_fields",
        "valid_ranges",
        "not_in_future",
        "min_views",
        "max_age",
    ]
    assert QualityRule.MIN_VIEWS == "min_views"


def test_checked_columns_are_raw_videos_columns() -> None:
    assert set(CHECKED_COLUMNS) <= set(RAW_VIDEOS.column_names)
    assert set(REQUIRED_COLUMNS) == {
        "video_id",
        "account",
        "created_at",
        "play_count",
        "scraped_at",
    }


def test_a_good_video_is_accepted() -> None:
    result = check(video())

    assert len(result.accepted) == 1
    assert result.accepted.loc[0, "video_id"] == video()["video_id"]
    assert result.rejected.empty
    assert list(result.rejected.columns) == [*RAW_VIDEOS.column_names, REJECTION_REASONS_COLUMN]
    assert result.failures_by_rule == NO_FAILURES
    assert list(result.failures_by_rule) == list(QualityRule)


@pytest.mark.parametrize(
    ("play_count", "accepted"), [(1_000, True), (999, False), (0, False), (1_001, True)]
)
def test_min_views_boundary(play_count: int, accepted: bool) -> None:
    result = check(video(play_count=play_count))

    assert len(result.accepted) == int(accepted)
    if not accepted:
        assert reasons(result) == [["min_views"]]
        assert result.failures_by_rule == only(QualityRule.MIN_VIEWS)


def test_min_views_threshold_is_adjustable() -> None:
    rows = (video(1, play_count=0), video(2, play_count=49_999), video(3, play_count=50_000))

    assert len(check(*rows, thresholds=QualityThresholds(min_views=0)).accepted) == 3
    strict = check(*rows, thresholds=QualityThresholds(min_views=50_000))
    assert list(strict.accepted["video_id"]) == [video(3)["video_id"]]
    assert strict.failures_by_rule == {**NO_FAILURES, QualityRule.MIN_VIEWS: 2}


@pytest.mark.parametrize(
    ("age", "accepted"),
    [
        (pd.Timedelta(days=180), True),
        (pd.Timedelta(days=180, seconds=1), False),
        (pd.Timedelta(days=179, hours=23), True),
        (pd.Timedelta(days=400), False),
        (pd.Timedelta(0), True),
    ],
)
def test_max_age_boundary(age: pd.Timedelta, accepted: bool) -> None:
    result = check(video(created_at=SCRAPED_AT - age))

    assert len(result.accepted) == int(accepted)
    if not accepted:
        assert reasons(result) == [["max_age"]]
        assert result.failures_by_rule == only(QualityRule.MAX_AGE)


def test_max_age_threshold_is_adjustable() -> None:
    thresholds = QualityThresholds(max_age_days=30)
    thirty_days = video(1, created_at=SCRAPED_AT - pd.Timedelta(days=30))
    older = video(2, created_at=SCRAPED_AT - pd.Timedelta(days=30, seconds=1))

    result = check(thirty_days, older, thresholds=thresholds)

    assert list(result.accepted["video_id"]) == [thirty_days["video_id"]]
    assert reasons(result) == [["max_age"]]


@pytest.mark.parametrize(
    ("after_scrape", "accepted"),
    [
        (pd.Timedelta(minutes=30), True),
        (FUTURE_TOLERANCE, True),
        (FUTURE_TOLERANCE + pd.Timedelta(seconds=1), False),
        (pd.Timedelta(hours=2), False),
        (pd.Timedelta(days=3), False),
    ],
)
def test_not_in_future_allows_clock_skew(after_scrape: pd.Timedelta, accepted: bool) -> None:
    assert pd.Timedelta(hours=1) == FUTURE_TOLERANCE

    result = check(video(created_at=SCRAPED_AT + after_scrape))

    assert len(result.accepted) == int(accepted)
    if not accepted:
        # Only the future rule: a negative age is not "too old".
        assert reasons(result) == [["not_in_future"]]
        assert result.failures_by_rule == only(QualityRule.NOT_IN_FUTURE)


def test_age_and_future_are_relative_to_each_rows_scraped_at() -> None:
    early_scrape = pd.Timestamp("2020-03-01 12:00", tz="UTC")
    # Years before today, but only 100 days before its own scrape: not too old.
    old_scrape = video(1, scraped_at=early_scrape, created_at=early_scrape - pd.Timedelta(days=100))
    # Posted years after the other rows' scrape time, but before its own: not in the future.
    late_scrape = video(2)
    # Posted years before today, but 2 hours after its own scrape: in the future.
    future = video(3, scraped_at=early_scrape, created_at=early_scrape + pd.Timedelta(hours=2))
    # 181 days before its own scrape: too old, whatever the other rows' scrape times.
    too_old = video(4, scraped_at=early_scrape, created_at=early_scrape - pd.Timedelta(days=181))

    result = check(old_scrape, late_scrape, future, too_old)

    assert list(result.accepted["video_id"]) == [old_scrape["video_id"], late_scrape["video_id"]]
    assert reasons(result) == [["not_in_future"], ["max_age"]]


def test_timestamps_in_other_time_zones_are_compared_as_instants() -> None:
    tokyo = "Asia/Tokyo"
    rows = frame(video(1), video(2))
    # 30 minutes after the scrape, written in Tokyo time; and 2 hours after.
    rows["created_at"] = pd.Series(
        [SCRAPED_AT + pd.Timedelta(minutes=30), SCRAPED_AT + pd.Timedelta(hours=2)]
    ).dt.tz_convert(tokyo)

    result = apply_quality_rules(rows, DEFAULTS)

    assert list(result.accepted["video_id"]) == [video(1)["video_id"]]
    assert reasons(result) == [["not_in_future"]]


@pytest.mark.parametrize("column", NON_NEGATIVE_COLUMNS)
def test_negative_counts_and_dimensions_are_invalid(column: str) -> None:
    zero = video(1, **{column: 0}) if column != "play_count" else video(1)
    negative = video(2, **{column: -1})

    result = check(zero, negative)

    assert list(result.accepted["video_id"]) == [zero["video_id"]]
    expected = ["valid_ranges", "min_views"] if column == "play_count" else ["valid_ranges"]
    assert reasons(result) == [expected]


def test_zero_duration_and_counts_are_valid() -> None:
    # Some exports report a slideshow's duration as 0; a new video may have no likes yet.
    zero = {column: 0 for column in NON_NEGATIVE_COLUMNS if column != "play_count"}

    assert len(check(video(**zero)).accepted) == 1


def test_counts_other_than_the_checked_ones_are_not_range_checked() -> None:
    # author_following and the like are not used as quality signals.
    assert len(check(video(author_following=-1, slideshow_image_count=-1)).accepted) == 1


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_a_missing_required_field_fails_only_required_fields(column: str) -> None:
    # A null play_count is not "fewer than 1,000 views", a null created_at not "too old".
    result = check(video(**{column: None}))

    assert result.accepted.empty
    assert reasons(result) == [["required_fields"]]
    assert result.failures_by_rule == only(QualityRule.REQUIRED_FIELDS)


@pytest.mark.parametrize("column", ["video_id", "account"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_text_is_a_missing_required_field(column: str, blank: str) -> None:
    assert reasons(check(video(**{column: blank}))) == [["required_fields"]]


@pytest.mark.parametrize("column", [c for c in NON_NEGATIVE_COLUMNS if c != "play_count"])
def test_null_optional_values_are_fine(column: str) -> None:
    # save_count is absent in older exports; followers or dimensions may be missing too.
    assert len(check(video(**{column: None})).accepted) == 1


def test_null_optional_text_and_lists_are_fine() -> None:
    row = video(caption=None, hashtags=None, mentions=None, url=None, music_original=None)

    assert len(check(row).accepted) == 1


def test_a_row_failing_several_rules_lists_all_in_rule_order() -> None:
    everything_wrong = video(
        1,
        account=None,
        like_count=-5,
        play_count=10,
        created_at=SCRAPED_AT - pd.Timedelta(days=200),
    )
    future_and_few_views = video(2, created_at=SCRAPED_AT + pd.Timedelta(hours=5), play_count=999)
    negative_views = video(3, play_count=-1)
    good = video(4)

    result = check(everything_wrong, future_and_few_views, good, negative_views)

    assert list(result.accepted["video_id"]) == [good["video_id"]]
    assert list(result.rejected["video_id"]) == [
        everything_wrong["video_id"],
        future_and_few_views["video_id"],
        negative_views["video_id"],
    ]
    assert reasons(result) == [
        ["required_fields", "valid_ranges", "min_views", "max_age"],
        ["not_in_future", "min_views"],
        ["valid_ranges", "min_views"],
    ]
    assert result.failures_by_rule == {
        QualityRule.REQUIRED_FIELDS: 1,
        QualityRule.VALID_RANGES: 2,
        QualityRule.NOT_IN_FUTURE: 1,
        QualityRule.MIN_VIEWS: 3,
        QualityRule.MAX_AGE: 1,
    }
    # Each row has its own list of reasons: changing one changes no other.
    first, _, third = reasons(result)
    first.append("edited")
    assert reasons(result)[2] == ["valid_ranges", "min_views"] and third is not first


def test_rows_keep_their_order_and_get_a_fresh_index() -> None:
    rows = frame(video(1), video(2, play_count=5), video(3), video(4, play_count=6))
    rows.index = [40, 10, 30, 20]

    result = apply_quality_rules(rows, DEFAULTS)

    assert list(result.accepted.index) == [0, 1]
    assert list(result.accepted["video_id"]) == [video(1)["video_id"], video(3)["video_id"]]
    assert list(result.rejected.index) == [0, 1]
    assert list(result.rejected["video_id"]) == [video(2)["video_id"], video(4)["video_id"]]


# --- frames as they come: empty, normalized, from DuckDB, of plain objects


@pytest.mark.parametrize(
    "empty", [frame(), RAW_VIDEOS.empty_frame()], ids=["normalized", "contract_empty_frame"]
)
def test_empty_input(empty: pd.DataFrame) -> None:
    result = apply_quality_rules(empty, DEFAULTS)

    assert result.accepted.empty and result.rejected.empty
    assert list(result.accepted.columns) == RAW_VIDEOS.column_names
    assert list(result.rejected.columns) == [*RAW_VIDEOS.column_names, REJECTION_REASONS_COLUMN]
    pd.testing.assert_series_equal(result.accepted.dtypes, empty.dtypes)
    pd.testing.assert_series_equal(
        result.rejected.dtypes.drop(REJECTION_REASONS_COLUMN), empty.dtypes
    )
    assert result.failures_by_rule == NO_FAILURES


def test_dtypes_and_values_are_preserved() -> None:
    rows = frame(video(1), video(2, play_count=3, save_count=None, hashtags=["a", "b", "c"]))

    result = apply_quality_rules(rows, DEFAULTS)

    pd.testing.assert_frame_equal(result.accepted, rows.iloc[[0]].reset_index(drop=True))
    pd.testing.assert_frame_equal(
        result.rejected.drop(columns=REJECTION_REASONS_COLUMN),
        rows.iloc[[1]].reset_index(drop=True),
    )
    assert result.rejected.loc[0, "hashtags"] == ["a", "b", "c"]
    assert result.rejected[REJECTION_REASONS_COLUMN].dtype == object


def test_input_is_not_modified() -> None:
    rows = frame(
        video(1),
        video(2, play_count=None),
        video(3, created_at=SCRAPED_AT + pd.Timedelta(days=1)),
    )
    rows.index = [7, 8, 9]
    before = copy.deepcopy(rows)

    result = apply_quality_rules(rows, DEFAULTS)
    result.accepted.loc[0, "play_count"] = 1
    result.rejected.loc[0, "account"] = "mallory"

    pd.testing.assert_frame_equal(rows, before)
    assert list(rows.columns) == RAW_VIDEOS.column_names


def duckdb_round_trip(rows: pd.DataFrame) -> pd.DataFrame:
    """The frame as the IO manager stores it in DuckDB and reads it back."""
    types = RAW_VIDEOS.sql_types
    with duckdb.connect() as connection:
        definitions = ", ".join(f'"{name}" {sql_type}' for name, sql_type in types.items())
        connection.execute(f"CREATE TABLE raw_videos ({definitions})")
        connection.register("rows", rows)
        casts = ", ".join(f'CAST("{name}" AS {sql_type})' for name, sql_type in types.items())
        connection.execute(f"INSERT INTO raw_videos SELECT {casts} FROM rows")
        return connection.sql("SELECT * FROM raw_videos").df()


def test_frames_read_back_from_duckdb() -> None:
    rows = frame(
        video(1),
        video(2, play_count=999, save_count=None),
        video(3, play_count=None, like_count=-1),
        video(4, created_at=SCRAPED_AT - pd.Timedelta(days=180, seconds=1)),
        video(5, created_at=SCRAPED_AT + pd.Timedelta(minutes=30), save_count=None),
    )
    stored = duckdb_round_trip(rows)
    assert str(stored["created_at"].dtype).startswith("datetime64[us,")
    assert isinstance(stored.loc[0, "hashtags"], np.ndarray)
    before = stored.copy(deep=True)

    result = apply_quality_rules(stored, DEFAULTS)

    assert list(result.accepted["video_id"]) == [video(1)["video_id"], video(5)["video_id"]]
    assert reasons(result) == [["min_views"], ["required_fields", "valid_ranges"], ["max_age"]]
    pd.testing.assert_series_equal(result.accepted.dtypes, stored.dtypes)
    assert list(result.accepted.loc[0, "hashtags"]) == ["food", "recipe"]
    pd.testing.assert_frame_equal(stored, before)
    # Same decisions as on the normalized frame.
    normalized = apply_quality_rules(rows, DEFAULTS)
    assert list(normalized.accepted["video_id"]) == list(result.accepted["video_id"])
    assert reasons(normalized) == reasons(result)


def test_a_frame_of_plain_python_objects_is_checked_value_by_value() -> None:
    good = video(1, created_at=datetime(2025, 7, 1, 9, 0, tzinfo=SCRAPED_AT.tzinfo))
    rows = object_frame(
        good,
        video(2, play_count="25000"),  # text, not a number
        video(3, like_count=1.5),  # not whole
        video(4, share_count=True),  # a bool is not a count
        video(5, save_count=float("inf")),
        video(6, created_at=datetime(2025, 7, 1, 9, 0)),  # no time zone
        video(7, created_at="2025-07-01T09:00:00Z"),  # text, not a timestamp
        video(8, video_id=7500000000000000008),  # a number, not text
        video(9, play_count=25_000.0, save_count=np.int64(3), duration_seconds=None),
        video(10, save_count=float("nan"), created_at=pd.NaT),
    )

    result = apply_quality_rules(rows, DEFAULTS)

    assert list(result.accepted["video_id"]) == [good["video_id"], video(9)["video_id"]]
    assert reasons(result) == [["valid_ranges"]] * 7 + [["required_fields"]]
    assert all(dtype == np.dtype(object) for dtype in result.accepted.dtypes)


# --- frames that break the contract


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match=r"lack the raw_videos columns \['created_at'\]"):
        apply_quality_rules(frame(video()).drop(columns="created_at"), DEFAULTS)


def test_an_existing_rejection_reasons_column_is_refused() -> None:
    rows = frame(video()).assign(rejection_reasons=[["min_views"]])

    with pytest.raises(ValueError, match="already have a 'rejection_reasons' column"):
        apply_quality_rules(rows, DEFAULTS)


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("created_at", pd.Series([pd.Timestamp("2025-07-01")]), "timezone-aware"),
        ("play_count", pd.Series(["25000"], dtype="string"), "whole numbers"),
        ("save_count", pd.Series([True], dtype="boolean"), "whole numbers"),
        ("video_id", pd.Series([7500000000000000001], dtype="int64"), "text"),
    ],
)
def test_columns_of_the_wrong_dtype_are_refused(
    column: str, values: pd.Series, message: str
) -> None:
    rows = frame(video())
    rows[column] = values

    with pytest.raises(TypeError, match=rf"column '{column}' must hold {message}"):
        apply_quality_rules(rows, DEFAULTS)


def test_a_non_frame_is_refused() -> None:
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        apply_quality_rules([video()], DEFAULTS)  # type: ignore[arg-type]


def test_many_rows() -> None:
    count = 100_000
    rows = frame(video(1)).iloc[np.zeros(count, dtype=int)].reset_index(drop=True)
    rows["play_count"] = pd.array(np.arange(count) % 2_000, dtype="Int64")
    rows.loc[rows.index % 10 == 0, "save_count"] = pd.NA

    result = apply_quality_rules(rows, DEFAULTS)

    assert len(result.accepted) == len(result.rejected) == count // 2
    assert (result.accepted["play_count"] >= 1_000).all()
    assert result.failures_by_rule == {**NO_FAILURES, QualityRule.MIN_VIEWS: count // 2}


# --- thresholds


def test_threshold_defaults_follow_the_original_pipeline() -> None:
    assert QualityThresholds() == QualityThresholds(min_views=1_000, max_age_days=180)


def test_thresholds_accept_their_boundaries_and_numpy_integers() -> None:
    thresholds = QualityThresholds(min_views=np.int64(0), max_age_days=np.int32(1))

    assert thresholds == QualityThresholds(min_views=0, max_age_days=1)
    assert type(thresholds.min_views) is int and type(thresholds.max_age_days) is int


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"min_views": -1}, "min_views must be a whole number from 0 to .*, got -1"),
        ({"max_age_days": 0}, "max_age_days must be a whole number from 1 to 36,500, got 0"),
        ({"max_age_days": -30}, "max_age_days must be a whole number from 1 to 36,500, got -30"),
        ({"max_age_days": 1_000_000}, "max_age_days must be .* got 1,000,000"),
        ({"min_views": 2**63}, "min_views must be a whole number from 0 to"),
        ({"min_views": 1000.0}, "min_views must be a whole number, got 1000.0"),
        ({"max_age_days": "180"}, "max_age_days must be a whole number, got '180'"),
        ({"min_views": True}, "min_views must be a whole number, got True"),
        ({"max_age_days": None}, "max_age_days must be a whole number, got None"),
    ],
)
def test_invalid_thresholds_are_refused(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QualityThresholds(**arguments)


def test_thresholds_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.min_views = 5  # type: ignore[misc]


def test_every_rule_has_a_description_for_the_ui() -> None:
    assert set(RULE_DESCRIPTIONS) == set(QualityRule)
