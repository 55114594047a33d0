"""Velocity from snapshots, against values computed by hand, and without look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tiktok_virality.defs.features.velocity import (
    early_views_per_hour,
    velocity_columns,
    velocity_features,
    views_at_age,
)


def snapshots(*videos: tuple[str, list[tuple[float, int]]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"dataset": "v1", "batch": "b001", "video_id": video_id, "age_hours": age, "views": n}
            for video_id, points in videos
            for age, n in points
        ]
    )


def test_velocity_of_each_video_equals_hand_computed_values() -> None:
    frame = velocity_features(
        snapshots(
            # Seen before and after both ages; its first day at 18 h.
            ("a", [(6, 600), (18, 2400), (30, 4200), (54, 6000)]),
            # One snapshot, 6 h after 24 h: interpolated from posting (0 views at 0 h).
            ("b", [(30, 900)]),
            # Only young snapshots: nothing past 20 h, no later snapshot for its first day.
            ("c", [(10, 100), (20, 300)]),
            # Nothing near 24 or 48 h.
            ("d", [(100, 5000), (200, 8000)]),
        )
    ).set_index("video_id")

    def row(video: str) -> list[object]:
        values = frame.loc[video].drop(["dataset", "batch"]).tolist()
        return [None if pd.isna(value) else value for value in values]

    # snapshots, views/h of the last interval, gained, at 24 h, at 48 h, early views/h
    assert row("a") == [4, 75.0, 1800, 3300.0, 5550.0, pytest.approx(2400 / 18)]
    assert row("b") == [1, None, None, 720.0, None, None]
    assert row("c") == [2, 20.0, 200, None, None, None]
    assert row("d") == [2, 30.0, 3000, None, None, None]


def test_views_at_an_age_are_never_extrapolated_past_the_last_snapshot() -> None:
    ages, views = np.array([10.0, 20.0]), np.array([100.0, 300.0])

    assert views_at_age(ages, views, 20.0) == 300.0
    assert math.isnan(views_at_age(ages, views, 20.5))
    assert views_at_age(ages, views, 5.0) == 50.0  # between posting and the first snapshot


def test_early_velocity_ignores_every_snapshot_after_its_first_day() -> None:
    ages = np.array([12.0, 22.0, 40.0])
    early = early_views_per_hour(ages, np.array([1200.0, 2200.0, 3000.0]))

    # Whatever happens after 24 h does not change it...
    assert early == early_views_per_hour(ages, np.array([1200.0, 2200.0, 9_000_000.0])) == 100.0
    # ...but a video never seen after its first day has none: its target would be that day's.
    assert math.isnan(early_views_per_hour(ages[:2], np.array([1200.0, 2200.0])))


def test_velocity_columns_follow_the_videos_and_are_null_without_snapshots() -> None:
    videos = pd.DataFrame(
        {"dataset": ["v1", "v1"], "batch": ["b001", "b001"], "video_id": ["x", "a"]},
        index=[5, 7],
    )
    columns = velocity_columns(videos, snapshots(("a", [(10, 100), (20, 300)])))

    assert columns["snapshots"].tolist() == [pd.NA, 2]
    assert list(columns["views_per_hour"].index) == [5, 7]
    assert velocity_columns(videos, None)["views_at_24h"].isna().all()
