"""What scraping 1,000 videos costs at the actor's event prices, for `gemini_cost`'s section: the
real `ApifyVideoSource` against the fake Apify's pay-per-event actor (its charges, not ours), each
run's charges recorded in the cost ledger as the scrape asset records them."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.core import ResultTable, column
from bench.fakes import APIFY_TOKEN
from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.costs.ledger import COST_LEDGER_SCHEMA, CostLedger
from tiktok_virality.defs.costs.scraping import record_actor_run
from tiktok_virality.defs.datasets.dataset import batch_key
from tiktok_virality.defs.scraping.ledger import SCRAPE_LEDGER_SCHEMA, ScrapeLedger
from tiktok_virality.defs.scraping.sources import ScrapeRequest
from tiktok_virality.resources import apify_video_source
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify

_LOG = logging.getLogger("bench.apify_cost")
_ACCOUNTS_PER_RUN = 5
_MAX_AGE_DAYS = 180

# The paid add-ons a run asks for: downloads only when Gemini watches the videos.
ADD_ONS = (
    ("downloads (Gemini watches the videos)", {"download_videos": True}),
    ("no downloads (offline analysis)", {"download_videos": False}),
    ("downloads and the date filter", {"download_videos": True, "date_filter": True}),
)


@dataclass(frozen=True)
class ApifyCostRow:
    add_ons: str = column("Paid add-ons")
    runs: int = column("Actor runs")
    videos: int = column("Videos")
    events: str = column("Events charged")
    per_thousand: float = column("$ / 1,000 videos (Apify's usageTotalUsd)", "{:,.2f}")
    ledger_per_thousand: float = column("$ / 1,000 videos (the ledger)", "{:,.2f}")


def apify_cost_table(accounts: int, videos_per_account: int, work_dir: Path) -> ResultTable:
    names = [f"bench{number:03d}" for number in range(accounts)]
    # Posted lately: the date filter keeps them all, so that each variant scrapes the same videos.
    items = synthetic.apify_items(
        names, scraped_at=datetime.now(UTC), videos_per_account=videos_per_account
    )
    with FakeApify() as fake:
        fake.items_by_profile = items
        rows = [
            _row(label, options, fake, names, videos_per_account, work_dir / f"apify-{n}.duckdb")
            for n, (label, options) in enumerate(ADD_ONS)
        ]
    return ResultTable("Apify's charges per 1,000 videos by paid add-on", rows)


def _row(
    label: str,
    options: dict[str, Any],
    fake: FakeApify,
    accounts: list[str],
    videos_per_account: int,
    database: Path,
) -> ApifyCostRow:
    migrate(database, [SCRAPE_LEDGER_SCHEMA, COST_LEDGER_SCHEMA])
    source = apify_video_source(
        load_settings({}),
        ScrapeLedger(database=str(database)),
        token=APIFY_TOKEN,
        api_url=fake.url,
        media_cache=None,
        **options,
    )
    ledger = CostLedger(database=str(database))
    videos, charged, usd = 0, {}, 0.0
    for number, start in enumerate(range(0, len(accounts), _ACCOUNTS_PER_RUN), start=1):
        batch = tuple(accounts[start : start + _ACCOUNTS_PER_RUN])
        request = ScrapeRequest(
            dataset="bench",
            batch=batch_key(number),
            accounts=batch,
            videos_per_account=videos_per_account,
            max_videos=videos_per_account * len(batch),
            max_age_days=_MAX_AGE_DAYS,
        )
        fetched = source.fetch(request, _LOG)
        if not fetched.charges or any(run.usage_total_usd is None for run in fetched.charges):
            raise RuntimeError(f"{label}: the run reported no charges")
        record_actor_run(ledger, VideoPartition("bench", request.batch), fetched.charges)
        videos += sum(1 for item in fetched.items if item.get("id"))
        for run in fetched.charges:
            usd += run.usage_total_usd or 0.0
            for event, count in run.charged_event_counts.items():
                charged[event] = charged.get(event, 0) + count
    return ApifyCostRow(
        add_ons=label,
        runs=number,
        videos=videos,
        events=json.dumps(dict(sorted(charged.items()))).replace('"', ""),
        per_thousand=usd / videos * 1000,
        ledger_per_thousand=ledger.spent("bench") / videos * 1000,
    )
