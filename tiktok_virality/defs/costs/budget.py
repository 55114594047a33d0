"""A dataset's budget (`--max-cost-usd`, stored with it): no actor run or Gemini call starts once
the spend on record, the calls under way and its own estimate would pass it. What stops is failed
with what was spent, the budget and how to go on; a later run with a higher budget resumes, and
pays only for what is missing (the scrape ledger and the analysis cache never pay twice)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.analysis.analyzers import BudgetReached, SpendingGate, TokenUsage
from tiktok_virality.defs.costs.ledger import CostEntry, CostLedger, Service, UsdSource
from tiktok_virality.defs.costs.pricing import UnknownPriceError, model_price, tokens_usd
from tiktok_virality.defs.datasets.registry_tables import RegistryReader


def resume_hint(dataset: str) -> str:
    return (
        f"raise the budget to go on: tiktok-virality run --dataset {dataset} --max-cost-usd "
        "HIGHER --retry-failed (only what is missing is paid)"
    )


def check_budget(
    dataset: str, max_cost_usd: float | None, spent_usd: float, estimate_usd: float, what: str
) -> None:
    """Raise BudgetReached when `what`, estimated at `estimate_usd`, would take the spend past
    the budget (none: no limit)."""
    if max_cost_usd is not None and spent_usd + estimate_usd > max_cost_usd:
        raise BudgetReached(
            f"budget of dataset {dataset!r} reached: ${spent_usd:.4f} spent of "
            f"${max_cost_usd:.4f}, and {what} (about ${estimate_usd:.4f}) would pass it",
            resume_hint(dataset),
        )


class AnalysisSpending(SpendingGate):
    """One partition's analysis within the dataset's budget: each Gemini call is admitted while
    the spend so far, the calls in flight and its expected cost stay within it; each stored
    answer's tokens go to the ledger, priced from the dated price table (an estimate)."""

    def __init__(
        self, ledger: CostLedger, partition: VideoPartition, max_cost_usd: float | None
    ) -> None:
        self._ledger = ledger
        self._partition = partition
        self._max_cost_usd = max_cost_usd
        self._spent_usd = ledger.spent(partition.dataset) if max_cost_usd is not None else 0.0
        self._in_flight_usd = 0.0

    @contextmanager
    def call(self, model: str, expected: TokenUsage) -> Iterator[Callable[[TokenUsage], None]]:
        if self._max_cost_usd is None:
            yield lambda billed: None
            return
        price = model_price(model)  # no price: the budget cannot be kept, so nothing is paid
        estimate = tokens_usd(expected, price)
        check_budget(
            self._partition.dataset,
            self._max_cost_usd,
            self._spent_usd + self._in_flight_usd,
            estimate,
            f"the next Gemini call ({model})",
        )
        self._in_flight_usd += estimate

        def billed(usage: TokenUsage) -> None:
            self._spent_usd += tokens_usd(usage, price)

        try:
            yield billed
        finally:
            self._in_flight_usd -= estimate

    def paid(self, model: str, analysis: str, usage: dict[str, TokenUsage]) -> None:
        self._ledger.record(
            CostEntry(
                partition=self._partition,
                phase=Phase.ANALYSIS,
                service=Service.GEMINI,
                model_or_actor=model,
                unit_id=video_id,
                attempt=f"{model};{analysis}",
                units={
                    "prompt": tokens.prompt,
                    "output": tokens.output,
                    "thinking": tokens.thinking,
                },
                **_priced(model, tokens),
            )
            for video_id, tokens in usage.items()
        )


def _priced(model: str, usage: TokenUsage) -> dict[str, float | UsdSource | None]:
    try:
        return {"usd": tokens_usd(usage, model_price(model)), "usd_source": UsdSource.ESTIMATE}
    except UnknownPriceError:
        return {"usd": None, "usd_source": UsdSource.UNKNOWN}


def analysis_spending(ledger: CostLedger, partition: VideoPartition) -> AnalysisSpending:
    """The partition's analysis within its dataset's stored budget."""
    dataset = RegistryReader(ledger.database).get(partition.dataset)
    return AnalysisSpending(ledger, partition, dataset.limits.max_cost_usd if dataset else None)
