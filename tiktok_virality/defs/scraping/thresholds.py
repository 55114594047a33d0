"""The adjustable limits of the quality rules (`quality.py`), apart from the rules themselves: a
dataset's settings hold them, and reading those settings (the CLI's quick commands) needs neither
pandas nor numpy."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

_MAX_MIN_VIEWS = 2**63 - 1  # play_count is a BIGINT
_MAX_MAX_AGE_DAYS = 36_500  # 100 years; pandas timedeltas end at about 292 years


@dataclass(frozen=True)
class QualityThresholds:
    """The adjustable limits of the rules `min_views` and `max_age`."""

    min_views: int = 1000
    max_age_days: int = 180

    def __post_init__(self) -> None:
        for name, minimum, maximum in (
            ("min_views", 0, _MAX_MIN_VIEWS),
            ("max_age_days", 1, _MAX_MAX_AGE_DAYS),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name} must be a whole number, got {value!r}")
            if not minimum <= value <= maximum:
                raise ValueError(
                    f"{name} must be a whole number from {minimum:,} to {maximum:,}, got {value:,}"
                )
            object.__setattr__(self, name, int(value))  # a numpy integer becomes a plain int
