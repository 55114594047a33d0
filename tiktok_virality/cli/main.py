"""`tiktok-virality`: the command line, keeping the original pipeline's flags.

tiktok-virality run --dataset v1 [--accounts FILE] [--batch-size 5] [--videos-per-account 15]
    [--max-total-videos 500] [--retry-failed] [--retry-phase PHASE] [--offline]
    [--max-cost-usd X] [--dry-run]
tiktok-virality dataset create --dataset v1 (--accounts FILE | ACCOUNT ... | --sample)
tiktok-virality dataset import --dataset NAME FILE
tiktok-virality dataset list | show --dataset NAME
tiktok-virality dataset delete --dataset NAME [--yes] | prune [--yes]
tiktok-virality status --dataset v1 [--json] [--export DIR]
tiktok-virality report --dataset v1 [--no-open]
tiktok-virality ui [--port 3000]
tiktok-virality media status | prune [--max-mb N]
tiktok-virality track --dataset v1 (--every 6h | --stop)
tiktok-virality refresh --dataset v1

This module only parses and dispatches; each command lives in its own module.
"""

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from dotenv import find_dotenv, load_dotenv

from tiktok_virality.cli.errors import (
    EXIT_FAILED_PARTITIONS,
    EXIT_INTERRUPTED,
    EXIT_OUTPUT_CLOSED,
    EXIT_USAGE,
)
from tiktok_virality.cli.parser import build_parser
from tiktok_virality.cli.run_log import command_log
from tiktok_virality.core.errors import UserError

# The exit codes are part of the command's interface: callers import them from here.
__all__ = ["EXIT_FAILED_PARTITIONS", "EXIT_INTERRUPTED", "EXIT_USAGE", "main"]

# Each command's function, imported only when that command runs: the commands import Dagster,
# pandas and the SDKs, seconds of imports that `--help` and a mistyped flag must not wait for.
COMMANDS: dict[str, str] = {
    "run": "tiktok_virality.cli.run_command:command_run",
    "status": "tiktok_virality.cli.status_command:command_status",
    "report": "tiktok_virality.cli.report_command:command_report",
    "dataset": "tiktok_virality.cli.dataset_commands:command_dataset",
    "ui": "tiktok_virality.cli.ui_command:command_ui",
    "media": "tiktok_virality.cli.media_command:command_media",
    "track": "tiktok_virality.cli.tracking_commands:command_track",
    "refresh": "tiktok_virality.cli.tracking_commands:command_refresh",
}


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    module, function = COMMANDS[name].split(":")
    command: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(module), function
    )
    return command


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # `.env` of the directory the user runs from (find_dotenv would search from this file).
    load_dotenv(find_dotenv(usecwd=True))
    # Imported once the arguments are valid: pydantic takes a quarter of a second to import.
    from tiktok_virality.config import load_settings

    try:
        settings = load_settings()
    except UserError as error:  # no settings, so no log to write it to
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    dataset = getattr(args, "dataset", None)
    with command_log(settings.log_dir, dataset, secrets=settings.secret_values()) as log:
        try:
            return _command(args.command)(args)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            log.error("error: %s", error)
            return EXIT_USAGE
        except BrokenPipeError:
            # The reader of the output stopped early (`status ... | head`): nothing failed. As
            # Python's documentation advises, the rest of the output goes nowhere, so that the
            # flush at exit does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OUTPUT_CLOSED
        except Exception:
            log.exception("failed with an unexpected error")
            raise


if __name__ == "__main__":
    sys.exit(main())
