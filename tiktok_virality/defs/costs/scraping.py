"""The scraping phase's costs: each Apify run started within the dataset's budget (and capped at
what is left of it, Apify's `max_total_charge_usd`), and each finished run's charges recorded as
Apify reports them (`chargedEventCounts`, `usageTotalUsd`): the batch's run, and the run that
downloads a refresh's new videos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.costs.budget import check_budget
from tiktok_virality.defs.costs.estimate import PlannedScrape, scrape_estimate
from tiktok_virality.defs.costs.ledger import CostEntry, CostLedger, Service, UsdSource
from tiktok_virality.defs.datasets.dataset import Dataset
from tiktok_virality.defs.scraping.apify import ApifyVideoSource
from tiktok_virality.defs.scraping.sources import ActorRunCharges, ScrapeRequest, VideoSource


def expected_results(accounts: int, videos_per_account: int, max_videos: int) -> int:
    """The videos a batch's run is expected to return: each account's latest, within what the
    dataset may still hold."""
    return min(accounts * videos_per_account, max_videos)


def actor_run_estimate(source: ApifyVideoSource, request: ScrapeRequest) -> float:
    """The scrape's expected charges at the actor's current prices, with the add-ons the source
    asks for, downloading only the videos not cached yet (`new_downloads.py`; a slideshow
    downloads nothing: counting every result errs high)."""
    prices = source.event_prices()
    results = expected_results(
        len(request.accounts), request.videos_per_account, request.max_videos
    )
    cached = (
        len(source.media_cache.cached_ids(request.known_videos))
        if source.download_videos and source.media_cache is not None
        else 0
    )
    estimate = scrape_estimate(
        prices,
        [PlannedScrape(results, cached)],
        download=source.download_videos,
        date_filter=source.date_filter,
    )
    return estimate.usd


def budgeted_request(
    ledger: CostLedger, dataset: Dataset, source: VideoSource, request: ScrapeRequest
) -> ScrapeRequest:
    """The request, capped at what is left of the dataset's budget; BudgetReached if the run's
    estimate would pass it. Exports cost nothing; without a budget nothing is capped."""
    budget = dataset.limits.max_cost_usd
    if budget is None or not isinstance(source, ApifyVideoSource):
        return request
    spent = ledger.spent(dataset.name)
    check_budget(
        dataset.name,
        budget,
        spent,
        actor_run_estimate(source, request),
        f"the Apify run of {request.batch} ({len(request.accounts)} accounts)",
    )
    return replace(request, max_charge_usd=round(budget - spent, 6))


def record_actor_run(
    ledger: CostLedger, partition: VideoPartition, charges: Sequence[ActorRunCharges]
) -> None:
    """Each of the scrape's actor runs' charges, Apify's own figures (none for exports)."""
    ledger.record(
        [
            CostEntry(
                partition=partition,
                phase=Phase.SCRAPING,
                service=Service.APIFY,
                model_or_actor=run.actor_id,
                unit_id=run.run_id,
                units={
                    "charged_event_counts": run.charged_event_counts,
                    "usage_total_usd": run.usage_total_usd,
                },
                usd=run.usage_total_usd,
                usd_source=UsdSource.SERVICE
                if run.usage_total_usd is not None
                else UsdSource.UNKNOWN,
            )
            for run in charges
        ]
    )
