"""What every benchmark shares: result rows and tables, target verdicts, the benchmark record, and
the few measuring tools more than one benchmark needs (child processes, sliding windows)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[1]
MEGABYTE = 1_000_000


def column(header: str, fmt: str = "{}") -> Any:
    """A field of a result row, shown as a table column with this header and format."""
    return field(metadata={"header": header, "format": fmt})


@dataclass(frozen=True)
class ResultTable:
    """Rows of one dataclass type whose fields were declared with `column`."""

    caption: str
    rows: Sequence[Any]


@dataclass(frozen=True)
class Verdict:
    """A target of the issue, what was measured against it, and whether it was met."""

    target: str
    measured: str
    met: bool


@dataclass(frozen=True)
class Measurement:
    """What a benchmark returns: how it measured, its tables, its verdicts, and what the numbers
    mean (why a target was missed, what would fix it)."""

    method: str
    tables: Sequence[ResultTable]
    verdicts: Sequence[Verdict] = ()
    notes: Sequence[str] = ()


ConfigT = TypeVar("ConfigT")


@dataclass(frozen=True)
class Benchmark(Generic[ConfigT]):
    """One benchmark: its sizes for the documented run and for the smoke run, and how to run it in a
    scratch directory of its own."""

    key: str
    title: str
    full: ConfigT
    smoke: ConfigT
    measure: Callable[[ConfigT, Path], Measurement]

    def run(self, work_dir: Path, *, smoke: bool) -> Measurement:
        work_dir.mkdir(parents=True, exist_ok=True)
        return self.measure(self.smoke if smoke else self.full, work_dir)


@dataclass(frozen=True)
class Section:
    """A benchmark's measurement as reported: with the command that reproduces it."""

    key: str
    title: str
    command: str
    seconds: float
    measurement: Measurement


def run_child(args: Sequence[str]) -> dict[str, Any]:
    """Run `python args...` from the repository root and return what it printed as JSON."""
    completed = subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {completed.returncode}: {completed.stderr}")
    return json.loads(completed.stdout)


def resident_bytes() -> int:
    """This process's resident memory now (Linux)."""
    return _status_kibibytes("VmRSS") * 1024


def peak_resident_bytes() -> int:
    """This process's peak resident memory (Linux `VmHWM`).

    Not `getrusage`'s `ru_maxrss`: Linux carries the parent's peak at the fork over the `exec`, so a
    small child of a large parent would report the parent's memory (`RUSAGE_CHILDREN` and `wait4`
    alike)."""
    return _status_kibibytes("VmHWM") * 1024


def reset_peak_resident() -> None:
    """Start `peak_resident_bytes` afresh from the memory resident now (Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5", encoding="ascii")


def _status_kibibytes(name: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return int(value.split()[0])
    raise LookupError(f"{name} is not in /proc/self/status")


def max_in_window(times: Sequence[float], window_seconds: float) -> int:
    """The most events in any half-open window [t, t + window) — how a per-minute quota counts."""
    ordered = sorted(times)
    most = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window_seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def share(part: float, whole: float) -> float:
    """part / whole, 0 for an empty whole."""
    return part / whole if whole else 0.0
