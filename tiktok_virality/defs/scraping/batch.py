"""From a source's items to the rows of a batch: normalize, quality-control, limit, and say what
went wrong per account. Pure: the scraping asset calls it with what its resources fetched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from tiktok_virality.core.errors import RecordedError
from tiktok_virality.defs.scraping.limits import limit_videos
from tiktok_virality.defs.scraping.normalize import ItemError, normalize_items
from tiktok_virality.defs.scraping.quality import QualityThresholds, apply_quality_rules
from tiktok_virality.defs.scraping.quality_rules import QualityRule
from tiktok_virality.defs.scraping.sources import ScrapeRequest

NO_VIDEOS = "no videos returned (private account, no posts, or none within the max age)"


@dataclass(frozen=True)
class ScrapedBatch:
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    failures_by_rule: dict[QualityRule, int]
    errors: list[RecordedError]
    checked_rows: int
    left_out_by_limits: int


def account_errors(
    accounts: Sequence[str], item_errors: Sequence[ItemError], scraped: pd.DataFrame
) -> list[RecordedError]:
    """Permanent per-account outcomes: the source's error items and items we could not use, and
    planned accounts that came back with nothing at all."""
    errors = [RecordedError(error.account, error.error, permanent=True) for error in item_errors]
    explained = set(scraped["account"]) | {error.account for error in item_errors}
    errors += [
        RecordedError(account, NO_VIDEOS, permanent=True)
        for account in accounts
        if account not in explained
    ]
    return errors


def process_batch(
    items: Sequence[dict[str, Any]],
    *,
    request: ScrapeRequest,
    scraped_at: datetime,
    thresholds: QualityThresholds,
) -> ScrapedBatch:
    """Quality control comes before the limits, so that an account keeps its latest *usable*
    videos; rejected rows are all kept, with their reasons."""
    normalized = normalize_items(
        items, dataset=request.dataset, batch=request.batch, scraped_at=scraped_at
    )
    checked = apply_quality_rules(normalized.videos, thresholds)
    accepted = limit_videos(
        checked.accepted,
        videos_per_account=request.videos_per_account,
        max_videos=request.max_videos,
    )
    return ScrapedBatch(
        accepted=accepted,
        rejected=checked.rejected,
        failures_by_rule=checked.failures_by_rule,
        errors=account_errors(request.accounts, normalized.errors, normalized.videos),
        checked_rows=len(normalized.videos),
        left_out_by_limits=len(checked.accepted) - len(accepted),
    )
