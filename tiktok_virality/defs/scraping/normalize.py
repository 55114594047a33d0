"""The one normalizer from Apify TikTok scraper items to raw_videos rows, for every source: console
exports (JSON, JSON Lines, CSV with every value a string) and items from the Apify API.

Field sets differ between actor versions, input types and export formats, so every field is
optional: an absent value is null, never 0 or "". Values that are present but unusable (a float id,
a count of "lots", a count too big for its column, a posting time in milliseconds) make that item an
ItemError instead of a silently wrong row, and never fail the other items. The rules for one value
are in coerce.py; this module maps an item's fields to the columns and an item to a row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from tiktok_virality.core.naming import InvalidNameError, normalize_account
from tiktok_virality.defs.scraping.coerce import (
    coerce_bigint,
    coerce_bool,
    coerce_epoch_seconds,
    coerce_first_url,
    coerce_integer,
    coerce_iso_timestamp,
    coerce_list_length,
    coerce_names,
    coerce_str,
    coerce_video_id,
)
from tiktok_virality.warehouse.contracts import PANDAS_DTYPES
from tiktok_virality.warehouse.tables import RAW_VIDEOS

T = TypeVar("T")
FieldPath = tuple[str, ...]

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Items of hashtag and search scrapes carry these; their `input` is a hashtag or a query, which
# can look exactly like a username ("fyp"), so the author is the account instead.
_SEARCH_ITEM_KEYS = ("searchHashtag", "searchQuery")


@dataclass(frozen=True)
class ItemError:
    """An item that is not a video: an Apify error item, or an item we cannot use."""

    account: str | None
    url: str | None
    error: str


@dataclass(frozen=True)
class NormalizedItems:
    videos: pd.DataFrame
    errors: list[ItemError]


class _UnusableItem(Exception):
    """An item that cannot become a raw_videos row; the message says why."""


def normalize_items(
    items: Iterable[Any], *, dataset: str, batch: str, scraped_at: datetime
) -> NormalizedItems:
    """raw_videos rows (columns and order of RAW_VIDEOS) for the videos among `items`, and an
    ItemError for every other item, including any that is not a JSON object (an API answer can hold
    anything). A video seen twice keeps its first row. Items are not modified; text that UTF-8
    cannot store is repaired in the rows (`without_lone_surrogates`).
    """
    if scraped_at.tzinfo is None or scraped_at.utcoffset() is None:
        raise ValueError(f"scraped_at must be timezone-aware, got {scraped_at!r}")
    scraped_at_utc = pd.Timestamp(scraped_at).tz_convert("UTC")
    rows: list[dict[str, Any]] = []
    errors: list[ItemError] = []
    seen_video_ids: set[str] = set()
    for raw in items:
        if not isinstance(raw, Mapping):
            errors.append(ItemError(account=None, url=None, error=_not_an_object(raw)))
            continue
        item = without_lone_surrogates(raw)
        try:
            row = _video_row(item)
        except _UnusableItem as problem:
            errors.append(
                ItemError(account=item_account(item), url=_item_url(item), error=str(problem))
            )
            continue
        if row["video_id"] in seen_video_ids:
            continue
        seen_video_ids.add(row["video_id"])
        rows.append({**row, "dataset": dataset, "batch": batch, "scraped_at": scraped_at_utc})
    return NormalizedItems(videos=_raw_videos_frame(rows), errors=errors)


def without_lone_surrogates(value: Any) -> Any:
    """`value` with every half of a UTF-16 surrogate pair that stands alone replaced by U+FFFD.

    JSON may escape such a half (`"\\ud83d"`: a caption cut inside an emoji by a JavaScript
    scraper), and Python decodes it into a str that UTF-8 cannot encode, so DuckDB refuses to store
    it, and with it the whole batch. U+FFFD is what a UTF-8 decoder makes of such a character;
    everything else is kept as it is."""
    return map_strings(value, lambda text: _LONE_SURROGATE.sub("\ufffd", text))


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A copy of a JSON-like value (dicts, lists, scalars) with `change` applied to every string
    in it, object keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_strings(element, change) for element in value]
    if isinstance(value, Mapping):
        return {change(key): map_strings(element, change) for key, element in value.items()}
    return value


def _not_an_object(value: Any) -> str:
    return f"not a video: expected a JSON object, got {_json_excerpt(value)}"


def _json_excerpt(value: Any) -> str:
    """A value as JSON, at most 60 characters, for error messages (ASCII: any text can store it)."""
    shown = json.dumps(value, ensure_ascii=True, default=repr)
    return shown if len(shown) <= 60 else shown[:59] + "…"


def item_account(item: Mapping[str, Any]) -> str | None:
    """The normalized username an item belongs to: from its `input` (`name`, `@name` or a profile
    URL), else its `url`, else its author; None when none of them is a username."""
    scraped_for = [] if any(key in item for key in _SEARCH_ITEM_KEYS) else ["input", "url"]
    candidates = [item.get(key) for key in scraped_for] + [_value(item, ("authorMeta", "name"))]
    for candidate in candidates:
        if isinstance(candidate, str):
            try:
                return normalize_account(candidate)
            except InvalidNameError:
                continue
    return None


# --- one item to one row


# Integer columns use the coercer of their SQL type: a value too big for the column's pandas dtype
# would fail building the frame of the whole batch instead of only its item.
_DIRECT_COLUMNS: tuple[tuple[str, FieldPath, Callable[[Any], Any]], ...] = (
    ("url", ("webVideoUrl",), coerce_str),
    ("author_id", ("authorMeta", "id"), coerce_str),
    ("author_name", ("authorMeta", "name"), coerce_str),
    ("author_nickname", ("authorMeta", "nickName"), coerce_str),
    ("author_verified", ("authorMeta", "verified"), coerce_bool),
    ("author_followers", ("authorMeta", "fans"), coerce_bigint),
    ("author_following", ("authorMeta", "following"), coerce_bigint),
    ("author_likes", ("authorMeta", "heart"), coerce_bigint),
    ("author_video_count", ("authorMeta", "video"), coerce_bigint),
    ("author_region", ("authorMeta", "region"), coerce_str),
    ("caption", ("text",), coerce_str),
    ("language", ("textLanguage",), coerce_str),
    ("play_count", ("playCount",), coerce_bigint),
    ("like_count", ("diggCount",), coerce_bigint),
    ("comment_count", ("commentCount",), coerce_bigint),
    ("share_count", ("shareCount",), coerce_bigint),
    ("save_count", ("collectCount",), coerce_bigint),
    ("music_id", ("musicMeta", "musicId"), coerce_str),
    ("music_name", ("musicMeta", "musicName"), coerce_str),
    ("music_author", ("musicMeta", "musicAuthor"), coerce_str),
    ("music_original", ("musicMeta", "musicOriginal"), coerce_bool),
    ("duration_seconds", ("videoMeta", "duration"), coerce_integer),
    ("width", ("videoMeta", "width"), coerce_integer),
    ("height", ("videoMeta", "height"), coerce_integer),
    ("cover_url", ("videoMeta", "coverUrl"), coerce_str),
    ("is_ad", ("isAd",), coerce_bool),
    ("is_pinned", ("isPinned",), coerce_bool),
    ("is_sponsored", ("isSponsored",), coerce_bool),
)


# Where an item says when the video was posted, in the order they are read: the first present wins.
POSTING_TIME_FIELDS: tuple[tuple[FieldPath, Callable[[Any], pd.Timestamp | None]], ...] = (
    (("createTime",), coerce_epoch_seconds),
    (("createTimeISO",), coerce_iso_timestamp),
)


def _video_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """Every raw_videos column but dataset, batch and scraped_at, which are the caller's."""
    video_id = _video_id(item)
    account = item_account(item)
    if account is None:
        raise _UnusableItem("no account: neither input, url nor authorMeta.name is a username")
    slideshow_image_count = _field(item, ("slideshowImageLinks",), coerce_list_length)
    is_slideshow = _field(item, ("isSlideshow",), coerce_bool)
    if is_slideshow is None and slideshow_image_count > 0:
        is_slideshow = True  # exports without isSlideshow still list the images of slideshows
    return {
        "account": account,
        "video_id": video_id,
        **{column: _field(item, path, coerce) for column, path, coerce in _DIRECT_COLUMNS},
        "hashtags": _unique_names(_field(item, ("hashtags",), coerce_names) or [], prefix="#"),
        "mentions": _mentions(item),
        "created_at": next(
            filter(None, (_field(item, path, coerce) for path, coerce in POSTING_TIME_FIELDS)),
            None,
        ),
        "video_url": item_video_url(item),
        "is_slideshow": is_slideshow,
        "slideshow_image_count": slideshow_image_count,
        "raw_item": json.dumps(item, ensure_ascii=False, sort_keys=True),
    }


