"""`tiktok-virality run … --dry-run`: what the run would do and what it would cost, then nothing.

It reads the dataset (or the accounts file that would make it), the Dagster instance's partition
states, the stored videos and the analysis cache; it asks Apify for the actor's event prices and
nothing else: no actor run, no Gemini call, no row written, no dataset registered."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tiktok_virality.cli.dataset_settings import flagged_limits, flagged_thresholds
from tiktok_virality.cli.describe import count
from tiktok_virality.cli.partition_status import partition_states
from tiktok_virality.cli.run_log import say
from tiktok_virality.cli.runner import plan_runs
from tiktok_virality.cli.session import open_instance
from tiktok_virality.config import GEMINI_PRICES_AS_OF, Settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION
from tiktok_virality.defs.costs.estimate import (
    AnalysisEstimate,
    PlannedScrape,
    ScrapeEstimate,
    analysis_estimate,
    scrape_estimate,
)
from tiktok_virality.defs.costs.ledger import spent
from tiktok_virality.defs.costs.scraping import expected_results
from tiktok_virality.defs.datasets import operations as datasets
from tiktok_virality.defs.datasets.dataset import (
    DEFAULT_BATCH_SIZE,
    Dataset,
    DatasetSource,
    plan_new_accounts,
)
from tiktok_virality.defs.datasets.registry_tables import RegistryReader
from tiktok_virality.defs.media.cache import MediaCache
from tiktok_virality.defs.scraping.apify import ApifyVideoSource
from tiktok_virality.defs.scraping.batch import process_batch
from tiktok_virality.defs.scraping.sources import ScrapeRequest
from tiktok_virality.warehouse.queries import stored_video_count
from tiktok_virality.warehouse.storage import connect, table_exists
from tiktok_virality.warehouse.tables import RAW_VIDEOS


@dataclass(frozen=True)
class PlannedBatch:
    batch: str
    accounts: list[str]
    phases: tuple[Phase, ...]


@dataclass
class DryRunPlan:
    """The batches a run would work on, and the videos it would have analysed."""

    batches: list[PlannedBatch] = field(default_factory=list)
    scrapes: list[PlannedScrape] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)


def dry_run(settings: Settings, args: argparse.Namespace) -> int:
    from tiktok_virality.resources import build_resources

    resources = build_resources(settings, offline=args.offline)
    scraper = _price_reader(settings, resources)
    registry = RegistryReader(str(settings.database))
    dataset = registry.get(args.dataset)
    batches = list(_planned_batches(settings, registry, dataset, args))
    source = dataset.source if dataset else DatasetSource.ACCOUNTS
    if args.accounts is None and dataset is None:
        source = DatasetSource.EXPORT  # the bundled sample, made under its name offline
    plan = _videos(settings, registry, dataset, batches, args, resources["media_cache"])
    analyzer = resources["analyzer"]
    scraping = (
        scrape_estimate(
            scraper.event_prices(),
            plan.scrapes,
            download=scraper.download_videos,
            date_filter=scraper.date_filter,
        )
        if source is DatasetSource.ACCOUNTS and scraper is not None
        else ScrapeEstimate()
    )
    watches = isinstance(analyzer, GeminiAnalyzer)
    analysis = _analysis(analyzer, plan.videos) if watches else AnalysisEstimate()
    for line in _describe(args, dataset, plan, scraping, analysis, settings):
        say(line)
    return 0


def _price_reader(settings: Settings, resources: dict[str, Any]) -> ApifyVideoSource | None:
    """The live scraper, holding its token's value: outside a Dagster run its `EnvVar` is not
    resolved, and the prices are read from the CLI itself. None offline or without a token."""
    from tiktok_virality.resources import apify_video_source

    if not isinstance(resources["scraper"], ApifyVideoSource) or settings.apify_token is None:
        return None
    return apify_video_source(
        settings, resources["scrape_ledger"], token=settings.apify_token.get_secret_value()
    )


def _planned_batches(
    settings: Settings, registry: RegistryReader, dataset: Dataset | None, args: argparse.Namespace
) -> Iterator[PlannedBatch]:
    """The stored batches the run would resume (as `run` plans them), then the new accounts'."""
    planned: dict[str, str] = {}
    if dataset is not None:
        planned = registry.plan(dataset.name)
        partitions = [VideoPartition(dataset.name, b) for b in registry.batches(dataset.name)]
        with open_instance(settings) as instance:
            runs = plan_runs(
                partition_states(instance, partitions),
                retry_failed=args.retry_failed or args.retry_phase is not None,
                retry_phase=Phase(args.retry_phase) if args.retry_phase else None,
            ).runs
        for run in runs:
            accounts = registry.batch_accounts(dataset.name, run.partition.batch)
            yield PlannedBatch(run.partition.batch, accounts, run.phases)
    if args.accounts:
        batch_size = args.batch_size or (dataset.batch_size if dataset else DEFAULT_BATCH_SIZE)
        new: dict[str, list[str]] = {}
        for account in plan_new_accounts(
            planned, datasets.read_accounts_file(args.accounts), batch_size
        ):
            new.setdefault(account.batch, []).append(account.account)
        for batch, accounts in new.items():
            yield PlannedBatch(batch, accounts, tuple(Phase))


