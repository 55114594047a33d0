"""`tiktok-virality ui`: the Dagster UI (`dagster dev`) on this project's graph and the CLI's own
Dagster home, so that the runs launched from either are one record: the CLI resumes what the UI
left, and the UI shows what the CLI ran."""

from __future__ import annotations

import argparse
import os
import sys

from tiktok_virality.cli.session import prepare_dagster_home
from tiktok_virality.config import dagster_ui_environment, load_settings

# The graph's module: `dagster dev` loads it whatever the working directory.
DEFINITIONS_MODULE = "tiktok_virality.definitions"


def dagster_dev_command(port: int) -> list[str]:
    """`dagster dev` with this interpreter, so that it runs the environment the CLI runs in."""
    return [sys.executable, "-m", "dagster", "dev", "-m", DEFINITIONS_MODULE, "--port", str(port)]


def command_ui(args: argparse.Namespace) -> int:
    settings = load_settings()
    home = prepare_dagster_home(settings)
    print(
        f"starting the Dagster UI on http://127.0.0.1:{args.port} with the Dagster home {home}; "
        "Ctrl-C stops it",
        flush=True,
    )
    command = dagster_dev_command(args.port)
    # In place of this process: Ctrl-C and the exit status are `dagster dev`'s own.
    os.execve(command[0], command, dagster_ui_environment(settings))
