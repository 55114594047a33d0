from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tiktok_virality.defs.model import (
    TREND_TABLE_COLUMNS,
    ModelParameters,
    trend_features,
    trend_table,
)

START = pd.Timestamp("2025-01-01", tz="UTC")
# Rising: ≥ 3 uses in the 7 days before, and twice the share of the 28 days before those.
PARAMETERS = ModelParameters()

Post = tuple[str, float, list[str] | None, str | None]  # account, day, hashtags, music id


def raw_videos(posts: list[Post], dataset: str = "v1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": dataset,
            "batch": "b001",
            "account": [account for account, _, _, _ in posts],
            "video_id": [f"{index:019d}" for index in range(len(posts))],
            "created_at": [START + pd.Timedelta(days=day) for _, day, _, _ in posts],
            "hashtags": [hashtags for _, _, hashtags, _ in posts],
            "music_id": [music_id for _, _, _, music_id in posts],
            "music_name": [
                None if music_id is None else f"song {music_id}" for *_, music_id in posts
            ],
        }
    )


def daily_posts(first_day: int, last_day: int, per_day: int = 1) -> list[Post]:
    """A steady background: the history every trend is compared with."""
    return [
        ("filler", day + slot / per_day, ["daily"], "s_daily")
        for day in range(first_day, last_day)
        for slot in range(per_day)
    ]


def flag(features: pd.DataFrame, row: int, column: str) -> bool | None:
    value = features.loc[row, column]
    return None if pd.isna(value) else bool(value)


@pytest.fixture
def explosion() -> pd.DataFrame:
    """#boom is used once on day 10, by the video of interest on day 40, then by five videos on
    days 41-44 and by a last one on day 45."""
    posts = [
        *daily_posts(0, 60),
        ("old", 10.5, ["boom"], "s1"),
        ("early", 40.5, ["boom", "other"], "s1"),
        *[(f"wave{day}", day + 0.5, ["boom"], "s2") for day in range(41, 45)],
        ("wave44b", 44.6, ["boom"], "s2"),
        ("late", 45.5, ["boom"], "s3"),
    ]
    return raw_videos(posts)


def test_a_hashtag_exploding_after_posting_is_not_rising_for_the_video(
    explosion: pd.DataFrame,
) -> None:
    features = trend_features(explosion, PARAMETERS)
    by_account = features.assign(account=explosion["account"]).set_index("account")

    assert not by_account.loc["early", "uses_rising_hashtag"]
    assert by_account.loc["late", "uses_rising_hashtag"]
    assert list(features.columns) == [
        "dataset",
        "batch",
        "video_id",
        "uses_rising_hashtag",
        "uses_rising_sound",
    ]
    assert features["video_id"].tolist() == explosion["video_id"].tolist()


def test_later_videos_never_change_the_features_of_earlier_ones() -> None:
    rng = np.random.default_rng(11)
    posts: list[Post] = [
        (
            f"account{rng.integers(5)}",
            float(rng.uniform(0, 90)),
            list(rng.choice(["a", "b", "c", "d", "e"], rng.integers(0, 3), replace=False)),
            f"s{rng.integers(4)}",
        )
        for _ in range(300)
    ]
    everything = raw_videos(posts)
    cutoff = START + pd.Timedelta(days=50)
    earlier = everything[everything["created_at"] < cutoff]

    on_everything = trend_features(everything, PARAMETERS).loc[earlier.index]
    on_earlier_only = trend_features(earlier, PARAMETERS).set_axis(earlier.index)

    pd.testing.assert_frame_equal(on_everything, on_earlier_only)
    assert on_everything[["uses_rising_hashtag", "uses_rising_sound"]].any().all()


def test_a_steady_share_is_not_rising_when_the_dataset_gets_denser() -> None:
    # Scrapes keep each account's latest videos: more videos near the scrape time. #steady is on
    # half of them throughout, so its count quadruples but its share does not move.
    posts = [
        (account, day + slot / per_day, ["steady"] if slot % 2 else ["other"], None)
        for first, last, per_day, account in ((0, 30, 2, "slow"), (30, 60, 8, "fast"))
        for day in range(first, last)
        for slot in range(per_day)
    ]

    videos = raw_videos(posts)
    with_full_history = videos["created_at"] >= START + pd.Timedelta(days=35)

    features = trend_features(videos, PARAMETERS)

    assert not features.loc[with_full_history, "uses_rising_hashtag"].any()


