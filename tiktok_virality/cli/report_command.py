"""`tiktok-virality report --dataset NAME [--no-open]`: the dataset's HTML report, in the browser."""

import argparse
import sys
import webbrowser

from tiktok_virality.cli.errors import UsageError
from tiktok_virality.config import load_settings
from tiktok_virality.resources import build_resources


def command_report(args: argparse.Namespace) -> int:
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