def _videos(
    settings: Settings,
    registry: RegistryReader,
    dataset: Dataset | None,
    batches: list[PlannedBatch],
    args: argparse.Namespace,
    media: MediaCache,
) -> DryRunPlan:
    """The videos each batch would have analysed: those stored for a batch already scraped; an
    export's, through quality control; an account's latest, of unknown length (counted at the
    cap on seconds watched), within the dataset's max total videos. A batch scraped again
    downloads only the videos whose files the media cache does not hold."""
    plan = DryRunPlan(batches)
    limits = flagged_limits(args, dataset)
    room = limits.max_total_videos - stored_video_count(settings.database, args.dataset)
    for planned in batches:
        if Phase.SCRAPING not in planned.phases:
            if Phase.ANALYSIS in planned.phases:
                plan.videos += _stored_videos(settings, args.dataset, planned.batch)
            continue
        request = ScrapeRequest(
            dataset=args.dataset,
            batch=planned.batch,
            accounts=tuple(planned.accounts),
            videos_per_account=limits.videos_per_account,
            max_videos=max(room, 0),
            max_age_days=flagged_thresholds(args, dataset).max_age_days,
        )
        if dataset is not None and dataset.source is DatasetSource.EXPORT:
            assert dataset.export_scraped_at is not None
            batch = process_batch(
                registry.export_items(dataset.name, planned.accounts),
                request=request,
                scraped_at=dataset.export_scraped_at,
                thresholds=dataset.thresholds,
            )
            plan.videos += batch.accepted.to_dict("records")
            room -= len(batch.accepted)
            continue
        results = expected_results(len(planned.accounts), limits.videos_per_account, room)
        stored = _stored_videos(settings, args.dataset, planned.batch)
        cached = media.cached_ids(str(video["video_id"]) for video in stored)
        plan.scrapes.append(PlannedScrape(results, len(cached)))
        plan.videos += [{"video_id": f"{planned.batch}-{n}"} for n in range(results)]
        room -= results
    return plan


def _stored_videos(settings: Settings, dataset: str, batch: str) -> list[dict[str, Any]]:
    if not settings.database.exists():
        return []
    with connect(settings.database, read_only=True) as connection:
        if not table_exists(connection, RAW_VIDEOS.name):
            return []
        frame = connection.execute(
            f"SELECT * FROM {RAW_VIDEOS.name} WHERE dataset = ? AND batch = ?", [dataset, batch]
        ).df()
    return frame.to_dict("records")


def _analysis(analyzer: GeminiAnalyzer, videos: list[dict[str, Any]]) -> AnalysisEstimate:
    """The videos Gemini would be paid for: those without an analysis by this model, schema and
    controls, nor given up on."""
    ids = [str(video["video_id"]) for video in videos]
    done = set(
        analyzer.cache.cached_analyses(
            ids,
            model=analyzer.model,
            schema_version=SCHEMA_VERSION,
            settings=analyzer.controls.fingerprint,
        )
    )
    done |= {
        video_id
        for video_id, failure in analyzer.cache.analysis_failures(
            ids, model=analyzer.model, schema_version=SCHEMA_VERSION
        ).items()
        if failure.permanent
    }
    todo = [video for video in videos if str(video["video_id"]) not in done]
    return analysis_estimate(analyzer.controls, analyzer.model, todo, len(videos) - len(todo))


def _describe(
    args: argparse.Namespace,
    dataset: Dataset | None,
    plan: DryRunPlan,
    scraping: ScrapeEstimate,
    analysis: AnalysisEstimate,
    settings: Settings,
) -> Iterator[str]:
    yield f"dry run of {args.dataset!r}: nothing is started, paid for or written"
    if dataset is None and not args.accounts:
        yield "  the dataset does not exist yet: the run would make it from the bundled sample"
        yield "  partitions to materialize: every batch of the sample"
    else:
        if dataset is None:
            yield "  the dataset does not exist yet: the run would create it"
        names = ", ".join(batch.batch for batch in plan.batches) or "none"
        yield f"  partitions to materialize: {len(plan.batches)} ({names})"
    if args.offline:
        yield "  offline: no external calls, so nothing is paid: estimated cost $0"
        return
    if scraping.actor_runs:
        yield (
            f"  scraping: {count(scraping.actor_runs, 'Apify actor run')}, about "
            f"{count(scraping.results, 'result')} and {count(scraping.downloads, 'download')}: "
            f"about ${scraping.usd:.4f} at the actor's event prices"
        )
        yield (
            "  (accounts not scraped yet count at their full share of videos, each watched up to "
            f"the {settings.gemini_max_video_seconds:g}-s cap: an upper bound, as private or "
            "empty accounts and shorter videos cost less)"
        )
    elif dataset is not None and dataset.source is DatasetSource.EXPORT:
        yield "  scraping: no Apify run (an export's videos are stored): $0"
    else:
        yield "  scraping: no Apify run (no batch left to scrape): $0"
    yield _describe_analysis(analysis)
    total = scraping.usd + (analysis.usd or 0.0)
    yield f"  total: about ${total:.4f}" + (
        f" (Gemini at the price table of {GEMINI_PRICES_AS_OF}, an estimate)"
        if analysis.videos
        else ""
    )
    budget = flagged_limits(args, dataset).max_cost_usd
    if budget is not None:
        so_far = spent(str(settings.database), args.dataset)
        verdict = "fits" if so_far + total <= budget else "would stop the run when used up"
        yield f"  budget: ${budget:.4f}, ${so_far:.4f} spent so far: this run {verdict}"


def _describe_analysis(analysis: AnalysisEstimate) -> str:
    if not analysis.videos:
        cached = (
            f" ({analysis.already_analysed} already analysed)" if analysis.already_analysed else ""
        )
        return f"  analysis: no Gemini call{cached}: $0"
    usage = analysis.usage
    cost = "no price on record" if analysis.usd is None else f"about ${analysis.usd:.4f}"
    return (
        f"  analysis: {count(analysis.videos, 'video')} for Gemini "
        f"({analysis.already_analysed} already analysed), about {usage.prompt:,} input, "
        f"{usage.output:,} output and {usage.thinking:,} thinking tokens: {cost}"
    )
