"""Batches side by side: a whole multi-batch CLI run against the fake Apify and Gemini at realistic
latencies, scaled down in time, once with `--parallel 1` (the sequential baseline) and once with
`--parallel N`, from the same data.

`python -m bench.parallel_runs [--scale 0.05] [--batches 4] [--parallel 4]`: actor runs of 90 s
and Gemini answers of 7.5 s (the middle of 60-120 s and 5-10 s), both times `--scale`; the
Gemini quota is scaled the other way (60 requests a minute / scale), so that every ratio of the
real run holds. Prints, for each mode: the wall time, the analysis throughput against its bound
min(concurrency / latency, RPM / 60), the actor runs' overlap (their summed durations over the
scraping wall time, against min(batches, N, APIFY_MAX_CONCURRENT_RUNS)) and the wall time per
partition-step. Numbers go to docs/benchmarks.md by hand, with the date and machine."""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from bench import synthetic
from bench.fakes import (
    APIFY_TOKEN,
    GEMINI_KEY,
    ConcurrentFakeApify,
    run_duration,
    stored_files,
)
from bench.machine import describe_machine
from bench.pipeline import Workspace
from tiktok_virality_tests.fakes.gemini import FakeGemini

ACTOR_SECONDS = 90.0
GEMINI_SECONDS = 7.5
CONCURRENCY = 8
REQUESTS_PER_MINUTE = 60.0
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4096
_PHASE_STEPS = {"scrape_batch": "scraping", "video_analyses": "analysis"}


def _gemini_latency(seconds: float) -> Any:
    def latency(method: str, path: str) -> float:
        return seconds if method == "POST" and path.endswith(":generateContent") else 0.0

    return latency


def _step_spans(workspace: Workspace) -> dict[str, list[tuple[float, float]]]:
    """Each batch run's scraping and analysis step, as (start, end) by Dagster's clock."""
    spans: dict[str, list[tuple[float, float]]] = {"scraping": [], "analysis": []}
    with workspace.instance() as instance:
        for record in instance.get_run_records():
            if "|" not in record.dagster_run.tags.get("dagster/partition", ""):
                continue
            events = instance.all_logs(record.dagster_run.run_id)
            started = {
                e.step_key: e.timestamp
                for e in events
                if e.dagster_event_type == dg.DagsterEventType.STEP_START
            }
            for e in events:
                if e.dagster_event_type == dg.DagsterEventType.STEP_SUCCESS:
                    phase = _PHASE_STEPS.get(e.step_key or "")
                    if phase:
                        spans[phase].append((started[e.step_key], e.timestamp))
    return spans


def measure_mode(
    root: Path, accounts_file: Path, parallel: int, scale: float, batches: int, videos: int
) -> dict[str, float]:
    with (
        ConcurrentFakeApify(latency_seconds=run_duration(ACTOR_SECONDS * scale)) as apify,
        FakeGemini(latency_seconds=_gemini_latency(GEMINI_SECONDS * scale)) as gemini,
    ):
        items = synthetic.apify_items(
            accounts_file.read_text().split(),
            scraped_at=datetime.now(UTC),
            videos_per_account=videos // (batches * 5),
            media_url=stored_files(apify, {"video": VIDEO})["video"],
        )
        apify.items_by_profile.update(items)
        workspace = Workspace(
            root,
            {
                "APIFY_API_TOKEN": APIFY_TOKEN,
                "APIFY_API_URL": apify.url,
                "GOOGLE_API_KEY": GEMINI_KEY,
                "GOOGLE_GEMINI_BASE_URL": gemini.url,
                "GEMINI_CONCURRENCY": str(CONCURRENCY),
                "GEMINI_REQUESTS_PER_MINUTE": str(REQUESTS_PER_MINUTE / scale),
                "GEMINI_TOKENS_PER_MINUTE": "1000000000",
                "APIFY_MAX_CONCURRENT_RUNS": str(parallel),
            },
        )
        run = workspace.cli(
            [
                "run",
                "--dataset",
                "bench",
                "--accounts",
                str(accounts_file),
                "--batch-size",
                "5",
                "--parallel",
                str(parallel),
            ]
        )
    if run.exit_code != 0:
        raise RuntimeError(f"--parallel {parallel} failed: {run.output[-3000:]}")
    spans = _step_spans(workspace)
    scraping, analysis = spans["scraping"], spans["analysis"]
    scraping_wall = max(e for _, e in scraping) - min(s for s, _ in scraping)
    analysis_wall = max(e for _, e in analysis) - min(s for s, _ in analysis)
    bound = min(CONCURRENCY / (GEMINI_SECONDS * scale), REQUESTS_PER_MINUTE / scale / 60)
    stored = _stored_analyses(workspace)
    return {
        "parallel": parallel,
        "wall_seconds": run.ended - run.started,
        "videos_analysed": stored,
        "analysis_videos_per_second": stored / analysis_wall,
        "analysis_bound_per_second": bound,
        "analysis_share_of_bound": stored / analysis_wall / bound,
        "actor_overlap": sum(e - s for s, e in scraping) / scraping_wall,
        "actor_overlap_target": 0.8 * min(batches, parallel),
        "wall_per_partition_step": (run.ended - run.started) / (batches * 3),
    }


def _stored_analyses(workspace: Workspace) -> int:
    import duckdb

    with duckdb.connect(str(workspace.settings.database), read_only=True) as connection:
        [(count,)] = connection.execute("SELECT count(*) FROM video_analyses").fetchall()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.parallel_runs")
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--videos", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as scratch:
        accounts = [f"bench{n:04d}" for n in range(args.batches * 5)]
        accounts_file = Path(scratch) / "accounts.txt"
        accounts_file.write_text("\n".join(accounts) + "\n")
        results = [
            measure_mode(
                Path(scratch) / f"p{parallel}",
                accounts_file,
                parallel,
                args.scale,
                args.batches,
                args.videos,
            )
            for parallel in (1, args.parallel)
        ]
    print(
        json.dumps(
            {"machine": describe_machine(), "scale": args.scale, "runs": results},
            indent=1,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
