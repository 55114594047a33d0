"""The benchmarks in the order they are reported, and running them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import (
    analysis,
    cli_latency,
    duckdb_growth,
    exports,
    features,
    gemini_cost,
    orchestration,
    parallel_runs,
    rerun,
    scraping,
    signals,
)
from bench.core import Benchmark, Section

BENCHMARKS: tuple[Benchmark[Any], ...] = (
    analysis.BENCHMARK,
    scraping.BENCHMARK,
    features.BENCHMARK,
    orchestration.BENCHMARK,
    rerun.BENCHMARK,
    duckdb_growth.BENCHMARK,
    gemini_cost.BENCHMARK,
    cli_latency.BENCHMARK,
    exports.BENCHMARK,
    signals.BENCHMARK,
    parallel_runs.BENCHMARK,
)
KEYS = tuple(benchmark.key for benchmark in BENCHMARKS)


def command(*, smoke: bool, only: Sequence[str] | None = None) -> str:
    """The command line that runs these benchmarks, from the repository root."""
    parts = ["python -m bench"]
    if only:
        parts.append("--only " + " ".join(only))
    if smoke:
        parts.append("--smoke")
    return " ".join(parts)


def run_suite(
    work_dir: Path,
    *,
    smoke: bool,
    only: Sequence[str] | None = None,
    on_section: Callable[[Section], None] | None = None,
) -> list[Section]:
    """Runs the chosen benchmarks (all by default), each in a scratch directory of its own under
    `work_dir`, and returns their sections in report order."""
    unknown = set(only or ()) - set(KEYS)
    if unknown:
        raise ValueError(f"no such benchmark: {', '.join(sorted(unknown))}; choose from {KEYS}")
    sections = []
    for benchmark in BENCHMARKS:
        if only and benchmark.key not in only:
            continue
        started = time.perf_counter()
        measurement = benchmark.run(work_dir / benchmark.key, smoke=smoke)
        section = Section(
            key=benchmark.key,
            title=benchmark.title,
            command=command(smoke=smoke, only=[benchmark.key]),
            seconds=time.perf_counter() - started,
            measurement=measurement,
        )
        sections.append(section)
        if on_section is not None:
            on_section(section)
    return sections
