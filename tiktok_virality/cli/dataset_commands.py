"""`tiktok-virality dataset list | show | import | create`: the datasets in the registry."""

import argparse

from tiktok_virality.cli.dataset_settings import (
    apply_setting_flags,
    flagged_limits,
    flagged_thresholds,
)
from tiktok_virality.cli.describe import (
    count,
    describe_plan,
    describe_scrape_time,
    print_created,
)
from tiktok_virality.cli.errors import UsageError
from tiktok_virality.cli.session import Session, open_session
from tiktok_virality.config import load_settings
from tiktok_virality.defs.datasets import operations as datasets


def command_dataset(args: argparse.Namespace) -> int:
    with open_session(load_settings(), offline=True) as session:
        if args.dataset_command == "list":
            _list_datasets(session)
        elif args.dataset_command == "show":
            _show_dataset(session, args)
        elif args.dataset_command == "import":
            _import_dataset(session, args)
        else:
            _create_dataset(session, args)
    return 0


def _list_datasets(session: Session) -> None:
    registry = session.registry
    for dataset in registry.list_datasets():
        print(
            f"{dataset.name}\t{dataset.source.value}\t{describe_plan(registry, dataset.name)}"
            f"\tcreated {dataset.created_at:%Y-%m-%d %H:%M} UTC"
        )


def _show_dataset(session: Session, args: argparse.Namespace) -> None:
    registry = session.registry
    dataset = registry.require(args.dataset)
    print(f"dataset {dataset.name} ({dataset.source.value}: {dataset.origin})")
    batches = (
        f"batches of up to {dataset.batch_videos} videos"
        if dataset.batch_videos
        else f"batch size {dataset.batch_size}"
    )
    print(
        f"{batches}, {dataset.limits.videos_per_account} videos per "
        f"account, at most {dataset.limits.max_total_videos} videos; quality: at least "
        f"{dataset.thresholds.min_views} views, at most {dataset.thresholds.max_age_days} days old"
    )
    if dataset.export_scraped_at is not None:
        print(describe_scrape_time(dataset))
    for batch in registry.batches(dataset.name):
        print(f"{batch}\t{' '.join(registry.batch_accounts(dataset.name, batch))}")


def _import_dataset(session: Session, args: argparse.Namespace) -> None:
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
    registry = session.registry
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
    print(
        f"added {count(len(added), 'new account')} to {args.dataset!r}: "
        f"{describe_plan(registry, args.dataset)}"
    )
    apply_setting_flags(registry, existing, args)