def item_video_url(item: Mapping[str, Any]) -> str | None:
    """Where the item's video file is: the scrape's download (`mediaUrls`, a record of the run's
    key-value store when the actor downloaded it), else TikTok's own link."""
    return _field(item, ("mediaUrls",), coerce_first_url) or _field(
        item, ("videoMeta", "downloadAddr"), coerce_str
    )


def item_video_id(item: Mapping[str, Any]) -> str | None:
    """The item's video id; None for an item that is not a video or has an unusable id."""
    try:
        return _video_id(item)
    except _UnusableItem:
        return None


def _video_id(item: Mapping[str, Any]) -> str:
    if _value(item, ("id",)) in (None, ""):
        raise _UnusableItem(_why_not_a_video(item))
    return _field(item, ("id",), coerce_video_id)


def _why_not_a_video(item: Mapping[str, Any]) -> str:
    """An item without a video id, told in the actor's own words where it has any: its `note`
    about the account ("Profile is private", "No videos found to match the date filter") or its
    `error`, with its `errorCode`."""
    words = [
        text.strip()
        for text in (item.get("note"), item.get("error"))
        if isinstance(text, str) and text.strip()
    ]
    code = item.get("errorCode")
    code_said = ""
    if code not in (None, ""):
        code_said = f"errorCode {code if isinstance(code, str | int) else _json_excerpt(code)}"
    if words:
        return "; ".join(words) + (f" ({code_said})" if code_said else "")
    if code_said:
        return f"not a video: {code_said}"
    problem = "not a video: the item has no id"
    apify_error = item.get("error")
    if apify_error not in (None, ""):  # an error that is not text: shown as it came
        problem += f" (its error is {_json_excerpt(apify_error)})"
    return problem


