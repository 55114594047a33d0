"""The analyst's daily views on small datasets, against values computed by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from tiktok_virality.defs.report.tracking_views import (
    account_benchmark,
    adoption_speed,
    growth_curves,
    posting_heatmap,
)

SCRAPED_AT = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_heatmap_is_in_the_users_time_zone_with_sparse_cells_marked() -> None:
    videos = pd.DataFrame(
        {
            # Three Monday mornings at 9 in Paris (8 UTC), a Tuesday night that is a Wednesday
            # there, and a video without a label (not counted).
            "created_at": [
                at("2026-01-05T08:30"),
                at("2026-01-12T08:10"),
                at("2026-01-19T08:50"),
                at("2026-01-06T23:30"),
                at("2026-01-07T23:10"),
            ],
            "views_vs_account_median": [2.0, 4.0, 1.0, 0.5, None],
        }
    )

    paris = posting_heatmap(videos, "Europe/Paris")
    utc = posting_heatmap(videos, "UTC")

    assert paris.values.tolist() == [[0, 9, 3, 2.0, False], [2, 0, 1, 0.5, True]]
    assert utc[["weekday", "hour", "videos"]].values.tolist() == [[0, 8, 3], [1, 23, 1]]


def test_the_benchmark_per_account_equals_hand_computed_values() -> None:
    rows = [
        # account, posted, views, engagement rate, viral
        ("alice", "2026-01-05T08:00", 1000, 0.10, False),
        ("alice", "2026-01-12T08:10", 4000, 0.20, True),
        ("alice", "2026-01-19T08:50", 500, 0.05, False),
        ("alice", "2026-01-30T08:00", 2000, 0.10, None),
        ("bob", "2026-01-19T08:00", 100, 0.05, False),
        ("bob", "2026-01-26T08:00", 300, 0.15, None),
    ]
    videos = pd.DataFrame(
        [
            {
                "account": account,
                "created_at": at(posted),
                "scraped_at": SCRAPED_AT,
                "views": views,
                "engagement_rate": rate,
                "viral": viral,
            }
            for account, posted, views, rate, viral in rows
        ]
    )

    benchmark = account_benchmark(videos).set_index("account")

    # alice: 4 posts over the 4 weeks since her oldest; median views of 1000, 4000, 500, 2000;
    # 1 outlier of 3 labelled; posted in the last 28 days (strictly after 5 Jan 08:00): 4000,
    # 500, 2000 (median 2000) against 1000 before: ×2.
    assert benchmark.loc["alice"].tolist() == [
        4,
        1.0,
        1500.0,
        pytest.approx(0.10),
        pytest.approx(1 / 3),
        2.0,
    ]
    # bob: 2 posts over 2 weeks, nothing older than 4 weeks: no trend.
    bob = benchmark.loc["bob"].tolist()
    assert bob[:5] == [2, 1.0, 200.0, pytest.approx(0.10), 0.0] and math.isnan(bob[5])
    assert list(benchmark.index) == ["alice", "bob"]  # most viewed first


def test_sounds_and_hashtags_ranked_by_how_fast_accounts_adopt_them() -> None:
    uses = [
        # account, posted, hashtags, sound id, sound name
        ("alice", "2026-01-05T08:00", ["fast", "slow", "solo"], None, None),
        ("bob", "2026-01-07T08:00", ["fast"], None, None),
        ("carol", "2026-01-08T08:00", ["fast"], None, None),
        ("bob", "2026-01-19T08:00", ["slow"], "9", "Song"),
        ("bob", "2026-01-10T08:00", [], "9", "Song"),
        ("carol", "2026-01-11T08:00", [], "9", "Song"),
    ]
    videos = pd.DataFrame(
        [
            {"account": a, "created_at": at(t), "hashtags": h, "music_id": s, "music_name": n}
            for a, t, h, s, n in uses
        ]
    )

    ranked = adoption_speed(videos)

    assert ranked[
        ["kind", "name", "accounts", "adopted_within_window", "median_days_to_adopt"]
    ].values.tolist() == [
        ["hashtag", "#fast", 3, 3, 2.5],
        ["sound", "Song", 2, 2, 1.0],
        ["hashtag", "#slow", 2, 1, 14.0],
    ]
    assert ranked["first_seen"].iloc[1] == at("2026-01-10T08:00")


def test_growth_curves_are_the_videos_that_gained_most_while_tracked() -> None:
    snapshots = pd.DataFrame(
        [
            {
                "video_id": video,
                "account": "a",
                "age_hours": age,
                "views": views,
                "scraped_at": at(t),
            }
            for video, age, views, t in [
                ("big", 5, 100, "2026-01-01T00:00"),
                ("big", 11, 900, "2026-01-01T06:00"),
                ("once", 30, 5000, "2026-01-01T06:00"),
                ("old", 200, 90_000, "2026-01-01T00:00"),
                ("old", 206, 90_010, "2026-01-01T06:00"),
                ("small", 20, 50, "2026-01-01T00:00"),
                ("small", 26, 260, "2026-01-01T06:00"),
            ]
        ]
    )

    curves = growth_curves(snapshots, top=2)

    # big gained 800, small 210, old 10 (though the most viewed), once was seen once.
    assert curves[["video_id", "views"]].values.tolist() == [
        ["big", 100],
        ["big", 900],
        ["small", 50],
        ["small", 260],
    ]
