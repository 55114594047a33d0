"""Rising hashtags and sounds within a dataset, and the features "uses a rising hashtag / sound at
posting time", computed without looking into the future.

Input: the `raw_videos` rows of one dataset (all its batches): `dataset`, `batch`, `video_id`,
`created_at`, `hashtags` (lists or arrays of names; null = unknown), `music_id` and `music_name`.
A sound is identified by `music_id`: an "original sound" reused by other creators is the same id,
which is how sounds start trending.

**Rising at a time t.** For a hashtag or sound x and the windows (both before t, ending at t):

    recent   = [t − trend_window_days, t)
    baseline = [t − trend_window_days − trend_baseline_days, t − trend_window_days)

x is rising at t when at least `trend_min_videos` videos posted in the recent window use it, and
its *share* of the videos posted in the recent window is at least `trend_growth` × its share in
the baseline window; never when no video at all was posted in the baseline window (nothing to
compare with). Shares rather than counts, because a scrape keeps each account's *latest* videos:
the dataset holds more videos near the scrape time, which would make every hashtag look rising.

**Features without look-ahead.** `uses_rising_hashtag` / `uses_rising_sound` of a video posted at
t: one of its hashtags / its sound is rising at t, from videos posted strictly before t (times are
compared to the second, TikTok's resolution; videos posted in the same second do not see each
other). A later explosion of a hashtag does not change the feature of an earlier video. Null
when the video's posting time, hashtag list or sound is unknown; false for an empty hashtag list.

**Trend table.** `trend_table` gives, per hashtag and sound, the counts over consecutive windows of
`trend_window_days` ending at the day after the dataset's last post (UTC midnight), with the same
rising rule evaluated at each window's end: one row per (kind, item, window) with at least one use.

Known limits: counts are of videos, so one prolific creator can make their own hashtag rise; a
dataset of a few accounts sees only its own corner of TikTok, so "rising" means rising *among
these accounts*, not on TikTok.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiktok_virality.defs.model.parameters import ModelParameters
from tiktok_virality.warehouse.contracts import VIDEO_KEY

TREND_FEATURES = ("uses_rising_hashtag", "uses_rising_sound")
HASHTAG = "hashtag"
SOUND = "sound"
TREND_TABLE_COLUMNS = (
    "dataset",
    "kind",
    "item",
    "name",
    "window_start",
    "window_end",
    "videos",
    "share",
    "baseline_videos",
    "baseline_share",
    "rising",
)

_SECONDS_PER_DAY = 86_400
# Uses are packed into one sorted int64 key: item code in the high bits, seconds in the low 32.
_TIME_BITS = 32


@dataclass(frozen=True)
class _Uses:
    """Each (video, item) use of one kind, and every video's posting second."""

    video_position: np.ndarray  # row of the video in raw_videos
    item: np.ndarray  # the item (hashtag name or music id) of each use
    seconds: np.ndarray  # posting time of each use's video, in seconds since the origin
    all_seconds: np.ndarray  # posting times of every dated video, sorted


@dataclass(frozen=True)
class _WindowCounts:
    recent: np.ndarray
    baseline: np.ndarray
    recent_total: np.ndarray
    baseline_total: np.ndarray

    def rising(self, parameters: ModelParameters) -> np.ndarray:
        # recent / recent_total ≥ growth × baseline / baseline_total, without dividing by zero.
        grew = self.recent * self.baseline_total >= (
            parameters.trend_growth * self.baseline * self.recent_total
        )
        return (self.recent >= parameters.trend_min_videos) & (self.baseline_total > 0) & grew


def trend_features(raw_videos: pd.DataFrame, parameters: ModelParameters) -> pd.DataFrame:
    """Per raw video (in order): `dataset`, `batch`, `video_id` and the nullable booleans
    `uses_rising_hashtag` and `uses_rising_sound` (see the module docstring)."""
    _check_one_dataset(raw_videos)
    videos = raw_videos.reset_index(drop=True)
    _, posted = _posting_seconds(videos, parameters)
    features = videos[VIDEO_KEY].copy()
    for feature, kind in zip(TREND_FEATURES, (HASHTAG, SOUND), strict=True):
        items = _items(videos, kind)
        uses = _uses(items, posted)
        rising = _counts(uses, uses.item, uses.seconds, parameters).rising(parameters)
        uses_rising = np.zeros(len(videos), dtype=bool)
        uses_rising[uses.video_position[rising]] = True
        unknown = items.isna().to_numpy() | np.isnan(posted)
        features[feature] = pd.array(uses_rising, dtype="boolean")
        features.loc[unknown, feature] = pd.NA
    return features


