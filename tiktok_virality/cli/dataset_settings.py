"""A dataset's stored settings (scrape limits, quality thresholds) as the setting flags of `run`
and `dataset create` change them: a flag left out keeps the stored (or default) value."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tiktok_virality.cli.describe import describe_budget
from tiktok_virality.cli.errors import UsageError
from tiktok_virality.cli.run_log import say
from tiktok_virality.defs.datasets.dataset import Dataset, ScrapeLimits
from tiktok_virality.defs.scraping.thresholds import QualityThresholds

if TYPE_CHECKING:
    # Only its type: `dataset list` and `show` import this module and must not import Dagster.
    from tiktok_virality.defs.datasets.registry import DatasetRegistry


def apply_setting_flags(
    registry: DatasetRegistry, dataset: Dataset, args: argparse.Namespace
) -> None:
    limits, thresholds = flagged_limits(args, dataset), flagged_thresholds(args, dataset)
    if (limits, thresholds) != (dataset.limits, dataset.thresholds):
        registry.update_settings(dataset.name, limits=limits, thresholds=thresholds)
        say(
            f"settings of {dataset.name!r} now: {limits.videos_per_account} videos per account, "
            f"{limits.max_total_videos} in all, at least {thresholds.min_views} views, at most "
            f"{thresholds.max_age_days} days old (for batches scraped from now on)"
            + describe_budget(limits.max_cost_usd)
        )


def flagged_thresholds(args: argparse.Namespace, dataset: Dataset | None) -> QualityThresholds:
    current = dataset.thresholds if dataset else QualityThresholds()
    try:
        return QualityThresholds(
            min_views=current.min_views if args.min_views is None else args.min_views,
            max_age_days=args.max_age_days or current.max_age_days,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


def flagged_limits(args: argparse.Namespace, dataset: Dataset | None) -> ScrapeLimits:
    current = dataset.limits if dataset else ScrapeLimits()
    return ScrapeLimits(
        videos_per_account=args.videos_per_account or current.videos_per_account,
        max_total_videos=args.max_total_videos or current.max_total_videos,
        max_cost_usd=current.max_cost_usd if args.max_cost_usd is None else args.max_cost_usd,
    )
