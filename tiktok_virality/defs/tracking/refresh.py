"""Refreshing a tracked dataset: when one is due, and the runs that refresh it.

A refresh is a new scrape of every batch of the dataset (a new paid actor run per batch: its
number is part of the scrape ledger's key), followed by the analysis of the videos not analysed
yet (the cache pays for each video once) and the features, velocity included. `refresh_runs` is
what both the schedule (`schedule.py`) and `tiktok-virality refresh` ask for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.tracking.store import TrackedDataset

# The tag that carries a run's refresh number (the UI shows it; the scrape reads the store).
REFRESH_TAG = "tiktok_virality/refresh"
# A tick may come a little early or late: a dataset due within this margin is refreshed now
# rather than a whole tick later.
TICK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class RefreshRun:
    """One run a refresh asks for: a batch's partition, its refresh number, and the key that
    makes asking twice (a tick evaluated again) start it once."""

    partition: VideoPartition
    refresh: int

    @property
    def run_key(self) -> str:
        return f"{self.partition}/refresh-{self.refresh}"

    @property
    def tags(self) -> dict[str, str]:
        return {REFRESH_TAG: str(self.refresh)}


def due_datasets(tracked: Sequence[TrackedDataset], now: datetime) -> list[str]:
    """The tracked datasets whose cadence has passed since their last refresh (or since they
    were tracked, before the first) at `now`; and those whose last refresh was asked for at `now`
    itself: a tick evaluated again (its runs may not have been launched) asks for them again,
    and the runs' keys make Dagster launch them once."""
    return [
        dataset.dataset
        for dataset in tracked
        if dataset.last_refresh_at == now
        or now + TICK_MARGIN
        >= (dataset.last_refresh_at or dataset.tracked_since) + timedelta(hours=dataset.every_hours)
    ]


def refresh_runs(dataset: str, batches: Sequence[str], refresh: int) -> list[RefreshRun]:
    return [RefreshRun(VideoPartition(dataset, batch), refresh) for batch in batches]
