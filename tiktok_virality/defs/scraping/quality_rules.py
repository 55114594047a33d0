"""The quality rules by name, and how their rejections are told: apart from applying them to
frames (`quality.py`, pandas), because `status`, `dataset show` and the run's summary word them
without loading pandas."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from tiktok_virality.defs.scraping.thresholds import QualityThresholds


class QualityRule(StrEnum):
    """The quality rules, in the order they are evaluated and listed. The values are stable: they
    are shown in the UI and stored in tables as rejection reasons."""

    REQUIRED_FIELDS = "required_fields"
    VALID_RANGES = "valid_ranges"
    NOT_IN_FUTURE = "not_in_future"
    MIN_VIEWS = "min_views"
    MAX_AGE = "max_age"


RULE_DESCRIPTIONS: dict[QualityRule, str] = {
    QualityRule.REQUIRED_FIELDS: "Every video has an id, account, posting and scrape time, views.",
    QualityRule.VALID_RANGES: "No negative counts or sizes; every value of its column's type.",
    QualityRule.NOT_IN_FUTURE: "No video posted after it was scraped (1 h of clock skew allowed).",
    QualityRule.MIN_VIEWS: "Every video has the dataset's minimum views (default 1,000).",
    QualityRule.MAX_AGE: "No video older than the dataset's max age (default 180 days).",
}

# The flag that changes each adjustable rule's threshold; the other rules reject broken data.
RULE_FLAGS: dict[QualityRule, str] = {
    QualityRule.MIN_VIEWS: "--min-views",
    QualityRule.MAX_AGE: "--max-age-days",
}

_RULES = tuple(QualityRule)


def describe_rejections(
    failures_by_rule: Mapping[QualityRule, int],
    thresholds: QualityThresholds,
    scraped_at: datetime | None,
) -> list[str]:
    """What each rule left out, in words, most first: e.g. '771 older than 180 days before the
    scrape on 2022-07-27'. `scraped_at` is the scrape of every row (an export's), or None when the
    rows were scraped at different times."""
    scrape = f"the scrape on {scraped_at:%Y-%m-%d}" if scraped_at else "their scrape"
    wording = {
        QualityRule.REQUIRED_FIELDS: "without an id, account, posting time or view count",
        QualityRule.VALID_RANGES: "with a negative count or a value of the wrong type",
        QualityRule.NOT_IN_FUTURE: f"posted after {scrape}",
        QualityRule.MIN_VIEWS: f"with fewer than {thresholds.min_views:,} views",
        QualityRule.MAX_AGE: f"older than {thresholds.max_age_days} days before {scrape}",
    }
    ranked = sorted(
        (rule for rule in _RULES if failures_by_rule.get(rule, 0)),
        key=lambda rule: -failures_by_rule[rule],
    )
    return [f"{failures_by_rule[rule]:,} {wording[rule]}" for rule in ranked]


def dominant_rule(failures_by_rule: Mapping[QualityRule, int]) -> QualityRule:
    """The rule that rejected the most rows (the first in rule order on a tie)."""
    return max(_RULES, key=lambda rule: failures_by_rule.get(rule, 0))


def nothing_kept_hint(failures_by_rule: Mapping[QualityRule, int]) -> str:
    """For a batch that kept no video: the rule that rejected the most, and the flag that changes
    it."""
    dominant = dominant_rule(failures_by_rule)
    flag = RULE_FLAGS.get(dominant)
    change = (
        f"{flag} N on `tiktok-virality run` changes its threshold for the batches not stored yet "
        "(an export's stored batches are redone by importing it again under a new name)"
        if flag
        else "no flag changes it: the items themselves are broken"
    )
    return f"nothing kept: {dominant.value} rejected the most; {change}"
