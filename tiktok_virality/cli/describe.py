"""How the CLI words what it did: counts, a dataset's batch plan, a partition's outcome, a model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tiktok_virality.cli.run_log import say
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.datasets.dataset import (
    EXPORT_ORIGIN_PREFIX,
    Dataset,
    DatasetSource,
    ScrapeTimeBasis,
)
from tiktok_virality.defs.datasets.registry_tables import RegistryQueries
from tiktok_virality.defs.scraping.quality_rules import (
    QualityRule,
    describe_rejections,
)
from tiktok_virality.defs.scraping.scrape_time import ScrapeTime

if TYPE_CHECKING:
    # Only their types: the quick commands (`dataset list`, `show`) word plans without importing
    # Dagster or pandas.
    from tiktok_virality.cli.runner import DatasetRunOutcome, RunOutcome
    from tiktok_virality.defs.scraping.quality_rules import QualityRule


def count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"


def describe_plan(registry: RegistryQueries, dataset: str) -> str:
    plan = registry.plan(dataset)
    batches = registry.batches(dataset)
    return f"{count(len(plan), 'account')} in {count(len(batches), 'batch')} ({', '.join(batches)})"


def describe_origin(kind: str, origin: str) -> str:
    """Where a dataset's accounts or videos come from (`kind` as `Dataset.kind` gives it)."""
    if kind == "sample":
        return "the bundled sample (made-up accounts, generated offline)"
    if kind == DatasetSource.EXPORT:
        return f"imported from the Apify export {origin.removeprefix(EXPORT_ORIGIN_PREFIX)}"
    return "accounts to scrape with Apify"


def describe_quality(min_views: int, max_age_days: int) -> str:
    return f"quality: at least {min_views} views, at most {max_age_days} days old"


def describe_budget(max_cost_usd: float | None) -> str:
    """The budget, as a settings line ends: nothing when there is none."""
    return "" if max_cost_usd is None else f", a budget of ${max_cost_usd:,.2f} for paid work"


def describe_contents(dataset: Dataset, videos_by_account: Mapping[str, int]) -> str:
    """What bounds a dataset's videos. For accounts to scrape, the scrape limits. An export holds
    the videos it was imported with, so the limits (set at the import to keep them all) are shown
    only once lowered below them."""
    limits = dataset.limits
    if dataset.source is DatasetSource.ACCOUNTS:
        return (
            f"batch size {dataset.batch_size}, {limits.videos_per_account} videos per account, "
            f"at most {limits.max_total_videos} videos" + describe_budget(limits.max_cost_usd)
        )
    videos = sum(videos_by_account.values())
    most = max(videos_by_account.values(), default=0)
    batches = (
        f"batches of up to {dataset.batch_videos} videos"
        if dataset.batch_videos
        else f"batch size {dataset.batch_size}"
    )
    # When they were scraped, and how that is known, is the line after (`describe_scrape_time`).
    contents = f"{count(videos, 'video')} of {count(len(videos_by_account), 'account')}; {batches}"
    if limits.videos_per_account < most or limits.max_total_videos < videos:
        contents += (
            f"; kept: the latest {limits.videos_per_account} per account, at most "
            f"{limits.max_total_videos} in all"
        )
    return contents + describe_budget(limits.max_cost_usd)


def print_created(registry: RegistryQueries, dataset: str, how: str) -> None:
    say(f"created dataset {dataset!r} {how}: {describe_plan(registry, dataset)}")


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
        # Imported here: quality control needs pandas, which the quick commands do not wait for.
        from tiktok_virality.defs.scraping.quality_rules import RULE_FLAGS, dominant_rule

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
        reason = (
            "no video passed quality control (`tiktok-virality status --dataset "
            f"{model.dataset}` shows how many were scraped and rejected)"
            if found.get("videos") == 0
            else found.get("reason")
        )
        return f"model of {model.dataset} not evaluated: {reason}"
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
