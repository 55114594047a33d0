"""What paid work costs, in US dollars: pure functions over the units the services report (Gemini's
tokens, an Apify actor's events), and the expected units of work not done yet (for `run --dry-run`
and the budget's check before each call).

Gemini bills input tokens at the model's input price and output *and thinking* tokens at its
output price ("Pricing": "Output price (including thinking tokens)", ai.google.dev/gemini-api/docs/
pricing, read 2026-12-07); our prices are the dated estimate in `config.GEMINI_PRICES`. Apify bills a
pay-per-event actor each event it charges at the actor's price for it (docs.apify.com/platform/
actors/running/actors-in-store#pay-per-event); the finished run's `usageTotalUsd` is Apify's own
figure, which we record as it is."""

from __future__ import annotations

from collections.abc import Mapping

from tiktok_virality.config import GEMINI_PRICES, ModelPrice
from tiktok_virality.defs.analysis.analyzers import TokenUsage

# What an answer holds, in tokens: the analysis in the versioned schema, about 670 characters of
# JSON (measured on schema version 1 against the fake Gemini, whose answers are schema-valid values
# of the schema's own lengths: 168 tokens). Wordier real answers cost more: the ledger records
# what each answer was billed.
EXPECTED_OUTPUT_TOKENS = 170
# Thinking varies by video; these are the amounts the fake Gemini bills per level, an assumption
# until the ledger holds real figures (README, "What a run costs").
EXPECTED_THINKING_TOKENS = {"minimal": 0, "low": 200, "medium": 800, "high": 3_000}
# Apify's synthetic event charged once when a pay-per-event run starts (docs.apify.com/platform/
# actors/publishing/monetize/pay-per-event, "Synthetic start event").
ACTOR_START_EVENT = "apify-actor-start"


class UnknownPriceError(LookupError):
    """No price on record for a model: its calls cannot be priced (nor kept within a budget)."""


def model_price(model: str) -> ModelPrice:
    price = GEMINI_PRICES.get(model.removeprefix("models/"))
    if price is None:
        raise UnknownPriceError(
            f"no price on record for {model} (config.GEMINI_PRICES knows "
            f"{', '.join(sorted(GEMINI_PRICES))}): its cost cannot be estimated"
        )
    return price


def tokens_usd(usage: TokenUsage, price: ModelPrice) -> float:
    """Input at the input price; output and thinking at the output price."""
    billed_output = usage.output + usage.thinking
    return (usage.prompt * price.input_per_million + billed_output * price.output_per_million) / 1e6


def expected_usage(input_tokens: int, thinking_level: str) -> TokenUsage:
    """The tokens a call with this input is expected to be billed."""
    return TokenUsage(
        prompt=input_tokens,
        output=EXPECTED_OUTPUT_TOKENS,
        thinking=EXPECTED_THINKING_TOKENS[thinking_level],
    )


def event_counts_usd(counts: Mapping[str, int], prices: Mapping[str, float]) -> float:
    """The charges for these events at these prices (an event without a price costs nothing)."""
    return sum(count * prices.get(event, 0.0) for event, count in counts.items())


def expected_event_counts(
    prices: Mapping[str, float], *, results: int, downloads: int, date_filter: bool
) -> dict[str, int]:
    """The events an actor run is expected to charge, told apart by their names (the actor's
    own, from its `pricingInfos`): the start once, a download per video downloaded, a date
    filter's per result when the filter is on, every other event once per result (which errs
    high for an add-on we do not ask for)."""
    counts = {}
    for event in prices:
        name = event.lower()
        if event == ACTOR_START_EVENT:
            counts[event] = 1
        elif "download" in name:
            counts[event] = downloads
        elif "date" in name:
            counts[event] = results if date_filter else 0
        else:
            counts[event] = results
    return counts