def _mentions(item: Mapping[str, Any]) -> list[str] | None:
    """Usernames from `mentions` ("@name") and `detailedMentions` ({name}); None when the item has
    neither field, as older exports do: unknown, not "no mentions"."""
    mentions = _field(item, ("mentions",), coerce_names)
    detailed_mentions = _field(item, ("detailedMentions",), coerce_names)
    if mentions is None and detailed_mentions is None:
        return None
    return _unique_names([*(mentions or []), *(detailed_mentions or [])], prefix="@")


def _unique_names(names: Iterable[str], *, prefix: str) -> list[str]:
    """Names lower-cased without their '#' or '@', empty ones dropped, first occurrence kept."""
    cleaned = (name.strip().lstrip(prefix).strip().lower() for name in names)
    return list(dict.fromkeys(name for name in cleaned if name))


def _field(item: Mapping[str, Any], path: FieldPath, coerce: Callable[[Any], T]) -> T:
    try:
        return coerce(_nested_value(item, path))
    except ValueError as error:
        raise _UnusableItem(f"invalid {'.'.join(path)}: {error}") from None


def _nested_value(item: Mapping[str, Any], path: FieldPath) -> Any:
    """The value at a nested path; None when a level is missing or null. A level that is there but
    is not an object (`"authorMeta": "meenitech"`) raises ValueError: its fields are not absent but
    unreadable, and a row of nulls would hide it."""
    value: Any = item
    for depth, key in enumerate(path):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            where = ".".join(path[:depth])
            raise ValueError(f"{where} is {type(value).__name__} {value!r:.60}, not an object")
        value = value.get(key)
    return value


def _value(item: Mapping[str, Any], path: FieldPath) -> Any:
    """The value at a nested path; None when any level is missing or not an object."""
    try:
        return _nested_value(item, path)
    except ValueError:
        return None


def _item_url(item: Mapping[str, Any]) -> str | None:
    for key in ("url", "webVideoUrl"):
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _raw_videos_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            column.name: pd.Series(
                [row[column.name] for row in rows],
                dtype=PANDAS_DTYPES.get(column.sql_type, "object"),
            )
            for column in RAW_VIDEOS.columns
        }
    )
