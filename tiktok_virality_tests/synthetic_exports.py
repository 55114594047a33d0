"""Synthetic Apify exports shaped like the real ones users download, for the tests and the bench:

- a **hashtag scrape** downloaded from the Apify console as CSV (`hashtag_scrape_items` +
  `write_console_csv`, named like the console names it: `dataset_<actor>_<YYYY-MM-DD_HH-MM-SS-mmm>
  .csv`): many authors of one or two videos, follower counts, some videos older than six months;
- a **trending scrape in the 2020 legacy schema** (`legacy_trending_items`, a JSON array): no
  follower counts, no saves, no `input`, so every video belongs to its author.

Views follow a planted signal — followers, age, an original sound, a short video and a call to
action — with log-normal noise, so that a model has something to find; a few videos flop below
1,000 views. Deterministic per seed."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

HASHTAG_SCRAPED_AT = datetime(2022, 7, 27, 14, 3, 22, 417_000, tzinfo=UTC)
HASHTAG_EXPORT_NAME = "dataset_tiktok-scraper_2022-07-27_14-03-22-417.csv"
LEGACY_NEWEST_VIDEO = datetime(2020, 12, 8, 18, 30, tzinfo=UTC)
# The planted drivers: the factor each multiplies the views by.
ORIGINAL_SOUND_EFFECT = 1.8
SHORT_VIDEO_EFFECT = 1.6
CALL_TO_ACTION_EFFECT = 1.5
FLOP_SHARE = 0.03
# Videos per author: mostly one, some two, a few three (a hashtag or trending scrape).
_AUTHOR_SIZES = (1,) * 14 + (2,) * 3 + (3,)
_TOPICS = ("booktok", "fyp", "reading", "books", "romance", "fantasy", "bookish", "viral")


@dataclass(frozen=True)
class PlantedVideo:
    """What a synthetic video is, before it is written as an item of either schema."""

    video_id: str
    author: str
    author_id: str
    followers: int
    created_at: datetime
    views: int
    original_sound: bool
    duration: int
    call_to_action: bool
    hashtags: tuple[str, ...]


def planted_videos(
    *, videos: int, newest: datetime, old_share: float, seed: int
) -> list[PlantedVideo]:
    """`videos` videos by authors of 1 or 2 videos (a few of 3), `old_share` of them posted 190 to
    900 days before `newest`, the others within 170 days of it (the newest exactly at it)."""
    rng = np.random.default_rng(seed)
    authors = _author_sizes(videos, rng)
    followers = np.exp(rng.normal(9.5, 1.6, len(authors))).astype(np.int64) + 50
    planted: list[PlantedVideo] = []
    for author_index, size in enumerate(authors):
        for _ in range(size):
            number = len(planted)
            old = rng.random() < old_share
            age_days = 0.0 if number == 0 else rng.uniform(190, 900) if old else rng.uniform(1, 170)
            original_sound = bool(rng.random() < 0.45)
            duration = int(rng.choice([8, 12, 14, 25, 40, 58]))
            call_to_action = bool(rng.random() < 0.3)
            log_views = (
                2.2
                + 0.75 * math.log(followers[author_index])
                + 0.35 * math.log1p(age_days)
                + math.log(ORIGINAL_SOUND_EFFECT) * original_sound
                + math.log(SHORT_VIDEO_EFFECT) * (duration < 15)
                + math.log(CALL_TO_ACTION_EFFECT) * call_to_action
                + rng.normal(0, 0.9)
            )
            planted.append(
                PlantedVideo(
                    video_id=str(7_000_000_000_000_000_000 + seed * 10_000_000 + number),
                    author=f"reader_{seed}_{author_index:05d}",
                    author_id=str(6_800_000_000_000_000_000 + author_index),
                    followers=int(followers[author_index]),
                    created_at=newest - timedelta(days=age_days),
                    # A few flops below the default minimum views, whatever their account.
                    views=int(rng.integers(100, 1000))
                    if rng.random() < FLOP_SHARE
                    else int(math.exp(log_views)),
                    original_sound=original_sound,
                    duration=duration,
                    call_to_action=call_to_action,
                    hashtags=tuple(
                        rng.choice(_TOPICS, size=int(rng.integers(1, 5)), replace=False)
                    ),
                )
            )
    return planted


def _author_sizes(videos: int, rng: np.random.Generator) -> list[int]:
    sizes: list[int] = []
    while sum(sizes) < videos:
        sizes.append(min(int(rng.choice(_AUTHOR_SIZES)), videos - sum(sizes)))
    return sizes


def hashtag_scrape_items(
    *, videos: int = 1_000, old_share: float = 0.3, seed: int = 1
) -> list[dict[str, Any]]:
    """Items of a 2022 hashtag scrape (`searchHashtag`, follower counts, no saves), the newest
    posted 20 minutes before `HASHTAG_SCRAPED_AT`."""
    newest = HASHTAG_SCRAPED_AT - timedelta(minutes=20)
    return [
        {
            "id": video.video_id,
            "text": _caption(video),
            "createTime": int(video.created_at.timestamp()),
            "createTimeISO": video.created_at.isoformat().replace("+00:00", "Z"),
            "authorMeta": {
                "id": video.author_id,
                "name": video.author,
                "nickName": video.author.title(),
                "verified": False,
                "fans": video.followers,
                "heart": video.followers * 12,
                "video": 40,
            },
            "musicMeta": _music(video),
            "webVideoUrl": f"https://www.tiktok.com/@{video.author}/video/{video.video_id}",
            "videoMeta": {"height": 1024, "width": 576, "duration": video.duration},
            "diggCount": video.views // 9,
            "shareCount": video.views // 200,
            "playCount": video.views,
            "commentCount": video.views // 150,
            "hashtags": [{"name": tag} for tag in video.hashtags],
            "mentions": [],
            "searchHashtag": {"name": "booktok", "views": 61_200_000_000},
        }
        for video in planted_videos(videos=videos, newest=newest, old_share=old_share, seed=seed)
    ]


def legacy_trending_items(*, videos: int = 1_000, seed: int = 2) -> list[dict[str, Any]]:
    """Items of a December 2020 trending scrape in the legacy schema: no `fans`, no
    `collectCount`, no `input`; the newest posted at `LEGACY_NEWEST_VIDEO`, none older than six
    months."""
    return [
        {
            "id": video.video_id,
            "text": _caption(video),
            "createTime": int(video.created_at.timestamp()),
            "authorMeta": {
                "id": video.author_id,
                "secUid": f"MS4wLjABAAAA{video.author_id}",
                "name": video.author,
                "nickName": video.author.title(),
                "verified": False,
                "signature": "",
                "avatar": "https://p16-sign-va.tiktokcdn.com/avatar.jpeg",
            },
            "musicMeta": _music(video),
            "covers": {"default": "https://p16-sign-va.tiktokcdn.com/cover.jpeg"},
            "webVideoUrl": f"https://www.tiktok.com/@{video.author}/video/{video.video_id}",
            "videoUrl": "https://v16-web.tiktok.com/video.mp4",
            "videoMeta": {"height": 1024, "width": 576, "duration": video.duration},
            "diggCount": video.views // 9,
            "shareCount": video.views // 200,
            "playCount": video.views,
            "commentCount": video.views // 150,
            "downloaded": False,
            "mentions": [],
            "hashtags": [
                {"id": str(index), "name": tag, "title": "", "cover": ""}
                for index, tag in enumerate(video.hashtags)
            ],
        }
        for video in planted_videos(
            videos=videos, newest=LEGACY_NEWEST_VIDEO, old_share=0.0, seed=seed
        )
    ]


def _caption(video: PlantedVideo) -> str:
    tags = " ".join(f"#{tag}" for tag in video.hashtags)
    action = " Follow for part 2!" if video.call_to_action else ""
    return f"What I read this week.{action} {tags}"


def _music(video: PlantedVideo) -> dict[str, Any]:
    return {
        "musicId": str(6_900_000_000_000_000_000 + int(video.video_id) % 997),
        "musicName": f"original sound - {video.author}" if video.original_sound else "Levitating",
        "musicAuthor": video.author if video.original_sound else "Dua Lipa",
        "musicOriginal": video.original_sound,
    }


def write_console_csv(items: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """The items as the Apify console's CSV: nested fields flattened into `authorMeta/fans`,
    `hashtags/0/name` columns (sorted), every cell of every row written, text quoted."""
    rows = [dict(_flattened(item)) for item in items]
    header = sorted({column for row in rows for column in row})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(header)
        writer.writerows([[_cell(row.get(column)) for column in header] for row in rows])
    return path


def _flattened(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        children: Any = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        yield prefix, value
        return
    for key, child in children:
        yield from _flattened(child, f"{prefix}/{key}" if prefix else str(key))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
