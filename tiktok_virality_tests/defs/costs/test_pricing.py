"""The pure pricing functions: tokens and events to dollars, and the expected units of a call or
an actor run."""

import pytest

from tiktok_virality.config import ModelPrice
from tiktok_virality.defs.analysis.analyzers import TokenUsage
from tiktok_virality.defs.costs.pricing import (
    EXPECTED_OUTPUT_TOKENS,
    UnknownPriceError,
    event_counts_usd,
    expected_event_counts,
    expected_usage,
    model_price,
    tokens_usd,
)
from tiktok_virality.defs.costs.scraping import expected_results

PRICE = ModelPrice(input_per_million=2.0, output_per_million=10.0)


def test_thinking_tokens_bill_at_the_output_price() -> None:
    assert tokens_usd(TokenUsage(prompt=1_000_000), PRICE) == pytest.approx(2.0)
    assert tokens_usd(TokenUsage(output=1_000_000), PRICE) == pytest.approx(10.0)
    assert tokens_usd(TokenUsage(thinking=1_000_000), PRICE) == pytest.approx(10.0)
    assert tokens_usd(TokenUsage(8_000, 500, 200), PRICE) == pytest.approx(0.016 + 0.007)


def test_a_model_without_a_price_is_named_with_the_known_ones() -> None:
    assert model_price("models/gemini-3.5-flash") == model_price("gemini-3.5-flash")
    with pytest.raises(UnknownPriceError, match=r"gemini-9-ultra.*gemini-3\.5-flash"):
        model_price("gemini-9-ultra")


def test_a_call_is_expected_to_think_as_its_level_says() -> None:
    assert expected_usage(9_000, "low") == TokenUsage(9_000, EXPECTED_OUTPUT_TOKENS, 200)
    assert expected_usage(9_000, "minimal").thinking == 0
    assert expected_usage(9_000, "high").thinking > expected_usage(9_000, "medium").thinking


def test_an_actor_run_is_expected_to_charge_its_start_once_and_the_rest_per_video() -> None:
    prices = {
        "apify-actor-start": 0.005,
        "result": 0.003,
        "video-download": 0.002,
        "date-filter": 0.001,
    }
    counts = expected_event_counts(prices, results=40, downloads=30, date_filter=False)
    assert counts == {"apify-actor-start": 1, "result": 40, "video-download": 30, "date-filter": 0}
    assert event_counts_usd(counts, prices) == pytest.approx(0.005 + 0.12 + 0.06)
    filtered = expected_event_counts(prices, results=40, downloads=0, date_filter=True)
    assert filtered == {
        "apify-actor-start": 1,
        "result": 40,
        "video-download": 0,
        "date-filter": 40,
    }
    assert event_counts_usd({"unpriced": 7}, prices) == 0


def test_a_batch_expects_each_accounts_latest_within_what_the_dataset_may_hold() -> None:
    assert expected_results(accounts=5, videos_per_account=15, max_videos=500) == 75
    assert expected_results(accounts=5, videos_per_account=15, max_videos=20) == 20
