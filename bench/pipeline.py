"""The project's CLI as the benchmarks run it: in a child process whose environment holds only what
the benchmark sets (a data directory, a Dagster home and a log directory of its own), and the runs
it leaves in that Dagster home."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from bench.core import REPO_ROOT
from tiktok_virality.config import (
    DAGSTER_HOME_VARIABLE,
    DATA_DIR_VARIABLE,
    LOG_DIR_VARIABLE,
    Settings,
    load_settings,
)

# Dagster's telemetry would write to the home and try to send usage data: not part of the work.
_DAGSTER_YAML = "telemetry:\n  enabled: false\n"


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    started: float  # Unix time, as Dagster's event timestamps
    ended: float
    output: str


class Workspace:
    """A data directory, Dagster home and log directory under `root`, and the CLI run on them."""

    def __init__(self, root: Path, extra_environment: Mapping[str, str] | None = None) -> None:
        data = root / "data"
        self.root = root
        self.environment = {
            # The CLI of this checkout, not of whichever one the package was installed from.
            "PYTHONPATH": str(REPO_ROOT),
            DATA_DIR_VARIABLE: str(data),
            DAGSTER_HOME_VARIABLE: str(data / "dagster_home"),
            LOG_DIR_VARIABLE: str(root / "logs"),
            **(extra_environment or {}),
        }
        self.settings: Settings = load_settings(self.environment)
        self.settings.dagster_home.mkdir(parents=True, exist_ok=True)
        (self.settings.dagster_home / "dagster.yaml").write_text(_DAGSTER_YAML, encoding="utf-8")

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.settings.dagster_home))

    def cli(self, args: Sequence[str]) -> CliRun:
        """`tiktok-virality args...` in a child process, from the workspace (so no `.env` of a
        checkout is read)."""
        started = time.time()
        completed = subprocess.run(
            [sys.executable, "-m", "tiktok_virality.cli.main", *args],
            cwd=self.root,
            env=self.environment,
            capture_output=True,
            text=True,
            check=False,
        )
        return CliRun(
            completed.returncode, started, time.time(), completed.stdout + completed.stderr
        )
