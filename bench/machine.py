"""The machine and the software the figures were measured on."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bench.core import REPO_ROOT

PACKAGES = ("dagster", "duckdb", "pandas", "numpy", "pydantic", "apify-client", "google-genai")


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    load_average: tuple[float, float, float]
    python: str
    system: str
    packages: dict[str, str]
    commit: str


def describe_machine() -> Machine:
    return Machine(
        cpu=_proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        cores=os.cpu_count() or 0,
        memory_gib=int((_proc_field("/proc/meminfo", "MemTotal") or "0 kB").split()[0]) / 1024**2,
        load_average=os.getloadavg(),
        python=platform.python_version(),
        system=platform.platform(),
        packages={name: metadata.version(name) for name in PACKAGES},
        commit=_commit(),
    )


def _proc_field(path: str, name: str) -> str | None:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def _commit() -> str:
    def git(*args: str) -> str:
        completed = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return completed.stdout.strip() if completed.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{commit} with uncommitted changes" if git("status", "--porcelain") else commit