def trend_table(raw_videos: pd.DataFrame, parameters: ModelParameters) -> pd.DataFrame:
    """Counts of each hashtag and sound per window of `trend_window_days` (columns
    `TREND_TABLE_COLUMNS`), with whether it was rising at the window's end."""
    _check_one_dataset(raw_videos)
    videos = raw_videos.reset_index(drop=True)
    origin, posted = _posting_seconds(videos, parameters)
    dated = posted[~np.isnan(posted)]
    if len(dated) == 0:
        return _empty_trend_table()
    window, _ = _window_seconds(parameters)
    last_post = origin + pd.Timedelta(seconds=float(dated.max()))
    last_end = last_post.floor("D") + pd.Timedelta(days=1)
    last_end_seconds = int((last_end - origin) / pd.Timedelta(seconds=1))
    window_count = int(np.ceil((last_end_seconds - dated.min()) / window))
    window_ends = last_end_seconds - window * np.arange(window_count, dtype=np.int64)[::-1]
    tables = []
    for kind in (HASHTAG, SOUND):
        items = _items(videos, kind)
        uses = _uses(items, posted)
        distinct = np.unique(uses.item)
        query_items = np.repeat(distinct, len(window_ends))
        query_ends = np.tile(window_ends, len(distinct))
        counts = _counts(uses, query_items, query_ends, parameters)
        ends = origin + pd.to_timedelta(query_ends, unit="s")
        tables.append(
            pd.DataFrame(
                {
                    "dataset": videos["dataset"].iloc[0],
                    "kind": kind,
                    "item": query_items,
                    "name": query_items if kind == HASHTAG else _sound_names(videos, query_items),
                    "window_start": ends - pd.Timedelta(seconds=window),
                    "window_end": ends,
                    "videos": counts.recent,
                    "share": _share(counts.recent, counts.recent_total),
                    "baseline_videos": counts.baseline,
                    "baseline_share": _share(counts.baseline, counts.baseline_total),
                    "rising": counts.rising(parameters),
                }
            )[lambda table: table["videos"] > 0]
        )
    return (
        pd.concat(tables, ignore_index=True)
        .sort_values(["kind", "window_end", "videos", "item"], ascending=[True, True, False, True])
        .reset_index(drop=True)
        .astype({"videos": "int64", "baseline_videos": "int64", "rising": "bool"})
    )


def _check_one_dataset(raw_videos: pd.DataFrame) -> None:
    datasets = raw_videos["dataset"].dropna().unique()
    if len(datasets) > 1:
        raise ValueError(f"trends are computed per dataset, got {sorted(datasets)}")


def _posting_seconds(
    videos: pd.DataFrame, parameters: ModelParameters
) -> tuple[pd.Timestamp, np.ndarray]:
    """An origin early enough for every window the trend table or a video looks at, and each
    video's posting time in whole seconds after it (NaN when unknown)."""
    created = pd.to_datetime(videos["created_at"], utc=True).dt.floor("s")
    # The table's first window may start up to one window before the first post, and its
    # baseline reaches one baseline further back.
    reach = pd.Timedelta(
        days=2 * parameters.trend_window_days + parameters.trend_baseline_days
    ).ceil("s")
    earliest = created.min()
    origin = (earliest if pd.notna(earliest) else pd.Timestamp(0, tz="UTC")) - reach
    seconds = (created - origin) / pd.Timedelta(seconds=1)
    return origin, seconds.to_numpy(dtype=float, na_value=np.nan)


def _items(videos: pd.DataFrame, kind: str) -> pd.Series:
    """Per video, the set of items of this kind it uses (a hashtag list, or a one-sound list);
    null when unknown."""
    if kind == HASHTAG:
        return videos["hashtags"].map(
            lambda tags: sorted({str(tag).lower() for tag in tags}), na_action="ignore"
        )
    return videos["music_id"].astype("string").map(lambda sound: [sound], na_action="ignore")


def _uses(items: pd.Series, posted: np.ndarray) -> _Uses:
    exploded = items.explode().dropna()
    positions = exploded.index.to_numpy(dtype=np.int64)
    dated = ~np.isnan(posted[positions])
    positions = positions[dated]
    return _Uses(
        video_position=positions,
        item=exploded.to_numpy(dtype=object)[dated].astype(str),
        seconds=posted[positions].astype(np.int64),
        all_seconds=np.sort(posted[~np.isnan(posted)]).astype(np.int64),
    )


def _counts(
    uses: _Uses, items: np.ndarray, at_seconds: np.ndarray, parameters: ModelParameters
) -> _WindowCounts:
    """For each query (item, time t): uses of the item and videos in all, in the recent and the
    baseline window before t; only videos posted strictly before t count."""
    window, baseline = _window_seconds(parameters)
    at = np.asarray(at_seconds, dtype=np.int64)
    vocabulary = np.unique(uses.item)
    keys = np.sort(
        (np.searchsorted(vocabulary, uses.item).astype(np.int64) << _TIME_BITS) + uses.seconds
    )
    query_codes = np.searchsorted(vocabulary, items).astype(np.int64) << _TIME_BITS

    def uses_before(offset: int) -> np.ndarray:
        return np.searchsorted(keys, query_codes + at - offset, side="left")

    def videos_before(offset: int) -> np.ndarray:
        return np.searchsorted(uses.all_seconds, at - offset, side="left")

    return _WindowCounts(
        recent=uses_before(0) - uses_before(window),
        baseline=uses_before(window) - uses_before(window + baseline),
        recent_total=videos_before(0) - videos_before(window),
        baseline_total=videos_before(window) - videos_before(window + baseline),
    )


def _window_seconds(parameters: ModelParameters) -> tuple[int, int]:
    """The recent and the baseline window, in whole seconds."""
    return (
        round(parameters.trend_window_days * _SECONDS_PER_DAY),
        round(parameters.trend_baseline_days * _SECONDS_PER_DAY),
    )


def _share(count: np.ndarray, total: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, count / np.maximum(total, 1), np.nan)


def _sound_names(videos: pd.DataFrame, music_ids: np.ndarray) -> np.ndarray:
    """Each sound's most frequent name (the first in sorted order on a tie)."""
    named = pd.DataFrame(
        {"item": videos["music_id"].astype("string"), "name": videos["music_name"]}
    ).dropna()
    counts = named.value_counts().reset_index(name="uses")
    most_used = counts.sort_values(
        ["item", "uses", "name"], ascending=[True, False, True]
    ).drop_duplicates("item")
    return pd.Series(music_ids).map(most_used.set_index("item")["name"]).to_numpy(dtype=object)


def _empty_trend_table() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="object") for column in TREND_TABLE_COLUMNS})
