"""How the CLI words what it did: counts, a dataset's batch plan, a partition's outcome, a model."""

from collections.abc import Mapping, Sequence
from typing import Any

from tiktok_virality.cli.runner import DatasetRunOutcome, Phase, RunOutcome
from tiktok_virality.defs.datasets.dataset import Dataset
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.scraping.quality import (
    RULE_FLAGS,
    QualityRule,
    describe_rejections,
    dominant_rule,
)
from tiktok_virality.defs.scraping.scrape_time import ScrapeTime, ScrapeTimeBasis


def count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"


def describe_plan(registry: DatasetRegistry, dataset: str) -> str:
    plan = registry.plan(dataset)
    batches = registry.batches(dataset)
    return f"{count(len(plan), 'account')} in {count(len(batches), 'batch')} ({', '.join(batches)})"


def print_created(registry: DatasetRegistry, dataset: str, how: str) -> None:
    print(f"created dataset {dataset!r} {how}: {describe_plan(registry, dataset)}")


def describe_scrape_time(dataset: Dataset) -> str:
    """When an export dataset's videos were scraped, and how we know: ages count from it."""
    assert dataset.export_scraped_at is not None
    # Datasets imported before the basis was recorded took the time given or the import time.
    basis = dataset.export_scraped_at_basis or ScrapeTimeBasis.GIVEN
    return ScrapeTime(dataset.export_scraped_at, basis).describe() + "; ages count from it"


def describe_outcome(outcome: RunOutcome, position: int, total: int) -> str:
    label = f"[{position}/{total}] {outcome.partition}"
    if not outcome.success:
        return f"{label} FAILED after {outcome.seconds:.1f} s: {outcome.error}"
    counts = ", ".join(
        f"{phase.value} {outcome.rows.get(phase, 0)} rows"
        + (f" ({count(outcome.errors[phase], 'error')})" if outcome.errors.get(phase) else "")
        for phase in outcome.phases
    )
    hint = ""
    if outcome.rows.get(Phase.SCRAPING) == 0 and outcome.rejected_by_rule:
        rule = dominant_rule(outcome.rejected_by_rule)
        flag = f" (see {RULE_FLAGS[rule]})" if rule in RULE_FLAGS else ""
        hint = f"; nothing kept: {rule.value} rejected the most{flag}"
    return f"{label} done in {outcome.seconds:.1f} s: {counts}{hint}"


def describe_left_out(rejected_by_rule: Mapping[QualityRule, int], dataset: Dataset) -> str:
    """What quality control left out, per rule, e.g. 'left out by quality control: 771 older than
    180 days before the scrape on 2022-07-27; 12 with fewer than 1,000 views'."""
    reasons = describe_rejections(rejected_by_rule, dataset.thresholds, dataset.export_scraped_at)
    return f"left out by quality control: {'; '.join(reasons) or 'nothing'}"


def describe_model(model: DatasetRunOutcome) -> str:
    if not model.success:
        return f"model of {model.dataset} FAILED after {model.seconds:.1f} s: {model.error}"
    found = model.metadata
    if not found.get("evaluated"):
        return f"model of {model.dataset} not evaluated: {found.get('reason')}"
    return (
        f"model of {model.dataset} in {model.seconds:.1f} s: {describe_scores(found)}; "
        f"report: {found['path']}"
    )


def describe_scores(found: Mapping[str, Any]) -> str:
    """An evaluated model's ROC-AUC with its 95% interval against the followers baseline, and on
    the newer videos when trained on the older; or why the data are too small for a claim."""
    if found.get("too_small"):
        return str(found["too_small"])
    time_ordered = found.get("time_ordered") or {}
    newer = (
        f"; trained on older videos, on the {time_ordered['videos']} newest: "
        + _with_interval(time_ordered["values"], time_ordered["intervals"], "model_roc_auc")
        if time_ordered.get("values")
        else ""
    )
    return (
        f"ROC-AUC {_with_interval(found, found.get('metric_intervals') or {}, 'model_roc_auc')} "
        f"against {found['baseline_followers_roc_auc']:.2f} for followers alone, on "
        f"{found['labelled_videos']} videos ({found['viral_videos']} viral){newer}"
    )


def _with_interval(
    values: Mapping[str, Any], intervals: Mapping[str, Sequence[float | None]], key: str
) -> str:
    value = values.get(key)
    low, high = intervals.get(key) or (None, None)
    shown = "–" if value is None else f"{value:.2f}"
    return shown if low is None or high is None else f"{shown} (95% CI {low:.2f}–{high:.2f})"
