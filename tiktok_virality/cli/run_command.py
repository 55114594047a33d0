"""`tiktok-virality run --dataset NAME`: refuse what cannot run, create or update the dataset from
the flags, then run what is not done yet (`run_partitions.py`); every line said is logged too."""

import argparse

from tiktok_virality.cli.dataset_settings import (
    apply_setting_flags,
    flagged_limits,
    flagged_thresholds,
)
from tiktok_virality.cli.describe import count, print_created
from tiktok_virality.cli.dry_run import dry_run
from tiktok_virality.cli.errors import UsageError
from tiktok_virality.cli.run_log import say
from tiktok_virality.cli.run_partitions import run_partitions
from tiktok_virality.cli.session import Session, open_session
from tiktok_virality.config import (
    APIFY_TOKEN_VARIABLE,
    GEMINI_KEY_VARIABLES,
    Settings,
    load_settings,
)
from tiktok_virality.defs.datasets import operations as datasets
from tiktok_virality.defs.datasets.dataset import DEFAULT_BATCH_SIZE, Dataset, DatasetSource
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.datasets.registry_tables import (
    UnknownDatasetError,
    unknown_dataset_message,
)
from tiktok_virality.resources import media_cache


def command_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    flagged_thresholds(args, None)  # out-of-range settings are refused before anything is written
    _refuse_what_cannot_run(settings, args)
    if args.dry_run:
        return dry_run(settings, args)
    with open_session(settings, offline=args.offline) as session:
        # A key or model the analyzer cannot use stops the run before the scrape is paid for.
        session.defs.resources["analyzer"].preflight()
        dataset = _ensure_dataset(session, args)
        if not args.offline and not settings.gemini_key_set:
            say(
                f"note: {' or '.join(GEMINI_KEY_VARIABLES)} is not set: videos are analysed from "
                "their metadata only (the offline analyzer); set one to have Gemini watch them"
            )
        return run_partitions(session, dataset, args)


def _refuse_what_cannot_run(settings: Settings, args: argparse.Namespace) -> None:
    """Refuse, before writing anything, a dataset that does not exist and is not asked for, and a
    run that needs scraping but cannot scrape."""
    registry = DatasetRegistry(database=str(settings.database))
    existing = registry.get(args.dataset)
    if existing is None and not args.accounts:
        _refuse_unknown_dataset(registry, args)
    if not (args.accounts or (existing and existing.source is DatasetSource.ACCOUNTS)):
        return
    if args.offline:
        raise UsageError(
            f"dataset {args.dataset!r} is a list of accounts to scrape, which --offline cannot do; "
            "run it without --offline, or use an imported export or the bundled sample"
        )
    if not settings.apify_token_set:
        raise UsageError(
            f"{APIFY_TOKEN_VARIABLE} is not set (in the environment or .env): set it to scrape "
            f"{args.dataset!r} with Apify, or add --offline to run on the bundled sample or an "
            "imported export without external calls"
        )


def _refuse_unknown_dataset(registry: DatasetRegistry, args: argparse.Namespace) -> None:
    """Only an explicit request creates a dataset: `--accounts`, or the bundled sample under the
    quick start's name with `--offline`. Any other unknown name is most often a typo."""
    if args.dataset != datasets.SAMPLE_DATASET:
        names = registry.names()
        message = unknown_dataset_message(args.dataset, names)
        if datasets.SAMPLE_DATASET not in names:
            message += (
                "; or run the quick start's sample: `tiktok-virality run --dataset "
                f"{datasets.SAMPLE_DATASET} --offline`"
            )
        raise UnknownDatasetError(message)
    if not args.offline:
        raise UsageError(
            f"dataset {args.dataset!r} does not exist yet: `tiktok-virality run --dataset "
            f"{args.dataset} --offline` creates it from the bundled sample, or give --accounts FILE "
            "to scrape accounts into it"
        )


def _ensure_dataset(session: Session, args: argparse.Namespace) -> Dataset:
    """The dataset to run: created from the flags if it does not exist, else updated by them."""
    registry = session.registry
    dataset = registry.get(args.dataset)
    batch_size = args.batch_size or (dataset.batch_size if dataset else DEFAULT_BATCH_SIZE)
    if dataset is None:
        _create_dataset(session, args, batch_size)
        apply_setting_flags(registry, registry.require(args.dataset), args)
        return registry.require(args.dataset)
    _update_dataset(session, dataset, args, batch_size)
    return registry.require(args.dataset)


def _create_dataset(session: Session, args: argparse.Namespace, batch_size: int) -> None:
    registry = session.registry
    if args.accounts:
        datasets.add_accounts(
            session.instance,
            registry,
            args.dataset,
            datasets.read_accounts_file(args.accounts),
            batch_size=batch_size,
            limits=flagged_limits(args, None),
            thresholds=flagged_thresholds(args, None),
        )
        print_created(registry, args.dataset, f"from {args.accounts}")
    else:  # the bundled sample under its own name (`_refuse_unknown_dataset`)
        datasets.create_sample_dataset(
            session.instance,
            registry,
            args.dataset,
            batch_size=batch_size,
            media=media_cache(session.settings),
        )
        print_created(registry, args.dataset, "from the bundled sample")


def _update_dataset(
    session: Session, dataset: Dataset, args: argparse.Namespace, batch_size: int
) -> None:
    """New accounts from `--accounts` in new batches, and the setting flags stored."""
    registry = session.registry
    if args.accounts:
        added = datasets.add_accounts(
            session.instance,
            registry,
            args.dataset,
            datasets.read_accounts_file(args.accounts),
            batch_size=batch_size,
        )
        say(f"added {count(len(added), 'new account')} to {args.dataset!r} in new batches")
    elif args.batch_size and args.batch_size != dataset.batch_size:
        say(
            f"note: the batch plan of {args.dataset!r} is pinned ({dataset.batch_size} per batch); "
            "--batch-size applies to accounts added later"
        )
    apply_setting_flags(registry, dataset, args)
    datasets.sync_partitions(session.instance, registry, args.dataset)
