"""Pay per event, as the fake Apify bills a run (see :mod:`.apify`): the actor's pricing record,
the events each run charges, and the cap a run stops at.

The facts, and where they come from:

- ``clockworks/tiktok-scraper`` is priced per event, and video downloads and date filters are
  charged add-ons (its input schema marks them "Charged add-on"; the Apify Store page of the actor).
  Notes and error items are not results, so nothing is charged for them.
- A pricing record of model ``PAY_PER_EVENT`` has ``apifyMarginPercentage``, ``createdAt``,
  ``startedAt`` and ``pricingPerEvent.actorChargeEvents`` (event → ``eventTitle``,
  ``eventDescription``, ``eventPriceUsd``): ``apify_client._models.PayPerEventActorPricingInfo``
  and ``ActorChargeEvent`` (apify-client 3.4), which validate them. The run carries it as
  ``pricingInfo``, the actor object as ``pricingInfos`` (its records, including past ones).
- A run reports ``chargedEventCounts`` (event → count) and ``usageTotalUsd`` ("what you actually
  pay"): ``apify_client._models.Run``; ``RunListItem.usageTotalUsd`` is required.
- ``maxTotalChargeUsd`` caps what a pay-per-event run charges, and ``maxItems`` caps only
  pay-per-result actors: the API reference's run options (apify-docs PR #2088, "Update maxItems
  and maxTotalChargeUsd desc"). The actor ends its run once the next event would pass the cap
  (apify-docs PR #1936, "Respect user spending limits": the SDK's ``ChargeResult`` tells it
  ``eventChargeLimitReached``), and the run still succeeds.
- ``apify-actor-start`` is the platform's synthetic start event, charged once per run.

The event names other than ``apify-actor-start`` and all the prices are ILLUSTRATIVE, not the
actor's list prices: the pipeline reads the real ones from the actor object (``pricingInfos``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .apify_protocol import iso

START_EVENT = "apify-actor-start"
RESULT_EVENT = "result"
VIDEO_DOWNLOAD_EVENT = "video-download"
DATE_FILTER_EVENT = "date-filter"
STOPPED_AT_CAP = "Maximum cost per run reached: the run ended before scraping everything"


@dataclass(frozen=True)
class ChargeEvent:
    title: str
    description: str
    price_usd: float


def _tiktok_scraper_events() -> dict[str, ChargeEvent]:
    return {
        START_EVENT: ChargeEvent("Actor start", "Charged once when the run starts", 0.00005),
        RESULT_EVENT: ChargeEvent("Result", "A video scraped", 0.0017),
        VIDEO_DOWNLOAD_EVENT: ChargeEvent(
            "Video download (add-on)", "A video file saved to the key-value store", 0.001
        ),
        DATE_FILTER_EVENT: ChargeEvent(
            "Date filter (add-on)", "A result checked against the date filter", 0.0006
        ),
    }


@dataclass(frozen=True)
class RunCharges:
    """What a run charged: the items it got to write, and the events it charged."""

    items: list[dict[str, Any]]
    counts: dict[str, int]
    total_usd: float
    stopped_at_cap: bool


@dataclass
class PayPerEvent:
    """The actor's pay-per-event pricing; set :attr:`FakeApify.pay_per_event` to ``None`` for an
    actor priced per result (then ``maxItems`` caps a run, as it did in 2025)."""

    events: dict[str, ChargeEvent] = field(default_factory=_tiktok_scraper_events)
    apify_margin_percentage: float = 0.2
    started_at: datetime = datetime(2025, 10, 1, tzinfo=UTC)

    def pricing_info(self) -> dict[str, Any]:
        """The pricing record, as ``pricingInfo`` of a run and an entry of ``pricingInfos``."""
        return {
            "pricingModel": "PAY_PER_EVENT",
            "apifyMarginPercentage": self.apify_margin_percentage,
            "createdAt": iso(self.started_at),
            "startedAt": iso(self.started_at),
            "pricingPerEvent": {
                "actorChargeEvents": {
                    name: {
                        "eventTitle": event.title,
                        "eventDescription": event.description,
                        "eventPriceUsd": event.price_usd,
                    }
                    for name, event in self.events.items()
                }
            },
        }

    def charge_run(
        self, items: list[dict[str, Any]], run_input: dict[str, Any], params: dict[str, str]
    ) -> RunCharges:
        """Charge the start, then each video's events in order, until the next video's would pass
        ``maxTotalChargeUsd``: the run stops there, its later items unwritten."""
        cap = float(params["maxTotalChargeUsd"]) if "maxTotalChargeUsd" in params else None
        counts: Counter[str] = Counter()
        total = 0.0
        per_video = [RESULT_EVENT]
        if run_input.get("shouldDownloadVideos"):
            per_video.append(VIDEO_DOWNLOAD_EVENT)
        if run_input.get("oldestPostDateUnified"):
            per_video.append(DATE_FILTER_EVENT)
        if cap is not None and self._price([START_EVENT]) > cap:
            return RunCharges([], {}, 0.0, stopped_at_cap=True)
        counts[START_EVENT] += 1
        total += self._price([START_EVENT])
        written: list[dict[str, Any]] = []
        for item in items:
            if is_video(item):
                events = [e for e in per_video if e != VIDEO_DOWNLOAD_EVENT or downloadable(item)]
                cost = self._price(events)
                # Rounded as money: float sums must not stop a run a hair below its cap.
                if cap is not None and round(total + cost, 9) > round(cap, 9):
                    return RunCharges(written, dict(counts), round(total, 9), stopped_at_cap=True)
                counts.update(events)
                total += cost
            written.append(item)
        return RunCharges(written, dict(counts), round(total, 9), stopped_at_cap=False)

    def _price(self, events: list[str]) -> float:
        return sum(self.events[event].price_usd for event in events if event in self.events)


def is_video(item: dict[str, Any]) -> bool:
    """A result: a video, not the actor's note or error item about an account."""
    return bool(item.get("id")) and "note" not in item and "error" not in item


def downloadable(item: dict[str, Any]) -> bool:
    """A video with a file (a slideshow's images are another add-on)."""
    return is_video(item) and not item.get("isSlideshow")
