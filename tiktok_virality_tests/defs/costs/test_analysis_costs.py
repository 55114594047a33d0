"""Gemini's costs through the real SDK against the fake Gemini: the ledger holds what the fake
billed, to the token; a budget stops the analysis between calls and a higher one resumes it
without paying any video twice."""

import json
from collections.abc import Callable

import pytest

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.analysis.analyzers import BudgetReached, TokenUsage
from tiktok_virality.defs.analysis.cache import AnalysisCache
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.costs.budget import AnalysisSpending
from tiktok_virality.defs.costs.ledger import COST_LEDGER_SCHEMA, CostLedger
from tiktok_virality.defs.costs.pricing import model_price, tokens_usd
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality.warehouse.storage import read_rows
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.helpers import LOG, SMALL, video_urls, videos

B1 = VideoPartition("v1", "b001")


@pytest.fixture
def ledger(cache: AnalysisCache) -> CostLedger:
    migrate(cache.database, [COST_LEDGER_SCHEMA])
    return CostLedger(database=cache.database)


@pytest.fixture
def one_at_a_time(analyzer_against_fakes: Callable[..., GeminiAnalyzer]) -> GeminiAnalyzer:
    """One call at a time: a budget stops at a known video."""
    return analyzer_against_fakes(concurrency=1)


def _recorded(ledger: CostLedger) -> list[tuple[str, dict[str, int], float, str]]:
    rows = read_rows(
        ledger.database,
        "SELECT unit_id, units, usd, usd_source FROM costs ORDER BY unit_id",
        table="costs",
    )
    return [(unit, json.loads(units), usd, source) for unit, units, usd, source in rows]


def test_the_ledger_holds_the_tokens_and_dollars_the_fake_billed(
    one_at_a_time: GeminiAnalyzer,
    fake_gemini: FakeGemini,
    fake_apify: FakeApify,
    ledger: CostLedger,
) -> None:
    url = video_urls(fake_apify, {"v": SMALL})["v"]
    batch = videos(
        *({"video_id": str(n), "video_url": url, "duration_seconds": 10 * n} for n in (1, 2, 9))
    )

    one_at_a_time.analyze(batch, LOG, spending=AnalysisSpending(ledger, B1, None))
    one_at_a_time.analyze(batch, LOG, spending=AnalysisSpending(ledger, B1, None))  # all cached

    billed = TokenUsage(
        prompt=sum(u["promptTokenCount"] for u in fake_gemini.billed_usage),
        output=sum(u.get("candidatesTokenCount", 0) for u in fake_gemini.billed_usage),
        thinking=sum(u.get("thoughtsTokenCount", 0) for u in fake_gemini.billed_usage),
    )
    rows = _recorded(ledger)
    assert [unit for unit, *_ in rows] == ["1", "2", "9"]
    recorded = TokenUsage(
        prompt=sum(units["prompt"] for _, units, _, _ in rows),
        output=sum(units["output"] for _, units, _, _ in rows),
        thinking=sum(units["thinking"] for _, units, _, _ in rows),
    )
    assert recorded == billed and billed.thinking > 0
    expected_usd = tokens_usd(billed, model_price(one_at_a_time.model))
    assert ledger.spent("v1") == pytest.approx(expected_usd)
    assert {source for *_, source in rows} == {"estimate"}


def test_a_budget_stops_between_calls_and_a_higher_one_resumes_paying_nothing_twice(
    one_at_a_time: GeminiAnalyzer,
    fake_gemini: FakeGemini,
    fake_apify: FakeApify,
    ledger: CostLedger,
) -> None:
    url = video_urls(fake_apify, {"v": SMALL})["v"]
    batch = videos(*({"video_id": str(n), "video_url": url} for n in range(1, 6)))
    one_at_a_time.analyze(batch.head(1), LOG, spending=AnalysisSpending(ledger, B1, None))
    one_call = ledger.spent("v1")

    with pytest.raises(BudgetReached) as stopped:
        one_at_a_time.analyze(batch, LOG, spending=AnalysisSpending(ledger, B1, 2.5 * one_call))

    assert fake_gemini.generate_calls == 2  # the first video's, and the second's within budget
    message = str(stopped.value)
    assert f"${2.5 * one_call:.4f}" in message and "3 videos of this batch left" in message
    assert "--max-cost-usd HIGHER" in message
    assert ledger.spent("v1") == pytest.approx(2 * one_call)

    resumed = one_at_a_time.analyze(batch, LOG, spending=AnalysisSpending(ledger, B1, 10.0))

    assert resumed.errors == [] and len(resumed.analyses) == 5
    assert fake_gemini.generate_calls == 5  # each video paid for once
    assert ledger.spent("v1") == pytest.approx(5 * one_call)
    assert [unit for unit, *_ in _recorded(ledger)] == ["1", "2", "3", "4", "5"]
