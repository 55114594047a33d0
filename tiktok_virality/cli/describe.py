"""How the CLI words what it did: counts, a dataset's batch plan, a partition's outcome, a model."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from tiktok_virality.cli.run_log import say
from tiktok_virality.defs.datasets.dataset import EXPORT_ORIGIN_PREFIX, Dataset, DatasetSource
from tiktok_virality.defs.datasets.registry_tables import RegistryQueries

if TYPE_CHECKING:
    # Only their types: the quick commands (`dataset list`) word plans without importing Dagster.
    from tiktok_virality.cli.runner import DatasetRunOutcome, RunOutcome


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


def describe_contents(dataset: Dataset, videos_by_account: Mapping[str, int]) -> str:
    """What bounds a dataset's videos. For accounts to scrape, the scrape limits. An export holds
    the videos it was imported with, so the limits (set at the import to keep them all) are shown
    only once lowered below them."""
    limits = dataset.limits
    if dataset.source is DatasetSource.ACCOUNTS:
        return (
            f"batch size {dataset.batch_size}, {limits.videos_per_account} videos per account, "
            f"at most {limits.max_total_videos} videos"
        )
    videos = sum(videos_by_account.values())
    most = max(videos_by_account.values(), default=0)
    contents = (
        f"{count(videos, 'video')} of {count(len(videos_by_account), 'account')}, scraped "
        f"{_minute(dataset.export_scraped_at)}; batch size {dataset.batch_size}"
    )
    if limits.videos_per_account < most or limits.max_total_videos < videos:
        contents += (
            f"; kept: the latest {limits.videos_per_account} per account, at most "
            f"{limits.max_total_videos} in all"
        )
    return contents


def _minute(instant: datetime | None) -> str:
    return f"{instant:%Y-%m-%d %H:%M} UTC" if instant else "at an unknown time"


def print_created(registry: RegistryQueries, dataset: str, how: str) -> None:
    say(f"created dataset {dataset!r} {how}: {describe_plan(registry, dataset)}")


def describe_outcome(outcome: RunOutcome, position: int, total: int) -> str:
    label = f"[{position}/{total}] {outcome.partition}"
    if not outcome.success:
        return f"{label} FAILED after {outcome.seconds:.1f} s: {outcome.error}"
    counts = ", ".join(
        f"{phase.value} {outcome.rows.get(phase, 0)} rows"
        + (f" ({count(outcome.errors[phase], 'error')})" if outcome.errors.get(phase) else "")
        for phase in outcome.phases
    )
    return f"{label} done in {outcome.seconds:.1f} s: {counts}"


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
        f"model of {model.dataset} in {model.seconds:.1f} s: ROC-AUC "
        f"{found['model_roc_auc']:.2f} against {found['baseline_followers_roc_auc']:.2f} for "
        f"followers alone, on {found['labelled_videos']} videos ({found['viral_videos']} viral); "
        f"report: {found['path']}"
    )
