"""2. Scraping: one Apify actor run per batch against one per account, at the fake Apify with runs
that take a fixed time.

`ApifyVideoSource.fetch` scrapes the batches one after another, as a CLI run's partitions are,
with the real apify-client; runs and requests are counted at the fake."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from bench import synthetic
from bench.core import Benchmark, Measurement, ResultTable, column
from bench.fakes import APIFY_TOKEN, ConcurrentFakeApify, run_duration
from tiktok_virality.config import load_settings
from tiktok_virality.defs.datasets.dataset import batch_key
from tiktok_virality.defs.scraping.ledger import SCRAPE_LEDGER_SCHEMA, ScrapeLedger
from tiktok_virality.defs.scraping.sources import ScrapeRequest
from tiktok_virality.resources import apify_video_source
from tiktok_virality.warehouse.migrations import migrate

_LOG = logging.getLogger(__name__)
_RUNS = r"/runs$"
_MAX_AGE_DAYS = 180


@dataclass(frozen=True)
class ScrapingConfig:
    accounts: int
    videos_per_account: int
    run_seconds: float
    batch_sizes: tuple[int, ...]


FULL = ScrapingConfig(accounts=50, videos_per_account=15, run_seconds=2.0, batch_sizes=(10, 1))
SMOKE = ScrapingConfig(accounts=4, videos_per_account=3, run_seconds=0.05, batch_sizes=(2, 1))


@dataclass(frozen=True)
class ScrapingRow:
    variant: str = column("variant")
    batch_size: int = column("accounts per batch")
    batches: int = column("batches")
    runs: int = column("actor runs (at the fake)")
    requests: int = column("API requests")
    items: int = column("items")
    seconds: float = column("wall s", "{:.1f}")
    seconds_per_account: float = column("s per account", "{:.2f}")
    beyond_runs: float = column("s beyond the runs' own time", "{:.1f}")


def measure(config: ScrapingConfig, work_dir: Path) -> Measurement:
    accounts = [f"bench{number:03d}" for number in range(config.accounts)]
    items = synthetic.apify_items(
        accounts,
        scraped_at=synthetic.SCRAPED_AT,
        videos_per_account=config.videos_per_account,
    )
    rows = []
    with ConcurrentFakeApify(latency_seconds=run_duration(config.run_seconds)) as fake:
        fake.items_by_profile = items
        for batch_size in config.batch_sizes:
            database = work_dir / f"ledger_{batch_size}.duckdb"
            migrate(database, [SCRAPE_LEDGER_SCHEMA])
            source = apify_video_source(
                load_settings({}),
                ScrapeLedger(database=str(database)),
                token=APIFY_TOKEN,
                api_url=fake.url,
            )
            runs_before, requests_before = len(fake.runs), len(fake.requests)
            batches = [
                accounts[start : start + batch_size]
                for start in range(0, len(accounts), batch_size)
            ]
            started = time.perf_counter()
            fetched = sum(
                len(source.fetch(_request(number, batch, config), _LOG).items)
                for number, batch in enumerate(batches, start=1)
            )
            seconds = time.perf_counter() - started
            runs = len(fake.runs) - runs_before
            rows.append(
                ScrapingRow(
                    variant="one run per batch" if batch_size > 1 else "one run per account",
                    batch_size=batch_size,
                    batches=len(batches),
                    runs=runs,
                    requests=len(fake.requests) - requests_before,
                    items=fetched,
                    seconds=seconds,
                    seconds_per_account=seconds / len(accounts),
                    beyond_runs=seconds - runs * config.run_seconds,
                )
            )
        posted = len(fake.requests_to("POST", _RUNS))
    if posted != sum(row.runs for row in rows):
        raise RuntimeError(f"{posted} run starts for {sum(row.runs for row in rows)} runs")
    return _measurement(config, rows)


def _request(number: int, accounts: list[str], config: ScrapingConfig) -> ScrapeRequest:
    return ScrapeRequest(
        dataset="bench",
        batch=batch_key(number),
        accounts=tuple(accounts),
        videos_per_account=config.videos_per_account,
        max_videos=config.videos_per_account * len(accounts),
        max_age_days=_MAX_AGE_DAYS,
    )


def _measurement(config: ScrapingConfig, rows: list[ScrapingRow]) -> Measurement:
    per_batch, per_account = rows[0], rows[-1]
    overhead_per_run = [row.beyond_runs / row.runs for row in rows]
    return Measurement(
        method=(
            f"{config.accounts} accounts × {config.videos_per_account} videos, scraped by "
            f"`ApifyVideoSource.fetch` batch after batch against the fake Apify, each actor run "
            f"taking {config.run_seconds:g} s. The fake has no run-duration setting: the run "
            "takes its time in the client's `GET /v2/actor-runs/{id}?waitForFinish=…`, which "
            "the fake holds that long, as the API holds it while a run is running. Runs are "
            "counted at the fake (`POST …/runs`, the request Apify bills a run for)."
        ),
        tables=[ResultTable("One run per batch against one per account", rows)],
        notes=[
            f"One run per batch of {per_batch.batch_size}: {per_batch.runs} runs and "
            f"{per_batch.seconds:.1f} s; one per account: {per_account.runs} runs and "
            f"{per_account.seconds:.1f} s ({per_account.seconds / per_batch.seconds:.1f}× the "
            "time), for the same items. Batches run one after another, so the wall time is the "
            "runs' duration times their number, plus "
            f"{min(overhead_per_run):.2f}–{max(overhead_per_run):.2f} s per run of our own "
            "(start, the ledger's run record, paging the dataset).",
            "A real profile scrape run takes tens of seconds of container start and crawling "
            "beyond its items, and Apify bills each actor start: per-account runs multiply both by "
            "the batch size. The items returned are the same either way.",
        ],
    )


BENCHMARK = Benchmark(
    key="scraping",
    title="2. Scraping: one actor run per batch against one per account",
    full=FULL,
    smoke=SMOKE,
    measure=measure,
)
