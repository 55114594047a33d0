"""`tiktok-virality`: the command line, keeping the original pipeline's flags.

tiktok-virality run --dataset v1 [--accounts FILE] [--batch-size 5] [--videos-per-account 15]
    [--max-total-videos 500] [--retry-failed] [--retry-phase PHASE] [--offline]
tiktok-virality dataset create --dataset v1 (--accounts FILE | ACCOUNT ...)
tiktok-virality dataset import --dataset NAME FILE
tiktok-virality dataset list | show --dataset NAME
tiktok-virality status --dataset v1 [--json] [--export DIR]
tiktok-virality report --dataset v1 [--no-open]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import webbrowser
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg
from dotenv import find_dotenv, load_dotenv
from rich import box
from rich.console import Console

from tiktok_virality.cli.progress import RunProgress, render_plain, summary_table
from tiktok_virality.cli.run_log import run_log
from tiktok_virality.cli.runner import (
    DatasetRunOutcome,
    Phase,
    RunOutcome,
    dataset_model_missing,
    fail_abandoned_runs,
    partition_states,
    plan_runs,
    run_dataset_assets,
    run_partition,
)
from tiktok_virality.cli.status import dataset_status, render, write_tracking_files
from tiktok_virality.config import (
    APIFY_TOKEN_VARIABLE,
    GEMINI_KEY_VARIABLES,
    InvalidEnvironmentError,
    Settings,
    load_settings,
)
from tiktok_virality.core.naming import InvalidNameError, validate_dataset_name
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.definitions import build_definitions
from tiktok_virality.defs.datasets import operations as datasets
from tiktok_virality.defs.datasets.dataset import (
    DEFAULT_BATCH_SIZE,
    Dataset,
    DatasetSource,
    InvalidSettingError,
    ScrapeLimits,
    validate_batch_size,
)
from tiktok_virality.defs.datasets.error_log import ErrorLog
from tiktok_virality.defs.datasets.registry import (
    DatasetExistsError,
    DatasetRegistry,
    UnknownDatasetError,
)
from tiktok_virality.defs.scraping.exports import ExportError
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import SchemaTooNewError, migrate
from tiktok_virality.warehouse.queries import stored_video_count
from tiktok_virality.warehouse.storage import DatabaseLockedError

EXIT_FAILED_PARTITIONS = 1
EXIT_USAGE = 2
# What a shell reports for a command stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130

USER_ERRORS = (
    InvalidNameError,
    ExportError,
    DatasetExistsError,
    UnknownDatasetError,
    DatabaseLockedError,
    InvalidSettingError,
    InvalidEnvironmentError,
    SchemaTooNewError,
)


class UsageError(Exception):
    """A request the CLI refuses before doing any work; the message says what to do instead."""


def _batch_size(text: str) -> int:
    try:
        return validate_batch_size(int(text))
    except (ValueError, InvalidSettingError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _whole_number(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


def _timestamp(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, e.g. {text}+00:00")
    return value


def _dataset_name(text: str) -> str:
    try:
        return validate_dataset_name(text)
    except InvalidNameError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-views",
        type=_whole_number(0),
        help="quality control: fewer views rejects a video (default 1000; stored with the dataset)",
    )
    parser.add_argument(
        "--max-age-days",
        type=_whole_number(1),
        help="quality control and scraping: older videos are left out (default 180; stored)",
    )
    parser.add_argument(
        "--videos-per-account",
        type=_whole_number(1),
        help="latest videos to keep per account (default 15; stored with the dataset)",
    )
    parser.add_argument(
        "--max-total-videos",
        type=_whole_number(1),
        help="videos the dataset may hold in all (default 500; stored with the dataset)",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiktok-virality",
        description="Scrape TikTok accounts, analyse their videos and build virality features.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="materialize a dataset's partitions that are not done yet"
    )
    run.add_argument("--dataset", required=True, type=_dataset_name, help="dataset name, e.g. v1")
    run.add_argument(
        "--accounts", type=Path, help="file of accounts to scrape (new ones get new batches)"
    )
    run.add_argument(
        "--batch-size",
        type=_batch_size,
        help=f"accounts per batch for new accounts, 1-10 (default {DEFAULT_BATCH_SIZE})",
    )
    _add_setting_flags(run)
    run.add_argument(
        "--retry-failed", action="store_true", help="re-run only the partitions that failed"
    )
    run.add_argument(
        "--retry-phase",
        choices=[phase.value for phase in Phase],
        help="with --retry-failed: re-run from this phase on (implies --retry-failed)",
    )
    run.add_argument(
        "--offline",
        action="store_true",
        help="no external calls: the bundled sample or an imported export, offline analyzer",
    )

    status = commands.add_parser(
        "status", help="a dataset's partitions, processed accounts, errors and counts"
    )
    status.add_argument("--dataset", required=True, type=_dataset_name)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="also write source.txt (processed accounts) and errors.txt there",
    )

    dataset = commands.add_parser("dataset", help="create, import, list and show datasets")
    dataset_commands = dataset.add_subparsers(dest="dataset_command", required=True)
    create = dataset_commands.add_parser("create", help="a dataset of accounts to scrape")
    create.add_argument("--dataset", required=True, type=_dataset_name)
    create.add_argument("--accounts", type=Path, help="file with one account per line")
    create.add_argument("account", nargs="*", help="accounts: name, @name or profile URL")
    create.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH_SIZE)
    _add_setting_flags(create)

    import_ = dataset_commands.add_parser(
        "import", help="a dataset from an Apify export (JSON, JSONL or console CSV)"
    )
    import_.add_argument("--dataset", required=True, type=_dataset_name)
    import_.add_argument("file", type=Path)
    import_.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH_SIZE)
    import_.add_argument(
        "--scraped-at",
        type=_timestamp,
        help="when the export was scraped, ISO 8601 with zone (default: now)",
    )

    report = commands.add_parser("report", help="open a dataset's HTML report in the browser")
    report.add_argument("--dataset", required=True, type=_dataset_name)
    report.add_argument("--no-open", action="store_true", help="only print where the report is")

    dataset_commands.add_parser("list", help="the datasets and their sizes")
    show = dataset_commands.add_parser("show", help="a dataset's settings and batch plan")
    show.add_argument("--dataset", required=True, type=_dataset_name)
    return parser


@dataclass(frozen=True)
class Session:
    """The settings, resources and Dagster instance of one CLI invocation."""

    settings: Settings
    defs: dg.Definitions
    registry: DatasetRegistry
    error_log: ErrorLog
    instance: dg.DagsterInstance


@contextmanager
def _open_session(settings: Settings, *, offline: bool) -> Iterator[Session]:
    resources = build_resources(settings, offline=offline)
    defs = build_definitions(resources)
    # The stores' tables, made or upgraded once for the command's own writes (a dataset, its
    # settings); the runs it starts find them up to date.
    migrate(settings.database, STORE_SCHEMAS)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    # Dagster warns about a home without one; its defaults (SQLite storage in the home) are ours.
    (settings.dagster_home / "dagster.yaml").touch(exist_ok=True)
    # The home `dagster dev` is started with (README), so the CLI's runs show in the UI.
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        yield Session(settings, defs, resources["registry"], resources["error_log"], instance)


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"


def _describe_plan(registry: DatasetRegistry, dataset: str) -> str:
    plan = registry.plan(dataset)
    batches = registry.batches(dataset)
    return (
        f"{_count(len(plan), 'account')} in {_count(len(batches), 'batch')} ({', '.join(batches)})"
    )


def _print_created(registry: DatasetRegistry, dataset: str, how: str) -> None:
    print(f"created dataset {dataset!r} {how}: {_describe_plan(registry, dataset)}")


def _ensure_dataset(session: Session, args: argparse.Namespace) -> Dataset:
    registry = session.registry
    dataset = registry.get(args.dataset)
    batch_size = args.batch_size or (dataset.batch_size if dataset else DEFAULT_BATCH_SIZE)
    if dataset is None:
        if args.accounts:
            datasets.add_accounts(
                session.instance,
                registry,
                args.dataset,
                datasets.read_accounts_file(args.accounts),
                batch_size=batch_size,
                limits=_limits(args, None),
                thresholds=_thresholds(args, None),
            )
            _print_created(registry, args.dataset, f"from {args.accounts}")
        elif args.offline:
            datasets.create_sample_dataset(
                session.instance, registry, args.dataset, batch_size=batch_size
            )
            _print_created(registry, args.dataset, "from the bundled sample")
        else:
            raise UsageError(
                f"dataset {args.dataset!r} does not exist: give --accounts FILE to create it, "
                "or --offline to create it from the bundled sample"
            )
        _apply_setting_flags(registry, registry.require(args.dataset), args)
        return registry.require(args.dataset)

    if args.accounts:
        added = datasets.add_accounts(
            session.instance,
            registry,
            args.dataset,
            datasets.read_accounts_file(args.accounts),
            batch_size=batch_size,
        )
        print(f"added {_count(len(added), 'new account')} to {args.dataset!r} in new batches")
    elif args.batch_size and args.batch_size != dataset.batch_size:
        print(
            f"note: the batch plan of {args.dataset!r} is pinned ({dataset.batch_size} per batch); "
            "--batch-size applies to accounts added later"
        )
    _apply_setting_flags(registry, dataset, args)
    datasets.sync_partitions(session.instance, registry, args.dataset)
    return registry.require(args.dataset)


def _apply_setting_flags(
    registry: DatasetRegistry, dataset: Dataset, args: argparse.Namespace
) -> None:
    limits, thresholds = _limits(args, dataset), _thresholds(args, dataset)
    if (limits, thresholds) != (dataset.limits, dataset.thresholds):
        registry.update_settings(dataset.name, limits=limits, thresholds=thresholds)
        print(
            f"settings of {dataset.name!r} now: {limits.videos_per_account} videos per account, "
            f"{limits.max_total_videos} in all, at least {thresholds.min_views} views, at most "
            f"{thresholds.max_age_days} days old (for batches scraped from now on)"
        )


def _thresholds(args: argparse.Namespace, dataset: Dataset | None) -> QualityThresholds:
    current = dataset.thresholds if dataset else QualityThresholds()
    try:
        return QualityThresholds(
            min_views=current.min_views if args.min_views is None else args.min_views,
            max_age_days=args.max_age_days or current.max_age_days,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


def _limits(args: argparse.Namespace, dataset: Dataset | None) -> ScrapeLimits:
    current = dataset.limits if dataset else ScrapeLimits()
    return ScrapeLimits(
        videos_per_account=args.videos_per_account or current.videos_per_account,
        max_total_videos=args.max_total_videos or current.max_total_videos,
    )


def _format_outcome(outcome: RunOutcome, position: int, total: int) -> str:
    label = f"[{position}/{total}] {outcome.partition}"
    if not outcome.success:
        return f"{label} FAILED after {outcome.seconds:.1f} s: {outcome.error}"
    counts = ", ".join(
        f"{phase.value} {outcome.rows.get(phase, 0)} rows"
        + (f" ({_count(outcome.errors[phase], 'error')})" if outcome.errors.get(phase) else "")
        for phase in outcome.phases
    )
    return f"{label} done in {outcome.seconds:.1f} s: {counts}"


def _command_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    _thresholds(args, None)  # out-of-range settings are refused before anything is written
    _refuse_what_cannot_run(settings, args)
    if not args.offline and not settings.gemini_key_set:
        print(
            f"note: {' or '.join(GEMINI_KEY_VARIABLES)} is not set: videos are analysed from their "
            "metadata only (the offline analyzer); set one to have Gemini watch them"
        )
    with _open_session(settings, offline=args.offline) as session:
        dataset = _ensure_dataset(session, args)
        return _run_dataset(session, dataset, args)


def _refuse_what_cannot_run(settings: Settings, args: argparse.Namespace) -> None:
    """Refuse, before writing anything, a run that needs scraping but cannot scrape."""
    existing = DatasetRegistry(database=str(settings.database)).get(args.dataset)
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


def _run_dataset(session: Session, dataset: Dataset, args: argparse.Namespace) -> int:
    session.registry.mark_run(dataset.name)
    with run_log(
        session.settings.log_dir, dataset.name, secrets=session.settings.secret_values()
    ) as log:
        return _run_logged(session, dataset, args, log)


def _run_logged(
    session: Session, dataset: Dataset, args: argparse.Namespace, log: logging.Logger
) -> int:
    def say(message: str, level: int = logging.INFO) -> None:
        print(message, flush=True)
        log.log(level, message)

    abandoned = fail_abandoned_runs(session.instance)
    if abandoned:
        say(
            f"{_count(len(abandoned), 'earlier run')} stopped without finishing (killed?): "
            "recorded as interrupted; their partitions are resumed",
            logging.WARNING,
        )
    retry_phase = Phase(args.retry_phase) if args.retry_phase else None
    retry_failed = args.retry_failed or retry_phase is not None
    partitions = [
        VideoPartition(dataset.name, batch) for batch in session.registry.batches(dataset.name)
    ]
    plan = plan_runs(
        partition_states(session.instance, partitions),
        retry_failed=retry_failed,
        retry_phase=retry_phase,
    )
    say(
        f"{dataset.name}: {_count(len(partitions), 'partition')}, {len(plan.already_done)} done, "
        f"{len(plan.runs)} to run"
        + (
            f", {len(plan.failed_not_retried)} failed (not retried)"
            if plan.failed_not_retried
            else ""
        )
        + (f", {len(plan.in_progress)} in progress elsewhere" if plan.in_progress else "")
    )

    started = time.monotonic()
    progress = RunProgress(plan.runs, Console())
    outcomes: list[RunOutcome] = []
    left_unscraped: list[VideoPartition] = []
    interrupted = False
    with progress.shown():
        try:
            for planned in plan.runs:
                stored = stored_video_count(session.settings.database, dataset.name)
                if stored >= dataset.limits.max_total_videos and Phase.SCRAPING in planned.phases:
                    left_unscraped.append(planned.partition)
                    continue
                progress.running(planned.partition)
                outcome = run_partition(session.instance, session.defs, planned)
                outcomes.append(outcome)
                progress.finished(outcome)
                if outcome.interrupted:
                    interrupted = True
                    break
                say(
                    _format_outcome(outcome, len(outcomes), len(plan.runs)),
                    logging.INFO if outcome.success else logging.ERROR,
                )
        except KeyboardInterrupt:
            # Between two partitions: Dagster handles Ctrl-C itself while a partition runs.
            interrupted = True

    seconds = time.monotonic() - started
    if progress.tallies:
        Console().print(summary_table(progress.tallies, seconds))
        log.info("\n%s", render_plain(summary_table(progress.tallies, seconds, box=box.ASCII)))
    if interrupted:
        say(
            f"interrupted: {_count(sum(not o.interrupted for o in outcomes), 'partition')} finished "
            "before; run the same "
            f"command again to resume: tiktok-virality run --dataset {dataset.name}"
            f"{' --offline' if args.offline else ''}",
            logging.WARNING,
        )
        return EXIT_INTERRUPTED
    failed = [outcome.partition for outcome in outcomes if not outcome.success]
    say(
        f"{_count(len(outcomes) - len(failed), 'partition')} materialized, {len(failed)} failed; "
        f"tables in {session.settings.database}"
    )
    if left_unscraped:
        say(
            f"not scraped: {', '.join(map(str, left_unscraped))}: {dataset.name!r} holds its max "
            f"total videos ({dataset.limits.max_total_videos}); raise --max-total-videos to go on",
            logging.WARNING,
        )
    model_failed = False
    if any(outcome.success for outcome in outcomes) or (
        plan.already_done and dataset_model_missing(session.instance, dataset.name)
    ):
        model = run_dataset_assets(session.instance, session.defs, dataset.name)
        model_failed = not model.success
        say(_describe_model(model), logging.INFO if model.success else logging.ERROR)
    if failed or plan.failed_not_retried:
        say(f"failed: {', '.join(map(str, failed + plan.failed_not_retried))}", logging.WARNING)
        say(
            f"retry them with: tiktok-virality run --dataset {dataset.name} "
            f"--retry-failed{' --offline' if args.offline else ''}"
        )
    return EXIT_FAILED_PARTITIONS if failed or model_failed else 0


def _describe_model(model: DatasetRunOutcome) -> str:
    if not model.success:
        return f"model of {model.dataset} FAILED after {model.seconds:.1f} s: {model.error}"
    found = model.metadata
    if not found.get("evaluated"):
        return f"model of {model.dataset} not evaluated: {found.get('reason')}"
    return (
        f"model of {model.dataset} in {model.seconds:.1f} s: ROC-AUC "
        f"{found['model_roc_auc']:.2f} against {found['baseline_followers_roc_auc']:.2f} for "
        f"followers alone, on {found['labelled_videos']} videos ({found['viral_videos']} viral); "
        f"report: {found['path']}"
    )


def _command_status(args: argparse.Namespace) -> int:
    with _open_session(load_settings(), offline=True) as session:
        status = dataset_status(session.registry, session.error_log, session.instance, args.dataset)
    print(json.dumps(status.to_json(), indent=2) if args.json else render(status))
    if args.export:
        written = write_tracking_files(status, args.export)
        print(f"wrote {', '.join(map(str, written))}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _command_report(args: argparse.Namespace) -> int:
    settings = load_settings()
    path = build_resources(settings, offline=True)["report_files"].path(args.dataset)
    if not path.is_file():
        raise UsageError(
            f"no report of {args.dataset!r} yet ({path} does not exist): "
            f"`tiktok-virality run --dataset {args.dataset}` makes it"
        )
    print(path)
    if not args.no_open and not webbrowser.open(path.as_uri()):
        print("no browser to open it here: open the file above", file=sys.stderr)
    return 0


def _command_dataset(args: argparse.Namespace) -> int:
    with _open_session(load_settings(), offline=True) as session:
        return _dataset_command(session, args)


def _dataset_command(session: Session, args: argparse.Namespace) -> int:
    registry = session.registry
    if args.dataset_command == "list":
        for dataset in registry.list_datasets():
            print(
                f"{dataset.name}\t{dataset.source.value}\t{_describe_plan(registry, dataset.name)}"
                f"\tcreated {dataset.created_at:%Y-%m-%d %H:%M} UTC"
            )
        return 0
    if args.dataset_command == "show":
        dataset = registry.require(args.dataset)
        print(f"dataset {dataset.name} ({dataset.source.value}: {dataset.origin})")
        print(
            f"batch size {dataset.batch_size}, {dataset.limits.videos_per_account} videos per "
            f"account, at most {dataset.limits.max_total_videos} videos; quality: at least "
            f"{dataset.thresholds.min_views} views, at most {dataset.thresholds.max_age_days} days old"
        )
        for batch in registry.batches(dataset.name):
            print(f"{batch}\t{' '.join(registry.batch_accounts(dataset.name, batch))}")
        return 0
    if args.dataset_command == "import":
        datasets.import_export_file(
            session.instance,
            registry,
            args.dataset,
            args.file,
            scraped_at=args.scraped_at,
            batch_size=args.batch_size,
        )
        _print_created(registry, args.dataset, f"from {args.file}")
        return 0
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
        limits=_limits(args, None),
        thresholds=_thresholds(args, None),
    )
    if existing is None:
        _print_created(registry, args.dataset, "from the given accounts")
        return 0
    print(
        f"added {_count(len(added), 'new account')} to {args.dataset!r}: "
        f"{_describe_plan(registry, args.dataset)}"
    )
    _apply_setting_flags(registry, existing, args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    # `.env` of the directory the user runs from (find_dotenv would search from this file).
    load_dotenv(find_dotenv(usecwd=True))
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _command_run(args)
        if args.command == "status":
            return _command_status(args)
        if args.command == "report":
            return _command_report(args)
        return _command_dataset(args)
    except (UsageError, *USER_ERRORS) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
