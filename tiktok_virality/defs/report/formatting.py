"""Numbers and dates as the report writes them, in its tables, its sentences and its plots' axes.
Every function takes a missing value (None, NaN, NaT) and writes it as `MISSING`."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd

MISSING = "—"


def is_missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def compact(value: Any) -> str:
    """950, 12.3k, 4.5M: counts such as views and followers."""
    if is_missing(value):
        return MISSING
    number = float(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= threshold:
            return f"{number / threshold:.3g}{suffix}"
    return f"{number:.0f}"


def whole(value: Any) -> str:
    """1,234: a count written in full."""
    return MISSING if is_missing(value) else f"{float(value):,.0f}"


def count_of(value: Any, noun: str) -> str:
    """1 account, 8 accounts, 1,234 videos (the noun's plural is noun + s)."""
    if is_missing(value):
        return f"{MISSING} {noun}s"
    return f"{whole(value)} {noun}{'' if int(value) == 1 else 's'}"


def percent(value: Any, digits: int = 1) -> str:
    """A share (0.051) as 5.1%."""
    return MISSING if is_missing(value) else f"{100 * float(value):.{digits}f}%"


def multiple(value: Any) -> str:
    """A factor on views: ×0.27, ×2.2, ×14."""
    if is_missing(value):
        return MISSING
    number = float(value)
    if number >= 10:
        return f"×{number:.0f}"
    return f"×{number:.1f}" if number >= 1 else f"×{number:.2f}"


def score(value: Any) -> str:
    """A metric or a correlation: 0.80, −0.08."""
    return MISSING if is_missing(value) else f"{float(value):.2f}".replace("-", "−")


def day(value: Any) -> str:
    return MISSING if is_missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def day_range(first: Any, last: Any) -> str:
    """11 Feb – 7 Jul 2025 (the year once when both days are in it)."""
    if is_missing(first) or is_missing(last):
        return MISSING
    start, end = pd.Timestamp(first), pd.Timestamp(last)
    start_format = "%-d %b" if start.year == end.year else "%-d %b %Y"
    return f"{start.strftime(start_format)} – {end.strftime('%-d %b %Y')}"


def instant(value: datetime | pd.Timestamp | None) -> str:
    """A point in time in UTC, to the minute: 2025-07-08 10:00 UTC (a naive time is taken as
    UTC)."""
    if is_missing(value):
        return MISSING
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")
