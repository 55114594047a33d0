"""`tiktok-virality status --dataset NAME [--json] [--export DIR]`: where a dataset stands."""

import argparse
import json
import sys

from tiktok_virality.cli.session import open_session
from tiktok_virality.cli.status import dataset_status, render, write_tracking_files
from tiktok_virality.config import load_settings


def command_status(args: argparse.Namespace) -> int:
    with open_session(load_settings(), offline=True) as session:
        status = dataset_status(session.registry, session.error_log, session.instance, args.dataset)
    print(json.dumps(status.to_json(), indent=2) if args.json else render(status))
    if args.export:
        written = write_tracking_files(status, args.export)
        print(f"wrote {', '.join(map(str, written))}", file=sys.stderr if args.json else sys.stdout)
    return 0
