import pandas as pd

from tiktok_virality.defs.scraping.limits import batch_video_budget, limit_videos


def videos(per_account: dict[str, int]) -> pd.DataFrame:
    rows = [
        {
            "account": account,
            "video_id": f"{account}{day}",
            "created_at": pd.Timestamp("2025-07-01", tz="UTC") + pd.Timedelta(days=day),
        }
        for account, count in per_account.items()
        for day in range(count)
    ]
    return pd.DataFrame(rows)


def test_keeps_the_latest_videos_of_each_account() -> None:
    kept = limit_videos(videos({"a": 4, "b": 1}), videos_per_account=2, max_videos=100)

    assert sorted(kept["video_id"]) == ["a2", "a3", "b0"]


def test_the_total_cap_takes_accounts_in_turn_latest_first() -> None:
    kept = limit_videos(videos({"a": 5, "b": 5, "c": 1}), videos_per_account=5, max_videos=5)

    assert sorted(kept["video_id"]) == ["a3", "a4", "b3", "b4", "c0"]


def test_input_order_is_kept_and_empty_input_passes_through() -> None:
    frame = videos({"a": 3})
    assert limit_videos(frame, videos_per_account=3, max_videos=3)["video_id"].tolist() == [
        "a0",
        "a1",
        "a2",
    ]
    assert limit_videos(frame.iloc[0:0], videos_per_account=3, max_videos=3).empty


def test_budget_is_what_the_other_batches_left() -> None:
    assert batch_video_budget(500, 480) == 20
    assert batch_video_budget(500, 620) == 0
