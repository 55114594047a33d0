"""Quality control of scraped videos: the original pipeline's data validation, as pure rules.

The original pipeline keeps only videos it can learn from: at least 1,000 views, at most 6 months
old, every required field present, values of the right type and within their ranges. Each check is
one `QualityRule`, evaluated per row of a `raw_videos` frame (the columns of `RAW_VIDEOS`):

- `required_fields`: `video_id`, `account`, `created_at`, `play_count` and `scraped_at` are present
  (not null; the text ones not blank). Without them a video cannot be identified, placed in time or
  measured. `scraped_at` is required because the age rules are relative to it.
- `valid_ranges`: the original's type and range checks. View, like, comment, share and save counts
  and the author's followers are not negative, nor are duration, width and height; and each checked
  value has its column's type (a whole number, a timezone-aware timestamp, text), which only a frame
  of plain Python objects can get wrong. A null optional value (`save_count` is absent in older
  exports) is fine.
- `not_in_future`: the video was not posted after it was scraped, allowing `FUTURE_TOLERANCE` of
  clock skew between TikTok and the scraper. A later posting time is a broken timestamp.
- `min_views`: at least `QualityThresholds.min_views` views (default 1,000). Below that, ratios such
  as the like rate are noise, and such videos tell little about what makes one go viral.
- `max_age`: posted at most `QualityThresholds.max_age_days` days (default 180, the original's 6
  months) before it was scraped. Older videos reflect another period of trends, sounds and the
  recommendation algorithm.

Ages are measured from each row's own `scraped_at`, never from the wall clock, so the same rows
always give the same result. A row that fails several rules is rejected for all of them; a rule
that cannot be evaluated because a value is missing or invalid does not fail (a null `play_count`
fails `required_fields`, not `min_views`): the row is rejected by the rule that says what is wrong.

Rows that fail are not silently dropped: `apply_quality_rules` returns them with their reasons, and
the caller stores them, so that what was left out of the model, and why, stays visible.

A frame that breaks the contract itself (a checked column missing, a column of a type that cannot
hold the contract's type, such as tz-naive timestamps) is a bug upstream, not a data problem, and
raises instead.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from tiktok_virality.defs.scraping.quality_rules import QualityRule
from tiktok_virality.defs.scraping.thresholds import QualityThresholds

REJECTION_REASONS_COLUMN = "rejection_reasons"
# Without any of these a video cannot be identified, measured or placed in time.
REQUIRED_COLUMNS = ("video_id", "account", "created_at", "play_count", "scraped_at")
# Counts and dimensions, which cannot be negative.
NON_NEGATIVE_COLUMNS = (
    "play_count",
    "like_count",
    "comment_count",
    "share_count",
    "save_count",
    "author_followers",
    "duration_seconds",
    "width",
    "height",
)
# How much later than `scraped_at` a posting time may be: clocks of TikTok and the scraper differ.
FUTURE_TOLERANCE = pd.Timedelta(hours=1)

_TEXT_COLUMNS = ("video_id", "account")
_TIMESTAMP_COLUMNS = ("created_at", "scraped_at")
CHECKED_COLUMNS = tuple(dict.fromkeys(REQUIRED_COLUMNS + NON_NEGATIVE_COLUMNS))

_RULES = tuple(QualityRule)
# The reasons of each combination of failed rules, indexed by its bit mask (bit i = rule i).
_REASONS_BY_MASK = tuple(
    tuple(rule.value for bit, rule in enumerate(_RULES) if mask >> bit & 1)
    for mask in range(2 ** len(_RULES))
)


@dataclass(frozen=True)
class QualityResult:
    """The rows of a `raw_videos` frame split by the quality rules.

    `accepted` holds the rows that pass every rule; `rejected` the others, with the column
    `rejection_reasons`: the values of the rules each row fails, in `QualityRule` order. Both keep
    the input's columns, their order and dtypes, and the rows' order, with a fresh 0..n-1 index.
    `failures_by_rule` counts the rows failing each rule (every rule is present, 0 when none
    failed); a row failing two rules counts for both.
    """

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    failures_by_rule: dict[QualityRule, int]


def apply_quality_rules(videos: pd.DataFrame, thresholds: QualityThresholds) -> QualityResult:
    """Split `videos` (a `raw_videos` frame, as normalized or as read back from DuckDB) into the
    rows that pass every `QualityRule` and the rejected ones with their reasons. `videos` is not
    modified.

    Raises ValueError when a checked column is missing or `rejection_reasons` is already a column,
    and TypeError when a checked column's dtype cannot hold the contract's type.
    """
    if not isinstance(videos, pd.DataFrame):
        raise TypeError(f"videos must be a pandas DataFrame, got {type(videos).__name__}")
    missing_columns = [column for column in CHECKED_COLUMNS if column not in videos.columns]
    if missing_columns:
        raise ValueError(f"videos lack the raw_videos columns {missing_columns}")
    if REJECTION_REASONS_COLUMN in videos.columns:
        raise ValueError(f"videos already have a {REJECTION_REASONS_COLUMN!r} column")

    failures = _rule_failures(videos, thresholds)
    bits = np.zeros(len(videos), dtype=np.int64)
    for bit, rule in enumerate(_RULES):
        bits |= failures[rule].astype(np.int64) << bit
    rejected_positions = np.flatnonzero(bits)
    reasons = [list(_REASONS_BY_MASK[mask]) for mask in bits[rejected_positions]]

    accepted = videos.iloc[np.flatnonzero(bits == 0)].reset_index(drop=True)
    rejected = (
        videos.iloc[rejected_positions]
        .reset_index(drop=True)
        .assign(**{REJECTION_REASONS_COLUMN: pd.Series(reasons, dtype=object)})
    )
    return QualityResult(
        accepted=accepted,
        rejected=rejected,
        failures_by_rule={rule: int(failures[rule].sum()) for rule in _RULES},
    )


def rejection_counts(rejected: pd.DataFrame) -> dict[QualityRule, int]:
    """Per rule, the rows of a `rejected_videos` frame it rejected (a row failing two rules counts
    for both); only the rules that rejected any. Reasons this release does not know are skipped."""
    counts = (
        rejected[REJECTION_REASONS_COLUMN].explode().value_counts()
        if len(rejected)
        else pd.Series(dtype=int)
    )
    return {rule: int(counts[rule.value]) for rule in _RULES if counts.get(rule.value, 0)}


def _rule_failures(
    videos: pd.DataFrame, thresholds: QualityThresholds
) -> dict[QualityRule, np.ndarray]:
    """Per rule, a boolean array: True where the row fails it."""
    row_count = len(videos)
    missing = np.zeros(row_count, dtype=bool)
    for column in REQUIRED_COLUMNS:
        missing |= _is_missing(videos[column])

    invalid = np.zeros(row_count, dtype=bool)
    for column in _TEXT_COLUMNS:
        invalid |= _invalid_texts(videos[column])
    timestamps: dict[str, pd.Series] = {}
    for column in _TIMESTAMP_COLUMNS:
        timestamps[column], invalid_timestamps = _utc_timestamps(videos[column])
        invalid |= invalid_timestamps
    numbers_by_column: dict[str, np.ndarray] = {}
    for column in NON_NEGATIVE_COLUMNS:
        values, invalid_numbers = _whole_numbers(videos[column])
        numbers_by_column[column] = values
        invalid |= invalid_numbers | (values < 0)  # NaN < 0 is False: null is not out of range

    # Missing or invalid timestamps are NaT, and comparisons with NaT are False.
    age = timestamps["scraped_at"] - timestamps["created_at"]
    in_future = (-age > FUTURE_TOLERANCE).to_numpy(dtype=bool)  # posted after it was scraped
    too_old = (age > pd.Timedelta(days=thresholds.max_age_days)).to_numpy(dtype=bool)
    few_views = numbers_by_column["play_count"] < thresholds.min_views  # NaN: not evaluated

    return {
        QualityRule.REQUIRED_FIELDS: missing,
        QualityRule.VALID_RANGES: invalid,
        QualityRule.NOT_IN_FUTURE: in_future,
        QualityRule.MIN_VIEWS: few_views,
        QualityRule.MAX_AGE: too_old,
    }


def _is_missing(values: pd.Series) -> np.ndarray:
    """Null, or text that is empty or only whitespace."""
    missing = values.isna().to_numpy(dtype=bool)
    if isinstance(values.dtype, pd.StringDtype) or values.dtype == object:
        missing |= _elementwise(values, lambda value: isinstance(value, str) and not value.strip())
    return missing


def _invalid_texts(values: pd.Series) -> np.ndarray:
    """Where a text column holds something other than text."""
    if isinstance(values.dtype, pd.StringDtype):
        return np.zeros(len(values), dtype=bool)
    _require_object_dtype(values, "text")
    return values.notna().to_numpy(dtype=bool) & ~_elementwise(
        values, lambda value: isinstance(value, str)
    )


def _utc_timestamps(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The timestamps in UTC, NaT where null or invalid, and where they are invalid: anything but
    a timezone-aware timestamp."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").reset_index(drop=True), np.zeros(len(values), dtype=bool)
    _require_object_dtype(values, "timezone-aware timestamps (TIMESTAMPTZ)")
    aware = _elementwise(
        values,
        lambda value: (
            isinstance(value, datetime) and value is not pd.NaT and value.utcoffset() is not None
        ),
    )
    invalid = values.notna().to_numpy(dtype=bool) & ~aware
    utc = pd.to_datetime(values.where(aware), utc=True)
    return utc.reset_index(drop=True), invalid


def _whole_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The values as floats, NaN where null or invalid, and where they are invalid: anything but a
    finite whole number. Floats suffice for the checks: signs are exact, and counts up to 2**53
    (9 quadrillion) compare exactly with any threshold."""
    present = values.notna().to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
        of_number_type = np.ones(len(values), dtype=bool)
    else:
        _require_object_dtype(values, "whole numbers")
        of_number_type = _elementwise(
            values,
            lambda value: isinstance(value, numbers.Real) and not isinstance(value, bool),
        )
        floats = pd.to_numeric(values.where(of_number_type), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(floats) & (np.mod(floats, 1) == 0)
    invalid = present & ~(of_number_type & whole)
    return np.where(invalid, np.nan, floats), invalid


def _require_object_dtype(values: pd.Series, expected: str) -> None:
    """Object columns are checked value by value; a column of any other dtype is of the wrong type
    as a whole, which is a bug upstream, not bad data."""
    if values.dtype != object:
        raise TypeError(
            f"column {values.name!r} must hold {expected}, but its dtype is {values.dtype}"
        )


def _elementwise(values: pd.Series, predicate: Callable[[Any], bool]) -> np.ndarray:
    return np.fromiter(map(predicate, values), dtype=bool, count=len(values))
