"""Benchmark: what 1,000 videos cost to analyse at each media resolution, from the fake Gemini's
token accounting (the documented tokens a frame, a second of audio, a level of thinking) and the
dated price table in `config.py`; how close the analyzer's own estimate comes to it; what the cost
ledger recorded; and what scraping them costs at the fake actor's event prices (`apify_cost`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.apify_cost import apify_cost_table
from bench.core import Benchmark, Measurement, ResultTable, Verdict, column
from tiktok_virality.config import GEMINI_PRICES, GEMINI_PRICES_AS_OF, load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.analysis.analyzers import TokenUsage
from tiktok_virality.defs.analysis.cache import ANALYSIS_CACHE_SCHEMA, AnalysisCache
from tiktok_virality.defs.analysis.prompt import build_prompt
from tiktok_virality.defs.costs.budget import AnalysisSpending
from tiktok_virality.defs.costs.ledger import COST_LEDGER_SCHEMA, CostLedger
from tiktok_virality.resources import gemini_analyzer
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.helpers import APIFY_TOKEN, GEMINI_KEY, SMALL, video_urls, videos

_LOG = logging.getLogger("bench.gemini_cost")
# Durations of TikTok posts, seconds: mostly short, some past the one-minute cap.
_DURATIONS = (7, 12, 15, 21, 28, 34, 45, 58, 75, 140)
_ESTIMATE_TOLERANCE = 0.10


@dataclass(frozen=True)
class CostConfig:
    videos: int
    # The Apify side: accounts scraped, each account's latest videos.
    accounts: int
    videos_per_account: int


@dataclass(frozen=True)
class Variant:
    label: str
    overrides: dict[str, Any]


VARIANTS = (
    Variant("LOW, 1 fps, first 60 s, thinking low (defaults)", {}),
    Variant("MEDIUM, 1 fps, first 60 s, thinking low", {"media_resolution": "medium"}),
    Variant("HIGH, 1 fps, first 60 s, thinking low", {"media_resolution": "high"}),
    Variant(
        "HIGH, whole video, thinking high (no cost controls)",
        {"media_resolution": "high", "max_video_seconds": 600.0, "thinking_level": "high"},
    ),
)


@dataclass(frozen=True)
class CostRow:
    variant: str = column("Controls")
    prompt: float = column("Input tokens / video", "{:,.0f}")
    output: float = column("Output tokens / video", "{:,.0f}")
    thinking: float = column("Thinking tokens / video", "{:,.0f}")
    flash: float = column("$ / 1,000 videos, gemini-3.5-flash", "{:,.2f}")
    lite: float = column("$ / 1,000 videos, gemini-3.1-flash-lite", "{:,.2f}")
    estimate_error: float = column("Input estimate vs billed", "{:+.1%}")
    ledger: float = column("$ / 1,000 videos in the ledger (3.5-flash)", "{:,.2f}")


def _dollars(usage: TokenUsage, model: str) -> float:
    price = GEMINI_PRICES[model]
    billed_output = usage.output + usage.thinking
    return (usage.prompt * price.input_per_million + billed_output * price.output_per_million) / 1e6


def _batch(count: int, url: str) -> pd.DataFrame:
    return videos(
        *(
            {
                "video_id": str(n),
                "video_url": url,
                "duration_seconds": _DURATIONS[n % len(_DURATIONS)],
            }
            for n in range(count)
        )
    )


def _row(
    variant: Variant,
    batch: pd.DataFrame,
    servers: tuple[FakeApify, FakeGemini],
    url: str,
    database: Path,
) -> CostRow:
    apify, gemini = servers
    migrate(database, [ANALYSIS_CACHE_SCHEMA, COST_LEDGER_SCHEMA])
    ledger = CostLedger(database=str(database))
    analyzer = gemini_analyzer(
        load_settings({}),
        AnalysisCache(database=str(database)),
        api_key=GEMINI_KEY,
        base_url=gemini.url,
        requests_per_minute=10**6,
        tokens_per_minute=10**12,
        apify_token=APIFY_TOKEN,
        apify_api_url=apify.url,
        **variant.overrides,
    )
    spending = AnalysisSpending(ledger, VideoPartition("bench", "b001"), max_cost_usd=None)
    result = analyzer.analyze(batch, _LOG, spending=spending)
    if result.errors or len(result.usage) != len(batch):
        raise RuntimeError(f"{variant.label}: analysis failed: {result.errors[:1]}")
    total = sum(result.usage.values(), TokenUsage())
    estimated = sum(
        analyzer.controls.estimated_input_tokens(
            analyzer.model,
            build_prompt(video, has_video=True),
            duration_seconds=video["duration_seconds"],
            video=True,
        )
        for video in batch.to_dict("records")
    )
    count = len(batch)
    return CostRow(
        variant=variant.label,
        prompt=total.prompt / count,
        output=total.output / count,
        thinking=total.thinking / count,
        flash=_dollars(total, "gemini-3.5-flash") / count * 1000,
        lite=_dollars(total, "gemini-3.1-flash-lite") / count * 1000,
        estimate_error=estimated / total.prompt - 1,
        ledger=ledger.spent("bench") / count * 1000,
    )


def measure(config: CostConfig, work_dir: Path) -> Measurement:
    with FakeApify() as apify, FakeGemini() as gemini:
        gemini.video_seconds = 600  # long enough: each video is as long as its metadata says
        url = video_urls(apify, {"video": SMALL})["video"]
        batch = _batch(config.videos, url)
        rows = [
            _row(variant, batch, (apify, gemini), url, work_dir / f"cache-{number}.duckdb")
            for number, variant in enumerate(VARIANTS)
        ]
    worst = max(abs(row.estimate_error) for row in rows)
    ledger_gap = max(abs(row.ledger - row.flash) for row in rows)
    apify = apify_cost_table(config.accounts, config.videos_per_account, work_dir)
    return Measurement(
        method=(
            f"{config.videos} videos of {min(_DURATIONS)}–{max(_DURATIONS)} s (cycling through "
            f"{', '.join(map(str, _DURATIONS))} s) analysed by the real analyzer and SDK against "
            "the fake Gemini at each setting; tokens are what the fake billed (`usage_metadata`: "
            "70 tokens a frame at LOW and MEDIUM and 280 at HIGH on Gemini 3, 32 a second of "
            "audio, the response schema and prompt at 4 characters a token, 200 thinking tokens "
            "at level LOW and 3,000 at HIGH). Dollars use the price table of "
            f"`config.GEMINI_PRICES` (an estimate as of {GEMINI_PRICES_AS_OF}; thinking billed "
            "as output). The estimate is the analyzer's own (`AnalysisControls."
            "estimated_input_tokens`), which the quota uses before each call."
        ),
        tables=[ResultTable("Cost per 1,000 videos by media resolution", rows), apify],
        verdicts=[
            Verdict(
                target=f"input-token estimate within {_ESTIMATE_TOLERANCE:.0%} of what is billed",
                measured=f"worst {worst:+.1%}",
                met=worst <= _ESTIMATE_TOLERANCE,
            ),
            Verdict(
                target="the ledger's dollars equal the fake's billed tokens at the price table",
                measured=f"largest gap ${ledger_gap:.6f} per 1,000 videos",
                met=ledger_gap < 1e-6,
            ),
        ],
        notes=[
            "On Gemini 3 models MEDIUM costs what LOW does for video (70 tokens a frame either "
            "way); only HIGH (280) quadruples the frames' share. Audio (32 tokens a second) and "
            "the response schema (about 2,200 tokens) are paid at any resolution.",
            "The real thinking spend varies by video; the fake's fixed figures show its share, "
            "not its exact amount. The bill, not this table, is what is owed.",
            "The estimate and the fake rest on the same documented figures, so their agreement "
            "shows the estimate counts everything the fake bills (frames, audio, prompt, "
            "schema), not that the live API agrees to the token; the quota corrects each "
            "estimate with the answer's `usage_metadata`.",
            f"Apify: {config.accounts} accounts of {config.videos_per_account} videos scraped "
            "by the real `ApifyVideoSource` against the fake pay-per-event actor, 5 accounts a "
            "run; dollars are the finished runs' `usageTotalUsd`, and the ledger's the same "
            "runs as the scrape asset records them. The fake's event prices are ILLUSTRATIVE "
            "(the real ones are the actor's `pricingInfos`, which `run --dry-run` reads): the "
            "table shows how the add-ons weigh: downloads add about 55% to the scrape, the "
            "date filter another 35%.",
        ],
    )


BENCHMARK = Benchmark(
    key="gemini_cost",
    title="7. Gemini cost per 1,000 videos by media resolution",
    full=CostConfig(videos=40, accounts=20, videos_per_account=10),
    smoke=CostConfig(videos=4, accounts=5, videos_per_account=2),
    measure=measure,
)
