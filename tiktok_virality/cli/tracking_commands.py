"""`tiktok-virality track --dataset NAME --every 6h | --stop` and `tiktok-virality refresh
--dataset NAME`: tracking a dataset over time.

`track` only stores the cadence (the tracking store); the schedule `refresh_tracked_datasets`,
which the Dagster daemon of `tiktok-virality ui` runs, reads it. `refresh` scrapes every batch
again now, through the same graph: new snapshots, the videos posted since joining their batch,
only those analysed (the paid analyses are kept), the features and alerts, then the model and
report."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime

from rich.console import Console

from tiktok_virality.cli.describe import count, describe_model, describe_outcome
from tiktok_virality.cli.errors import EXIT_FAILED_PARTITIONS, EXIT_INTERRUPTED, UsageError
from tiktok_virality.cli.run_log import say
from tiktok_virality.cli.session import migrate_existing, open_session
from tiktok_virality.config import APIFY_TOKEN_VARIABLE, Settings, load_settings
from tiktok_virality.defs.datasets.dataset import Dataset, DatasetSource
from tiktok_virality.defs.datasets.registry_tables import REGISTRY_SCHEMA, RegistryReader
from tiktok_virality.defs.tracking.refresh import REFRESH_TAG, refresh_runs
from tiktok_virality.defs.tracking.schedule import REFRESH_SCHEDULE
from tiktok_virality.defs.tracking.store import TrackingStore
from tiktok_virality.defs.tracking.tables import TRACKING_SCHEMA


def command_track(args: argparse.Namespace) -> int:
    settings = load_settings()
    dataset = _trackable(settings, args.dataset)
    tracking = TrackingStore(database=str(settings.database))
    if args.stop:
        stopped = tracking.stop_tracking(dataset.name)
        say(
            f"{dataset.name}: no longer refreshed on a cadence"
            if stopped
            else f"{dataset.name} was not tracked: nothing to stop"
        )
        return 0
    tracking.track(dataset.name, args.every)
    say(
        f"{dataset.name}: refreshed every {args.every:g} h (an Apify run per batch each time) "
        f"while the Dagster daemon runs: `tiktok-virality ui` (schedule {REFRESH_SCHEDULE}, "
        f"Automation page); `tiktok-virality refresh --dataset {dataset.name}` refreshes it now, "
        f"`tiktok-virality track --dataset {dataset.name} --stop` stops"
    )
    return 0


def command_refresh(args: argparse.Namespace) -> int:
    settings = load_settings()
    dataset = _trackable(settings, args.dataset)
    if not settings.apify_token_set:
        raise UsageError(
            f"{APIFY_TOKEN_VARIABLE} is not set (in the environment or .env): a refresh scrapes "
            f"{dataset.name!r} again with Apify"
        )
    from tiktok_virality.cli.progress import RunProgress
    from tiktok_virality.cli.runner import PlannedRun, run_dataset_assets, run_partition
    from tiktok_virality.core.phases import PHASES

    with open_session(settings, offline=False) as session:
        session.defs.resources["analyzer"].preflight()
        tracking: TrackingStore = session.defs.resources["tracking"]
        alerts_before = len(tracking.alerts(dataset.name))
        refresh = tracking.request_refresh(
            dataset.name, requested_at=datetime.now(UTC), origin="cli"
        )
        runs = refresh_runs(dataset.name, session.registry.batches(dataset.name), refresh)
        say(f"{dataset.name}: refresh {refresh}, {count(len(runs), 'batch')}")
        planned = [PlannedRun(run.partition, PHASES) for run in runs]
        progress = RunProgress(planned, Console())
        outcomes = []
        with progress.shown():
            for position, plan in enumerate(planned, start=1):
                progress.running(plan.partition)
                outcome = run_partition(
                    session.instance, session.defs, plan, tags={REFRESH_TAG: str(refresh)}
                )
                progress.finished(outcome)
                outcomes.append(outcome)
                if outcome.interrupted:
                    say("interrupted: run the same command again to refresh", logging.WARNING)
                    return EXIT_INTERRUPTED
                say(
                    describe_outcome(outcome, position, len(planned)),
                    logging.INFO if outcome.success else logging.ERROR,
                )
        model = run_dataset_assets(session.instance, session.defs, dataset.name)
        say(describe_model(model), logging.INFO if model.success else logging.ERROR)
        new_alerts = len(tracking.alerts(dataset.name)) - alerts_before
        say(f"{count(new_alerts, 'new outlier alert')} (`tiktok-virality status` lists them)")
    failed = [outcome.partition for outcome in outcomes if not outcome.success]
    if failed:
        say(
            f"failed: {', '.join(map(str, failed))}; retry them (reusing this refresh's paid "
            f"runs) with: tiktok-virality run --dataset {dataset.name} --retry-failed",
            logging.WARNING,
        )
    return EXIT_FAILED_PARTITIONS if failed or not model.success else 0


def _trackable(settings: Settings, name: str) -> Dataset:
    """The dataset, if it exists and is a list of accounts (an export is one photograph: there
    is nothing to scrape again)."""
    migrate_existing(settings, [REGISTRY_SCHEMA, TRACKING_SCHEMA])
    dataset = RegistryReader(str(settings.database)).require(name)
    if dataset.source is DatasetSource.EXPORT:
        raise UsageError(
            f"dataset {name!r} was made from an export (or the bundled sample), which cannot be "
            "scraped again: track a dataset of accounts (`tiktok-virality dataset create "
            "--dataset NAME --accounts FILE`)"
        )
    return dataset
