"""Single values of an Apify item as the types of their raw_videos columns. A coercer reads an
absent value (None, or "" as CSV exports write it) as None (a list's length as 0) and raises
ValueError, saying why, for a value that is present but unusable: a float id, a count of "lots",
a count too big for its column, a posting time in milliseconds. They are apart from the normalizer (normalize.py),
which decides which field feeds which column, because they are the rules for one value, the same
whichever field it comes from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

_VIDEO_ID_PATTERN = re.compile(r"[0-9]+")
# Posting times outside this window are mistakes, such as milliseconds taken for seconds: the
# window starts at 1e9 epoch seconds, so that values 1000 times too big are recognized.
_EARLIEST_POST_TIME = datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)
_LATEST_POST_TIME = datetime(2100, 1, 1, tzinfo=UTC)
_EARLIEST_EPOCH_SECONDS = int(_EARLIEST_POST_TIME.timestamp())  # 1_000_000_000
_LATEST_EPOCH_SECONDS = int(_LATEST_POST_TIME.timestamp())


def coerce_int(value: Any, *, bits: int = 64) -> int | None:
    """An int from an int, an integral float or a numeric string ("12800", "1.2e4") that fits a
    signed integer of `bits` bits: 64 for a BIGINT column, 32 for an INTEGER one."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, int | float):
        number: int | float | Decimal = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = Decimal(text)  # exact, unlike float, for large counts written as "1.2e4"
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    if isinstance(number, float | Decimal) and not _is_whole(number):
        raise ValueError(f"expected a whole number, got {value!r}")
    # Checked before int(): int(Decimal("1e100000000")) would take minutes.
    limit = 2 ** (bits - 1)
    if not -limit <= number < limit:
        raise ValueError(
            f"expected a whole number from {-limit} to {limit - 1} ({bits}-bit), got {value!r}"
        )
    return int(number)


def coerce_bigint(value: Any) -> int | None:
    """`coerce_int` for a BIGINT column: a signed 64-bit integer."""
    return coerce_int(value, bits=64)


def coerce_integer(value: Any) -> int | None:
    """`coerce_int` for an INTEGER column: a signed 32-bit integer."""
    return coerce_int(value, bits=32)


def _is_whole(number: float | Decimal) -> bool:
    if isinstance(number, float):
        return number.is_integer()
    return number.is_finite() and number == number.to_integral_value()


def coerce_bool(value: Any) -> bool | None:
    """A bool from a bool or the strings "true" / "false" (any case) that CSV exports hold."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in ("true", "false"):
            return text == "true"
    raise ValueError(f"expected true or false, got {value!r}")


def coerce_str(value: Any) -> str | None:
    """Text; an int (an id sent as a number) becomes its digits; "" is absent, as in CSV exports."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__} {value!r}")


def coerce_video_id(value: Any) -> str:
    """A TikTok id as its digits. Floats are refused: 19-digit ids do not survive them."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _VIDEO_ID_PATTERN.fullmatch(value.strip()):
        return value.strip()
    if isinstance(value, float):
        raise ValueError(f"{value!r} is a float, which cannot hold a 19-digit id exactly")
    raise ValueError(f"expected the digits of a TikTok id, got {value!r}")


def coerce_epoch_seconds(value: Any) -> pd.Timestamp | None:
    """A UTC posting time from seconds since the epoch (an int or a numeric string), from
    2001-09-09 (1e9 seconds) to 2100-01-01; anything else is a mistake, such as milliseconds."""
    seconds = coerce_int(value)
    if seconds is None:
        return None
    if not _EARLIEST_EPOCH_SECONDS <= seconds < _LATEST_EPOCH_SECONDS:
        problem = f"{seconds} is not a time from {_plausible_post_times()} in epoch seconds"
        if _EARLIEST_EPOCH_SECONDS <= seconds // 1000 < _LATEST_EPOCH_SECONDS:
            problem += "; it looks like milliseconds"
        raise ValueError(problem)
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def coerce_iso_timestamp(value: Any) -> pd.Timestamp | None:
    """A UTC posting time from an ISO 8601 date and time ("2025-07-07T14:58:13.000Z"), from
    2001-09-09 to 2100-01-01; one without an offset is taken as UTC, as Apify writes it. Only ISO
    8601 is read: "now" or "07/07/2025" are refused, not guessed."""
    text = coerce_str(value)
    if text is None:
        return None
    text = text.strip()
    if text[-1:] in ("Z", "z"):  # UTC, as Apify writes it
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 date and time, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not _EARLIEST_POST_TIME <= parsed < _LATEST_POST_TIME:
        raise ValueError(f"{value!r} is not a time from {_plausible_post_times()}")
    return pd.Timestamp(parsed).tz_convert("UTC")


def _plausible_post_times() -> str:
    return f"{_EARLIEST_POST_TIME:%Y-%m-%d} to {_LATEST_POST_TIME:%Y-%m-%d}"


def coerce_names(value: Any) -> list[str] | None:
    """The names in a list of strings or of `{"name": ...}` objects, as Apify lists hashtags and
    mentions; empty names are skipped."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__} {value!r}")
    names = [
        coerce_str(element.get("name") if isinstance(element, Mapping) else element)
        for element in value
    ]
    return [name for name in names if name is not None]


def coerce_list_length(value: Any) -> int:
    """The number of elements of a list; 0 when absent (CSV exports drop empty lists)."""
    if value is None:
        return 0
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__} {value!r}")
    return len(value)


def coerce_first_url(value: Any) -> str | None:
    """The first non-empty URL of a list of URLs."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError(f"expected a list of URLs, got {type(value).__name__} {value!r}")
    return next((url for url in map(coerce_str, value) if url is not None), None)
