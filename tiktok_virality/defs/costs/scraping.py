"""The scraping phase's costs: each Apify run started within the dataset's budget (and capped at
what is left of it, Apify's `max_total_charge_usd`), and each finished run's charges recorded as
Apify reports them (`chargedEventCounts`, `usageTotalUsd`)."""

from __future__ import annotations

from dataclasses import replace

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.costs.budget import check_budget
from tiktok_virality.defs.costs.ledger import CostEntry, CostLedger, Service, UsdSource
from tiktok_virality.defs.costs.pricing import event_counts_usd, expected_event_counts
from tiktok_virality.defs.datasets.dataset import Dataset
from tiktok_virality.defs.scraping.apify import ApifyVideoSource
from tiktok_virality.defs.scraping.sources import ActorRunCharges, ScrapeRequest, VideoSource


def expected_results(accounts: int, videos_per_account: int, max_videos: int) -> int:
    """The videos a batch's run is expected to return: each account's latest, within what the
    dataset may still hold."""
    return min(accounts * videos_per_account, max_videos)


def actor_run_estimate(source: ApifyVideoSource, request: ScrapeRequest) -> float:
    """An actor run's expected charges at the actor's current prices, with the add-ons the
    source asks for (a slideshow downloads nothing: counting every result errs high)."""
    prices = source.event_prices()
    results = expected_results(
        len(request.accounts), request.videos_per_account, request.max_videos
    )
    counts = expected_event_counts(
        prices,
        results=results,
        downloads=results if source.download_videos else 0,
        date_filter=source.date_filter,
    )
    return event_counts_usd(counts, prices)


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
    ledger: CostLedger, partition: VideoPartition, charges: ActorRunCharges | None
) -> None:
    """The run's charges, Apify's own figures (none for exports)."""
    if charges is None:
        return
    ledger.record(
        [
            CostEntry(
                partition=partition,
                phase=Phase.SCRAPING,
                service=Service.APIFY,
                model_or_actor=charges.actor_id,
                unit_id=charges.run_id,
                units={
                    "charged_event_counts": charges.charged_event_counts,
                    "usage_total_usd": charges.usage_total_usd,
                },
                usd=charges.usage_total_usd,
                usd_source=UsdSource.SERVICE
                if charges.usage_total_usd is not None
                else UsdSource.UNKNOWN,
            )
        ]
    )
