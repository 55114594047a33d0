"""Profiles whose videos gather views on a clock the test controls, for the fake Apify
(:meth:`.apify.FakeApify.on_run`): each run returns the videos posted by the clock's time, with
their counts at that time, and finishes at that time (the run's ``finishedAt``, which the
pipeline takes as the scrape's time).

Views grow at ``views_per_hour`` over a video's first day, then at a quarter of that (a curve that
bends, so that interpolated and early velocities differ); likes, comments, shares and saves are
fixed fractions of the views. Items have no media: Gemini analyses their metadata."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .apify import posts_by_link
from .apify_run_object import RunScript

_FIRST_DAY_HOURS = 24.0
_LATER_RATE = 0.25


@dataclass(frozen=True)
class GrowingVideo:
    account: str
    video_id: str
    posted_at: datetime
    views_per_hour: float
    followers: int = 10_000

    def views_at(self, now: datetime) -> int:
        hours = (now - self.posted_at) / timedelta(hours=1)
        early = min(hours, _FIRST_DAY_HOURS) * self.views_per_hour
        later = max(hours - _FIRST_DAY_HOURS, 0) * self.views_per_hour * _LATER_RATE
        return round(early + later)


class GrowingProfiles:
    """The videos of some profiles and the clock their counts follow; a run handler."""

    def __init__(self, videos: list[GrowingVideo], now: datetime) -> None:
        self.videos = videos
        self.now = now

    def advance(self, hours: float) -> None:
        self.now += timedelta(hours=hours)

    def __call__(self, run_input: dict[str, Any], params: dict[str, str]) -> RunScript:
        if run_input.get("postURLs"):  # the videos linked (posted by now), not profiles
            posted = [self._item(video) for video in self.videos if video.posted_at <= self.now]
            return RunScript(
                items=posts_by_link(run_input["postURLs"], posted), finished_at=self.now
            )
        profiles = {str(profile).lstrip("@").lower() for profile in run_input.get("profiles", [])}
        items = [
            self._item(video)
            for video in self.videos
            if video.account in profiles and video.posted_at <= self.now
        ]
        return RunScript(items=items, finished_at=self.now)

    def _item(self, video: GrowingVideo) -> dict[str, Any]:
        views = video.views_at(self.now)
        posted = int(video.posted_at.timestamp())
        return {
            "id": video.video_id,
            "text": f"video {video.video_id} #tracking",
            "createTime": posted,
            "createTimeISO": video.posted_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "authorMeta": {"name": video.account, "fans": video.followers, "nickName": "x"},
            "musicMeta": {"musicName": "original sound", "musicOriginal": True, "musicId": "1"},
            "webVideoUrl": f"https://www.tiktok.com/@{video.account}/video/{video.video_id}",
            "videoMeta": {"duration": 20, "width": 576, "height": 1024},
            "playCount": views,
            "diggCount": views // 10,
            "commentCount": views // 100,
            "shareCount": views // 200,
            "collectCount": views // 50,
            "hashtags": [{"name": "tracking"}],
            "mentions": [],
            "isSlideshow": False,
            "isPinned": False,
            "isAd": False,
            "isSponsored": False,
            "input": video.account,
        }
