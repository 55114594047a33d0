"""`tiktok-virality dataset delete --dataset NAME [--yes]` and `dataset prune [--yes]`: a dataset
removed completely, or the Dagster instance's partition keys that belong to no dataset.

Both refuse while a run of what they remove is under way, and ask first on a terminal (`--yes`
answers for scripts; without a terminal and without `--yes` they refuse). The DuckDB rows go in one
transaction; then the instance's keys and the runs of their partitions, then the report file. A
deletion stopped after its transaction leaves the name as a stray key, which `delete` or `prune`
removes when run again."""

import argparse
import sys

import dagster as dg

from tiktok_virality.cli.describe import count
from tiktok_virality.cli.errors import UsageError
from tiktok_virality.cli.runner import dataset_runs_in_progress
from tiktok_virality.cli.session import Session, open_session
from tiktok_virality.config import Settings, load_settings
from tiktok_virality.core.partitions import DATASET_DIMENSION, ForgottenKeys, forget_partition_keys
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.datasets.registry_tables import (
    UnknownDatasetError,
    unknown_dataset_message,
)
from tiktok_virality.defs.datasets.removal import (
    dataset_row_tables,
    delete_dataset_rows,
    stray_keys,
)
from tiktok_virality.resources import STORES, build_resources

KEPT = (
    "kept: the paid analyses (analysis_cache, analysis_failures), which are keyed by video and "
    "model and serve any dataset holding the same videos"
)


def command_delete(args: argparse.Namespace) -> int:
    settings = load_settings()
    name = args.dataset
    registry = DatasetRegistry(database=str(settings.database))
    # Looked up before the session opens, so that a mistyped name writes nothing.
    if registry.get(name) is None and not _stray_dataset_key(settings, name):
        raise UnknownDatasetError(unknown_dataset_message(name, registry.names()))
    with open_session(settings, offline=True) as session:
        batches = session.registry.batches(name)
        _refuse_while_running(session.instance, datasets=[name])
        _confirm(f"delete dataset {name!r} ({_contents(session, name)}) and its report", args.yes)
        rows = delete_dataset_rows(settings.database, name, dataset_row_tables(STORES))
        still_used = session.registry.batches_in_use()
        keys = _forget(session, [name], [batch for batch in batches if batch not in still_used])
        report = build_resources(settings, offline=True)["report_files"].remove(name)
    print(f"deleted dataset {name!r}:")
    for table, deleted in rows.items():
        if deleted:
            print(f"  {table:<20} {count(deleted, 'row')}")
    _print_forgotten(keys, kept=[batch for batch in batches if batch in still_used])
    print(f"  report: {report if report else 'none'}")
    print(KEPT)
    return 0


def command_prune(args: argparse.Namespace) -> int:
    with open_session(load_settings(), offline=True) as session:
        strays = stray_keys(session.instance, session.registry)
        if not strays:
            print("nothing to prune: every dataset and batch key belongs to a dataset")
            return 0
        _refuse_while_running(session.instance, datasets=strays.datasets, batches=strays.batches)
        _confirm(
            "remove the partition keys that belong to no dataset: "
            f"dataset {_keys(strays.datasets)}; batch {_keys(strays.batches)}",
            args.yes,
        )
        keys = _forget(session, strays.datasets, strays.batches)
    print("pruned:")
    _print_forgotten(keys, kept=[])
    return 0


def _stray_dataset_key(settings: Settings, name: str) -> bool:
    """Whether `name` is a dataset key of the instance (added in the UI), read without creating
    a Dagster home where there is none."""
    if not (settings.dagster_home / "dagster.yaml").exists():
        return False
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        return instance.has_dynamic_partition(DATASET_DIMENSION, name)


def _contents(session: Session, name: str) -> str:
    registry = session.registry
    if registry.get(name) is None:
        return "a partition key of the Dagster instance only"
    batches = registry.batches(name)
    return f"{count(len(registry.plan(name)), 'account')} in {count(len(batches), 'batch')}"


def _refuse_while_running(
    instance: dg.DagsterInstance, *, datasets: list[str], batches: list[str] | None = None
) -> None:
    running = dataset_runs_in_progress(instance, datasets=datasets, batches=batches or [])
    if running:
        raise UsageError(
            f"{count(len(running), 'run')} of {_keys(datasets or batches or [])} "
            f"{'is' if len(running) == 1 else 'are'} in progress ({', '.join(running)}): wait for "
            "it to finish, or terminate it in the Dagster UI, then try again; nothing was removed"
        )


def _confirm(what: str, yes: bool) -> None:
    """Go on with `--yes`, or when the user at the terminal answers yes; refuse otherwise."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            f"not confirmed: {what}? There is no terminal to ask on: add --yes to confirm"
        )
    answer = input(f"{what}? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("not confirmed: nothing was removed")


def _forget(session: Session, datasets: list[str], batches: list[str]) -> ForgottenKeys:
    asset_keys = list(session.defs.resolve_all_asset_keys())
    return forget_partition_keys(session.instance, asset_keys, datasets=datasets, batches=batches)


def _print_forgotten(keys: ForgottenKeys, *, kept: list[str]) -> None:
    print(f"  dataset keys: {_keys(keys.datasets)}")
    batches = _keys(keys.batches)
    print(
        f"  batch keys: {batches}"
        + (f" (kept {_keys(kept)}: used by other datasets)" if kept else "")
    )
    print(f"  Dagster runs of their partitions: {keys.runs}")


def _keys(keys: list[str]) -> str:
    return ", ".join(keys) if keys else "none"
