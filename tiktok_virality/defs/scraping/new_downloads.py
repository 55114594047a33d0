"""Downloads only for new videos: a refresh pays the download add-on for the videos the media
cache does not hold yet, not for every video its run returns again.

The actor charges the add-on per video downloaded (`apify_actor.ActorOptions`), and cannot be
asked to download some of a profile's videos only. So when a scrape would download videos and
some of the batch's known videos (`ScrapeRequest.known_videos`) are cached already, typically a
refresh, the batch's run goes without the add-on, and a second run, given just the videos not
cached yet by their TikTok links (`apify_actor.downloads_input`), downloads those. A first scrape
(nothing cached) stays one run with downloads.

The second run is paid like the first and follows the same ledger rules (`apify.py`): it is known
by a fingerprint of its own, derived from the batch run's (so it does not move when a retry finds
some of its files copied already), remembered as soon as it starts, and resumed or reused by a
retry, which then copies only the files still missing."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.media.cache import MediaCache
from tiktok_virality.defs.scraping.apify_actor import ActorOptions, downloads_input
from tiktok_virality.defs.scraping.normalize import item_video_id
from tiktok_virality.defs.scraping.sources import ActorRunCharges, ScrapeRequest

if TYPE_CHECKING:  # the client's models live in a private module; only their fields are used
    from apify_client import ApifyClient
    from apify_client._models import Run

    from tiktok_virality.defs.scraping.apify import ApifyVideoSource


@dataclass(frozen=True)
class RunLimits:
    """What a run is started with: the most it may charge (None: no cap), and its max items."""

    max_charge_usd: float | None
    max_items: int


@dataclass(frozen=True)
class FinishedRun:
    run: Run
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class DownloadPlan:
    """The batch run's options, and whether a second run downloads the new videos."""

    batch_options: ActorOptions
    split: bool


def plan_downloads(
    request: ScrapeRequest, options: ActorOptions, cache: MediaCache | None
) -> DownloadPlan:
    """Split when the scrape would download and the cache holds some of the batch's known
    videos. Known videos are those of earlier scrapes only, so a retry plans as its attempt did
    (the same batch run input, the same ledger fingerprint)."""
    split = (
        options.download_videos
        and cache is not None
        and bool(cache.cached_ids(request.known_videos))
    )
    return DownloadPlan(replace(options, download_videos=False) if split else options, split)


def new_video_links(items: list[dict[str, Any]], cache: MediaCache) -> list[str]:
    """The TikTok links of the items' videos whose files are not cached, in the run's order.
    Slideshows are left out: they have no video file (their images are another add-on), so they
    would never be cached and be paid for at every refresh."""
    links: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):  # a garbage item (a string, a number) is no video
            continue
        video_id, link = item_video_id(item), item.get("webVideoUrl")
        if video_id and isinstance(link, str) and link and not _slideshow(item):
            links.setdefault(video_id, link)
    cached = cache.cached_ids(links)
    return [link for video_id, link in links.items() if video_id not in cached]


def downloads_fingerprint(batch_fingerprint: str) -> str:
    """What the ledger knows the batch run's downloads run by."""
    return hashlib.sha256(f"new-downloads:{batch_fingerprint}".encode()).hexdigest()


def remaining_cap(limits: RunLimits, spent: ActorRunCharges) -> float | None:
    """What the downloads run may still charge once the batch run charged `spent`."""
    if limits.max_charge_usd is None:
        return None
    return max(round(limits.max_charge_usd - (spent.usage_total_usd or 0.0), 6), 0.0)


def download_new_videos(
    source: ApifyVideoSource,
    client: ApifyClient,
    partition: VideoPartition,
    batch_fingerprint: str,
    items: list[dict[str, Any]],
    limits: RunLimits,
    batch_charges: ActorRunCharges,
    log: logging.Logger,
) -> FinishedRun | None:
    """Download the batch's new videos by a run of their own and copy them into the media cache;
    the finished run, or None when no video is new (and no earlier attempt started a run)."""
    assert source.media_cache is not None  # a split needs a cache (`plan_downloads`)
    links = new_video_links(items, source.media_cache)
    run_input = downloads_input(links)
    # Without new videos, a run an earlier attempt started is still reused (its charges are the
    # scrape's), but none is started.
    start_limits = (
        RunLimits(remaining_cap(limits, batch_charges), 2 * len(links)) if links else None
    )
    fingerprint = downloads_fingerprint(batch_fingerprint)
    finished = source.completed_run(client, partition, fingerprint, run_input, start_limits, log)
    if finished is None:
        log.info(f"{partition}: every video's file is cached already: nothing to download")
        return None
    log.info(
        f"{partition}: Apify run {finished.run.id} downloads the new videos only "
        f"({len(links)} not cached yet); the known ones are cached"
    )
    source.copy_downloads(client, finished.items, log)
    return finished


def with_downloads(
    items: list[dict[str, Any]], downloaded: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The batch run's items, each new video's with the link to its file that the downloads run
    saved (`mediaUrls`), as a first scrape's items have: `raw_videos` then tells where it is."""
    links = {
        item_video_id(item): item["mediaUrls"]
        for item in downloaded
        if isinstance(item, dict) and item.get("mediaUrls")
    }
    return [
        {**item, "mediaUrls": links[video_id]}
        if isinstance(item, dict) and (video_id := item_video_id(item)) in links
        else item
        for item in items
    ]


def _slideshow(item: dict[str, Any]) -> bool:
    return bool(item.get("isSlideshow")) or bool(item.get("slideshowImageLinks"))
