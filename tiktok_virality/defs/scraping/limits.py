"""Keeping a dataset within its scrape limits: videos per account and max total videos.

Applied to normalized rows, whatever the source: an export holds more than asked for, and Apify's own
limits are per profile, not per dataset."""

from __future__ import annotations

import pandas as pd


def batch_video_budget(max_total_videos: int, stored_elsewhere: int) -> int:
    """Videos this batch may add, given those the dataset's other batches already hold."""
    return max(max_total_videos - stored_elsewhere, 0)


def limit_videos(videos: pd.DataFrame, *, videos_per_account: int, max_videos: int) -> pd.DataFrame:
    """The latest `videos_per_account` videos of each account, then at most `max_videos` in all,
    taken round-robin over the accounts (each account's latest first) so that a cap never starves
    an account to fill another."""
    if videos.empty:
        return videos
    newest_first = videos.sort_values(
        "created_at", ascending=False, kind="stable", na_position="last"
    )
    rank = newest_first.groupby("account", sort=False).cumcount()
    kept = newest_first[rank < videos_per_account]
    kept_rank = rank[rank < videos_per_account]
    if len(kept) > max_videos:
        order = pd.DataFrame({"rank": kept_rank, "created": kept["created_at"]})
        chosen = order.sort_values(["rank", "created"], ascending=[True, False], kind="stable")
        kept = kept.loc[chosen.index[:max_videos]]
    return kept.loc[videos.index.intersection(kept.index)].reset_index(drop=True)
