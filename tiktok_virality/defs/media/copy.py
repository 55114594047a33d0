"""Copying a batch's video files into the media cache, right after its scrape: Apify deletes the
run's key-value store that holds them after its retention period (see `cache.py`).

Resumable: a video already cached is not fetched again, so a retried batch copies only what is
missing. A file that cannot be had (already expired, or never downloaded) is counted and left to
analysis, which then works from the video's metadata and says so."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tiktok_virality.defs.media.cache import MediaCache

# A progress line every this many files: a batch of 50 accounts may hold 750 videos.
PROGRESS_EVERY = 25


@dataclass(frozen=True)
class CopyOutcome:
    copied: int
    already_cached: int
    unavailable: int
    bytes_copied: int

    def describe(self) -> str:
        return (
            f"media cache: {self.copied} video files copied ({self.bytes_copied / 1e6:,.1f} MB), "
            f"{self.already_cached} already cached, {self.unavailable} not available"
        )


def copy_videos(
    videos: Sequence[tuple[str, str]],
    cache: MediaCache,
    fetch: Callable[[str], bytes | None],
    log: logging.Logger,
) -> CopyOutcome:
    """Copy each (video id, file URL) not cached yet, with `fetch` (None: the file is gone)."""
    wanted = dict(videos)  # a video listed twice is copied once
    cached = cache.cached_ids(wanted)
    missing = [(video_id, url) for video_id, url in wanted.items() if video_id not in cached]
    copied = unavailable = size = 0
    for done, (video_id, url) in enumerate(missing, start=1):
        data = fetch(url)
        if data is None:
            unavailable += 1
        else:
            cache.put(video_id, data)
            copied += 1
            size += len(data)
        if done % PROGRESS_EVERY == 0 and done < len(missing):
            log.info(f"media cache: {done} of {len(missing)} video files copied")
    return CopyOutcome(copied, len(cached), unavailable, size)
