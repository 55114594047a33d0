"""`tiktok-virality status --dataset NAME [--json] [--export DIR]`: where a dataset stands, from
the stores and the Dagster instance; the graph itself is not loaded."""

import argparse
import json
import sys

from tiktok_virality.cli.session import migrate_existing, open_instance
from tiktok_virality.cli.status import dataset_status, render, write_tracking_files
from tiktok_virality.config import load_settings
from tiktok_virality.defs.datasets.error_log import ERROR_LOG_SCHEMA, ErrorLog
from tiktok_virality.defs.datasets.registry_tables import REGISTRY_SCHEMA, RegistryReader
from tiktok_virality.defs.tracking.tables import TRACKING_SCHEMA


def command_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    migrate_existing(settings, [REGISTRY_SCHEMA, ERROR_LOG_SCHEMA, TRACKING_SCHEMA])
    registry = RegistryReader(str(settings.database))
    # An unknown name is refused before the instance is opened (nor its home made).
    dataset = registry.require(args.dataset)
    with open_instance(settings) as instance:
        status = dataset_status(
            dataset, registry, ErrorLog(database=str(settings.database)), instance
        )
    print(json.dumps(status.to_json(), indent=2) if args.json else render(status))
    if args.export:
        written = write_tracking_files(status, args.export)
        print(f"wrote {', '.join(map(str, written))}", file=sys.stderr if args.json else sys.stdout)
    return 0