def test_nothing_is_rising_before_the_dataset_has_history() -> None:
    posts = [(f"account{index}", index / 10, ["brand_new"], "s1") for index in range(8)]

    features = trend_features(raw_videos(posts), PARAMETERS)

    assert not features[["uses_rising_hashtag", "uses_rising_sound"]].any().any()


def test_a_sound_reused_by_others_rises() -> None:
    posts = [
        *daily_posts(0, 40),
        *[(f"reuser{index}", 35.5 + index, [], "creator_sound") for index in range(4)],
    ]

    features = trend_features(raw_videos(posts), PARAMETERS)

    assert features["uses_rising_sound"].tolist()[-4:] == [False, False, False, True]
    assert features["uses_rising_hashtag"].tolist()[-4:] == [False] * 4


def test_unknown_inputs_give_unknown_features_and_no_hashtags_gives_false() -> None:
    posts: list[Post] = [
        ("a", 1.0, None, "s1"),
        ("a", 2.0, [], None),
        ("a", 3.0, ["x"], "s1"),
    ]
    frame = raw_videos(posts)
    frame.loc[2, "created_at"] = pd.NaT

    features = trend_features(frame, PARAMETERS)

    assert [flag(features, row, "uses_rising_hashtag") for row in range(3)] == [None, False, None]
    assert [flag(features, row, "uses_rising_sound") for row in range(3)] == [False, None, None]
    assert str(features["uses_rising_hashtag"].dtype) == "boolean"


def test_hashtags_as_arrays_and_in_any_case_count_as_the_same(explosion: pd.DataFrame) -> None:
    # Read back from DuckDB, lists are numpy arrays.
    as_arrays = explosion.assign(
        hashtags=[np.array([tag.upper() for tag in tags]) for tags in explosion["hashtags"]]
    )

    pd.testing.assert_frame_equal(
        trend_features(as_arrays, PARAMETERS), trend_features(explosion, PARAMETERS)
    )


def test_trend_table_counts_per_window_and_flags_the_explosion(explosion: pd.DataFrame) -> None:
    table = trend_table(explosion, PARAMETERS)
    boom = table[(table["kind"] == "hashtag") & (table["item"] == "boom")]

    assert list(table.columns) == list(TREND_TABLE_COLUMNS)
    # The last post is on day 59: windows end at midnight after it, on day 60, 53, 46, 39…
    assert table["window_end"].max() == START + pd.Timedelta(days=60)
    assert boom[["window_start", "window_end", "videos", "baseline_videos", "rising"]].to_dict(
        "records"
    ) == [
        {
            "window_start": START + pd.Timedelta(days=4),
            "window_end": START + pd.Timedelta(days=11),
            "videos": 1,
            "baseline_videos": 0,
            "rising": False,
        },
        {
            "window_start": START + pd.Timedelta(days=39),
            "window_end": START + pd.Timedelta(days=46),
            "videos": 7,
            "baseline_videos": 0,
            "rising": True,
        },
    ]
    assert boom["share"].iloc[1] == pytest.approx(7 / 14)
    daily = table[(table["kind"] == "hashtag") & (table["item"] == "daily")]
    assert daily["videos"].sum() == 60 and not daily["rising"].any()
    sounds = table[table["kind"] == "sound"].drop_duplicates("item").set_index("item")["name"]
    assert sounds.to_dict() == {f"s{n}": f"song s{n}" for n in (1, 2, 3)} | {
        "s_daily": "song s_daily"
    }


def test_trends_are_per_dataset() -> None:
    frame = pd.concat([raw_videos(daily_posts(0, 3), "v1"), raw_videos(daily_posts(0, 3), "v2")])

    with pytest.raises(ValueError, match="per dataset"):
        trend_features(frame, PARAMETERS)
    with pytest.raises(ValueError, match="per dataset"):
        trend_table(frame, PARAMETERS)


def test_no_videos_no_trends() -> None:
    empty = raw_videos([])

    assert trend_features(empty, PARAMETERS).empty
    assert list(trend_table(empty, PARAMETERS).columns) == list(TREND_TABLE_COLUMNS)
    assert trend_table(empty, PARAMETERS).empty
