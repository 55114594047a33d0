"""`tiktok-virality dataset list | show | import | create`: the datasets in the registry (`delete`
and `prune` are in `dataset_removal.py`).

`list` and `show` only read the registry, without Dagster: they answer at once. The other commands
register or remove partitions in the Dagster instance, and import what that takes when they run."""

from __future__ import annotations

import argparse

from tiktok_virality.cli.dataset_settings import (
    apply_setting_flags,
    flagged_limits,
    flagged_thresholds,
)
from tiktok_virality.cli.describe import (
    count,
    describe_contents,
    describe_origin,
    describe_plan,
    describe_quality,
    describe_scrape_time,
    print_created,
)
from tiktok_virality.cli.errors import UsageError
from tiktok_virality.cli.run_log import say
from tiktok_virality.cli.session import Session, migrate_existing, open_session
from tiktok_virality.config import Settings, load_settings
from tiktok_virality.defs.datasets.registry_tables import (
    REGISTRY_SCHEMA,
    RegistryQueries,
    RegistryReader,
)


def command_dataset(args: argparse.Namespace) -> int:
    if args.dataset_command in ("delete", "prune"):
        # They look the dataset up before opening a session, so that a mistyped name writes nothing.
        from tiktok_virality.cli.dataset_removal import command_delete, command_prune

        return (command_delete if args.dataset_command == "delete" else command_prune)(args)
    settings = load_settings()
    if args.dataset_command == "list":
        _list_datasets(_registry_reader(settings))
        return 0
    if args.dataset_command == "show":
        _show_dataset(_registry_reader(settings), args)
        return 0
    with open_session(settings, offline=True) as session:
        if args.dataset_command == "import":
            _import_dataset(session, args)
        else:
            _create_dataset(session, args)
    return 0


def _registry_reader(settings: Settings) -> RegistryReader:
    migrate_existing(settings, [REGISTRY_SCHEMA])
    return RegistryReader(str(settings.database))


def _list_datasets(registry: RegistryQueries) -> None:
    for dataset in registry.list_datasets():
        print(
            f"{dataset.name}\t{dataset.kind}\t{describe_plan(registry, dataset.name)}"
            f"\tcreated {dataset.created_at:%Y-%m-%d %H:%M} UTC"
        )


def _show_dataset(registry: RegistryQueries, args: argparse.Namespace) -> None:
    dataset = registry.require(args.dataset)
    print(f"dataset {dataset.name}: {describe_origin(dataset.kind, dataset.origin)}")
    quality = describe_quality(dataset.thresholds.min_views, dataset.thresholds.max_age_days)
    print(f"{describe_contents(dataset, registry.export_video_counts(dataset.name))}; {quality}")
    if dataset.export_scraped_at is not None:
        print(describe_scrape_time(dataset))
    for batch in registry.batches(dataset.name):
        print(f"{batch}\t{' '.join(registry.batch_accounts(dataset.name, batch))}")


def _import_dataset(session: Session, args: argparse.Namespace) -> None:
    from tiktok_virality.defs.datasets import operations as datasets

    registry = session.registry
    datasets.import_export_file(
        session.instance,
        registry,
        args.dataset,
        args.file,
        scraped_at=args.scraped_at,
        batch_size=args.batch_size,
        batch_videos=args.batch_videos,
    )
    print_created(registry, args.dataset, f"from {args.file}")
    print(describe_scrape_time(registry.require(args.dataset)))


def _create_dataset(session: Session, args: argparse.Namespace) -> None:
    """A new dataset of the given accounts, or the accounts added to an existing one."""
    from tiktok_virality.defs.datasets import operations as datasets

    registry = session.registry
    if args.sample:
        _create_sample_dataset(session, args)
        return
    accounts = list(args.account)
    if args.accounts:
        accounts += datasets.read_accounts_file(args.accounts)
    if not accounts:
        raise UsageError("give accounts as arguments or with --accounts FILE")
    existing = registry.get(args.dataset)
    added = datasets.add_accounts(
        session.instance,
        registry,
        args.dataset,
        accounts,
        batch_size=args.batch_size,
        limits=flagged_limits(args, None),
        thresholds=flagged_thresholds(args, None),
    )
    if existing is None:
        print_created(registry, args.dataset, "from the given accounts")
        return
    say(
        f"added {count(len(added), 'new account')} to {args.dataset!r}: "
        f"{describe_plan(registry, args.dataset)}"
    )
    apply_setting_flags(registry, existing, args)


def _create_sample_dataset(session: Session, args: argparse.Namespace) -> None:
    from tiktok_virality.defs.datasets import operations as datasets
    from tiktok_virality.resources import media_cache

    if args.account or args.accounts:
        raise UsageError(
            "--sample makes a dataset of the bundled sample's accounts: give no others"
        )
    registry = session.registry
    datasets.create_sample_dataset(
        session.instance,
        registry,
        args.dataset,
        batch_size=args.batch_size,
        media=media_cache(session.settings),
    )
    print_created(registry, args.dataset, "from the bundled sample")
    apply_setting_flags(registry, registry.require(args.dataset), args)
