"""What the TikTok scraper actor is to us: the input a batch's run is started with (and the paid
add-ons it asks for), how it prices its events, what a run charged, and where it keeps the video
files it downloads. Pure functions of what the Apify API answers, apart from the source that calls
it (`apify.py`).

The actor, `clockworks/tiktok-scraper`, is paid per event: what a run costs is the events it
charges (`chargedEventCounts`), whatever `maxItems` says (a cap of pay-per-result actors only);
the cap of a pay-per-event run is `max_total_charge_usd` on `start()` (apify-client 3.4's
`ActorClient.start`; the API reference's `maxTotalChargeUsd`, apify-docs PR #2088)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from tiktok_virality.core.urls import same_origin
from tiktok_virality.defs.scraping.normalize import item_video_id, item_video_url
from tiktok_virality.defs.scraping.sources import ActorRunCharges, ScrapeRequest

if TYPE_CHECKING:  # the client's models live in a private module; only their fields are used
    from apify_client._models import Run


@dataclass(frozen=True)
class ActorOptions:
    """The actor's options that change what a run costs. The actor is paid per event, and video
    downloads and the date filter are charged add-ons, paid per video (its input schema; the
    README's Apify section has the figures), so each is sent only when it is worth its price."""

    # Only when the analyzer watches the videos (not offline, not without a Gemini key).
    download_videos: bool
    # Apify's date filter drops videos older than the max age before they are paid as results,
    # but is paid itself for every video: worth it for accounts that post rarely. Off, quality
    # control rejects the old videos instead (paid as results, and downloaded if downloading).
    date_filter: bool = False
    # Pinned posts are old, popular and picked by the creator: rejected or unrepresentative, so
    # not worth paying for. Excluding them is a free option of the actor.
    exclude_pinned_posts: bool = True


def actor_input(request: ScrapeRequest, options: ActorOptions) -> dict[str, Any]:
    """The TikTok scraper's input for one batch: its accounts' latest videos, with the paid
    add-ons `options` asks for and none other.

    Each account gets an equal share of the batch's video budget, so that a dataset close to its
    max total videos does not spend it all on the first profiles of the run."""
    share = math.ceil(request.max_videos / len(request.accounts))
    run_input: dict[str, Any] = {
        "profiles": list(request.accounts),
        "profileScrapeSections": ["videos"],
        "profileSorting": "latest",
        "resultsPerPage": min(request.videos_per_account, share),
        "excludePinnedPosts": options.exclude_pinned_posts,
        "shouldDownloadVideos": options.download_videos,
        "shouldDownloadCovers": False,
        "shouldDownloadSubtitles": False,
        "shouldDownloadSlideshowImages": False,
    }
    if options.date_filter:
        run_input["oldestPostDateUnified"] = f"{request.max_age_days} days"
    return run_input


def downloads_input(post_urls: list[str]) -> dict[str, Any]:
    """The TikTok scraper's input for a run that downloads these videos only (a refresh's new
    videos): the videos by their TikTok URLs, with the download add-on and no other.

    `postURLs` is the actor's input for single videos. Neither the docs nor the pages corpora
    searched hold a copy of `clockworks/tiktok-scraper`'s input schema; public code calling the
    actor passes video links so (e.g. `{"postURLs": [url], "resultsPerPage": 1,
    "shouldDownloadVideos": false, ...}` posted to the actor's `run-sync-get-dataset-items`, and
    `client.actor("clockworks/tiktok-scraper").call(run_input={"postURLs": [url], ...})`), and
    returns one item per video, as a profile scrape does."""
    return {
        "postURLs": list(post_urls),
        "shouldDownloadVideos": True,
        "shouldDownloadCovers": False,
        "shouldDownloadSubtitles": False,
        "shouldDownloadSlideshowImages": False,
    }


def key_value_record(url: str, api_url: str) -> tuple[str, str] | None:
    """The key-value store and key of a video file the actor saved (its item's `mediaUrls`:
    `{api}/v2/key-value-stores/{store}/records/{key}`); None for any other link (TikTok's own).
    The one place that knows how Apify names those records."""
    if not same_origin(url, api_url):
        return None
    match urlsplit(url).path.split("/"):
        case ["", "v2", "key-value-stores", store, "records", key] if store and key:
            return unquote(store), unquote(key)
    return None


def downloaded_videos(items: list[dict[str, Any]], api_url: str) -> list[tuple[str, str]]:
    """(video id, file URL) of each video the run saved in its key-value store."""
    videos = []
    for item in items:
        video_id, url = item_video_id(item), item_video_url(item)
        if video_id and url and key_value_record(url, api_url):
            videos.append((video_id, url))
    return videos


def run_charges(actor_id: str, run: Run) -> ActorRunCharges:
    """What the finished run charged, as Apify reports it (`Run.chargedEventCounts`,
    `Run.usageTotalUsd`: apify-client's models)."""
    return ActorRunCharges(
        actor_id=actor_id,
        run_id=run.id,
        charged_event_counts=dict(run.charged_event_counts or {}),
        usage_total_usd=run.usage_total_usd,
    )


def current_event_prices(pricing_infos: list[Any] | None, now: datetime) -> dict[str, float]:
    """The price in US dollars of each flat-priced event of the actor's pay-per-event pricing in
    force at `now`: the latest `PAY_PER_EVENT` record of `pricingInfos` started by then (the
    actor object keeps past records too). Empty for an actor not paid per event."""
    in_force = [
        info
        for info in pricing_infos or []
        if getattr(info, "pricing_model", None) == "PAY_PER_EVENT" and info.started_at <= now
    ]
    if not in_force:
        return {}
    latest = max(in_force, key=lambda info: info.started_at)
    events = latest.pricing_per_event.actor_charge_events or {}
    return {
        name: event.event_price_usd
        for name, event in events.items()
        if event.event_price_usd is not None
    }
