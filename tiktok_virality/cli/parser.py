"""The command line's grammar: every command and flag of the original pipeline, each value
validated as it is parsed (a bad one is refused with exit 2 before anything is done)."""

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tiktok_virality.core.naming import InvalidNameError, validate_dataset_name
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.datasets.dataset import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BATCH_VIDEOS,
    InvalidSettingError,
    validate_batch_size,
    validate_batch_videos,
)
from tiktok_virality.defs.tracking.cadence import parse_cadence


def _batch_size(text: str) -> int:
    try:
        return validate_batch_size(int(text))
    except (ValueError, InvalidSettingError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _batch_videos(text: str) -> int:
    try:
        return validate_batch_videos(int(text))
    except (ValueError, InvalidSettingError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _whole_number(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


def _dollars(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {text}")
    return value


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
    parser.add_argument(
        "--max-cost-usd",
        type=_dollars,
        help="budget for paid work (Apify runs, Gemini calls), US dollars: nothing is started "
        "that would pass it (default none; stored with the dataset)",
    )


# Batches run at once by `run`: about this machine and the run, so a flag stored nowhere. Batches
# mostly wait (on Apify's actor runs, on Gemini), so more than the cores pay; the actor runs
# themselves are bounded by APIFY_MAX_CONCURRENT_RUNS, the Gemini calls by the shared quota.
DEFAULT_PARALLEL = 4


def _add_run_command(commands: argparse._SubParsersAction) -> None:
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
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print what the run would do and cost, then do nothing (no paid call, no write)",
    )
    run.add_argument(
        "--parallel",
        type=_whole_number(1),
        default=DEFAULT_PARALLEL,
        metavar="N",
        help=f"analyse up to N batches at once, each in a process of its own, while scrapes run "
        f"ahead up to APIFY_MAX_CONCURRENT_RUNS at once (default {DEFAULT_PARALLEL}; 1: one "
        "batch after the other, whole, in this process)",
    )


def _add_status_command(commands: argparse._SubParsersAction) -> None:
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


def _add_dataset_command(commands: argparse._SubParsersAction) -> None:
    dataset = commands.add_parser("dataset", help="create, import, list, show and delete datasets")
    dataset_commands = dataset.add_subparsers(dest="dataset_command", required=True)
    create = dataset_commands.add_parser("create", help="a dataset of accounts to scrape")
    create.add_argument("--dataset", required=True, type=_dataset_name)
    create.add_argument("--accounts", type=Path, help="file with one account per line")
    create.add_argument("account", nargs="*", help="accounts: name, @name or profile URL")
    create.add_argument(
        "--sample",
        action="store_true",
        help="the bundled sample (9 accounts, for --offline runs) under this name",
    )
    create.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH_SIZE)
    _add_setting_flags(create)

    import_ = dataset_commands.add_parser(
        "import", help="a dataset from an Apify export (JSON, JSONL or console CSV)"
    )
    import_.add_argument("--dataset", required=True, type=_dataset_name)
    import_.add_argument("file", type=Path)
    batching = import_.add_mutually_exclusive_group()
    batching.add_argument(
        "--batch-videos",
        type=_batch_videos,
        default=DEFAULT_BATCH_VIDEOS,
        help=f"batches of whole accounts up to this many videos (default {DEFAULT_BATCH_VIDEOS})",
    )
    batching.add_argument(
        "--batch-size", type=_batch_size, help="batches of this many accounts instead, 1-10"
    )
    import_.add_argument(
        "--scraped-at",
        type=_timestamp,
        help="when the export was scraped, ISO 8601 with zone (default: from the Apify console's "
        "file name, else the newest video's posting time, else now)",
    )
    dataset_commands.add_parser("list", help="the datasets and their sizes")
    show = dataset_commands.add_parser("show", help="a dataset's settings and batch plan")
    show.add_argument("--dataset", required=True, type=_dataset_name)
    _add_removal_commands(dataset_commands)


def _add_removal_commands(dataset_commands: argparse._SubParsersAction) -> None:
    delete = dataset_commands.add_parser(
        "delete",
        help="remove a dataset: its rows in every table, its partition keys and runs in Dagster, "
        "its report (the paid analyses are kept)",
    )
    delete.add_argument("--dataset", required=True, type=_dataset_name)
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    prune = dataset_commands.add_parser(
        "prune", help="remove the Dagster partition keys that belong to no dataset"
    )
    prune.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _add_report_command(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="open a dataset's HTML report in the browser")
    report.add_argument("--dataset", required=True, type=_dataset_name)
    report.add_argument("--no-open", action="store_true", help="only print where the report is")


def _add_ui_command(commands: argparse._SubParsersAction) -> None:
    ui = commands.add_parser(
        "ui", help="start the Dagster UI on this project and the CLI's Dagster home (dagster dev)"
    )
    ui.add_argument("--port", type=_whole_number(1), default=3000, help="default 3000")


def _cadence(text: str) -> float:
    try:
        return parse_cadence(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_tracking_commands(commands: argparse._SubParsersAction) -> None:
    track = commands.add_parser(
        "track", help="refresh a dataset on a cadence (while `tiktok-virality ui` runs)"
    )
    track.add_argument("--dataset", required=True, type=_dataset_name)
    cadence = track.add_mutually_exclusive_group(required=True)
    cadence.add_argument(
        "--every", type=_cadence, metavar="CADENCE", help="e.g. 6h, 12h, 1d (at most hourly)"
    )
    cadence.add_argument("--stop", action="store_true", help="stop refreshing it")
    refresh = commands.add_parser(
        "refresh",
        help="scrape a dataset's accounts again now: new snapshots and videos, alerts, the model",
    )
    refresh.add_argument("--dataset", required=True, type=_dataset_name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiktok-virality",
        description="Scrape TikTok accounts, analyse their videos and build virality features.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_run_command(commands)
    _add_status_command(commands)
    _add_dataset_command(commands)
    _add_report_command(commands)
    _add_ui_command(commands)
    _add_media_command(commands)
    _add_tracking_commands(commands)
    return parser


def _add_media_command(commands: argparse._SubParsersAction) -> None:
    media = commands.add_parser(
        "media", help="the local copies of the scraped video files (the media cache)"
    )
    media_commands = media.add_subparsers(dest="media_command", required=True)
    media_commands.add_parser("status", help="the cached files, their size and the budget")
    prune = media_commands.add_parser(
        "prune",
        help="remove the files of videos no dataset lists, then the least recently used ones "
        "until the cache fits its budget",
    )
    prune.add_argument(
        "--max-mb",
        type=_whole_number(0),
        help="the budget in MB for this prune (default: TIKTOK_VIRALITY_MEDIA_MAX_MB)",
    )
