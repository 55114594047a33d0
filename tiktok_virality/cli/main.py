"""`tiktok-virality`: the command line, keeping the original pipeline's flags.

tiktok-virality run --dataset v1 [--accounts FILE] [--batch-size 5] [--videos-per-account 15]
    [--max-total-videos 500] [--retry-failed] [--retry-phase PHASE] [--offline]
tiktok-virality dataset create --dataset v1 (--accounts FILE | ACCOUNT ... | --sample)
tiktok-virality dataset import --dataset NAME FILE
tiktok-virality dataset list | show --dataset NAME
tiktok-virality dataset delete --dataset NAME [--yes] | prune [--yes]
tiktok-virality status --dataset v1 [--json] [--export DIR]
tiktok-virality report --dataset v1 [--no-open]

This module only parses and dispatches; each command lives in its own module.
"""

import argparse
import sys
from collections.abc import Callable, Sequence

from dotenv import find_dotenv, load_dotenv

from tiktok_virality.cli.dataset_commands import command_dataset
from tiktok_virality.cli.errors import (
    EXIT_FAILED_PARTITIONS,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    USER_ERRORS,
)
from tiktok_virality.cli.parser import build_parser
from tiktok_virality.cli.report_command import command_report
from tiktok_virality.cli.run_command import command_run
from tiktok_virality.cli.status_command import command_status

# The exit codes are part of the command's interface: callers import them from here.
__all__ = ["EXIT_FAILED_PARTITIONS", "EXIT_INTERRUPTED", "EXIT_USAGE", "main"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": command_run,
    "status": command_status,
    "report": command_report,
    "dataset": command_dataset,
}


def main(argv: Sequence[str] | None = None) -> int:
    # `.env` of the directory the user runs from (find_dotenv would search from this file).
    load_dotenv(find_dotenv(usecwd=True))
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
