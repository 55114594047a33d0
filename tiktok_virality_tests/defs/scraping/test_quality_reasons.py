"""What quality control left out, in words: the reasons the run summary, `status`, the UI and the
report give."""

from datetime import UTC, datetime

import pandas as pd

from tiktok_virality.defs.scraping.quality import QualityThresholds, rejection_counts
from tiktok_virality.defs.scraping.quality_rules import (
    QualityRule,
    describe_rejections,
    dominant_rule,
    nothing_kept_hint,
)

THRESHOLDS = QualityThresholds(min_views=1000, max_age_days=180)
SCRAPED = datetime(2022, 7, 27, 14, 3, tzinfo=UTC)


def test_each_rule_says_what_it_left_out_most_first() -> None:
    failures = {QualityRule.MIN_VIEWS: 12, QualityRule.MAX_AGE: 771, QualityRule.VALID_RANGES: 0}

    assert describe_rejections(failures, THRESHOLDS, SCRAPED) == [
        "771 older than 180 days before the scrape on 2022-07-27",
        "12 with fewer than 1,000 views",
    ]


def test_without_one_scrape_time_the_age_counts_from_each_videos_scrape() -> None:
    failures = {QualityRule.MAX_AGE: 3, QualityRule.NOT_IN_FUTURE: 1}

    assert describe_rejections(failures, QualityThresholds(max_age_days=30), None) == [
        "3 older than 30 days before their scrape",
        "1 posted after their scrape",
    ]
    assert describe_rejections({}, THRESHOLDS, SCRAPED) == []


def test_rejected_rows_are_counted_per_rule_a_row_for_each_rule_it_failed() -> None:
    rejected = pd.DataFrame(
        {"rejection_reasons": [["max_age"], ["min_views", "max_age"], ["required_fields"]]}
    )

    assert rejection_counts(rejected) == {
        QualityRule.REQUIRED_FIELDS: 1,
        QualityRule.MIN_VIEWS: 1,
        QualityRule.MAX_AGE: 2,
    }
    assert rejection_counts(rejected.iloc[:0]) == {}


def test_a_batch_that_kept_nothing_names_the_dominant_rule_and_its_flag() -> None:
    failures = {QualityRule.MIN_VIEWS: 4, QualityRule.MAX_AGE: 40}

    assert dominant_rule(failures) is QualityRule.MAX_AGE
    hint = nothing_kept_hint(failures)
    assert hint.startswith("nothing kept: max_age rejected the most; --max-age-days N")
    assert "--min-views" in nothing_kept_hint({QualityRule.MIN_VIEWS: 9})


def test_broken_items_have_no_flag_to_change() -> None:
    hint = nothing_kept_hint({QualityRule.REQUIRED_FIELDS: 5, QualityRule.MIN_VIEWS: 1})

    assert hint == (
        "nothing kept: required_fields rejected the most; no flag changes it: the items "
        "themselves are broken"
    )
