"""What a scrape adds to a batch's history, called by the scraping asset once its rows are
stored: the snapshots (each scrape once, whatever retries happen), the outlier alerts found in
it (each video once), and the alerts not yet posted, posted."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.datasets.dataset import SAMPLE_ORIGIN, Dataset
from tiktok_virality.defs.tracking.alerts import alert_message, baseline_frame, outlier_alerts
from tiktok_virality.defs.tracking.channel import AlertChannel, AlertDeliveryError
from tiktok_virality.defs.tracking.snapshots import sample_history, snapshot_rows
from tiktok_virality.defs.tracking.store import TrackingStore
from tiktok_virality.warehouse.io_manager import read_partitions
from tiktok_virality.warehouse.tables import VIDEO_FEATURES

_PEER_COLUMNS = ("dataset", "account", "views", "followers", "age_days")


@dataclass(frozen=True)
class ScrapeTracked:
    new_snapshots: int
    new_alerts: int
    notified: int


def track_scrape(
    tracking: TrackingStore,
    channel: AlertChannel,
    dataset: Dataset,
    partition: VideoPartition,
    accepted: pd.DataFrame,
    *,
    refresh: int,
    batches: list[str],
    log: logging.Logger,
) -> ScrapeTracked:
    """Record the scrape of `partition` (its accepted `raw_videos` rows, refresh number
    `refresh`); `batches` are the dataset's, whose other batches' features the size baseline
    is fitted on."""
    snapshots = snapshot_rows(accepted, refresh)
    if dataset.origin == SAMPLE_ORIGIN:  # the demo's history (snapshots.py)
        snapshots = pd.concat([sample_history(snapshots), snapshots], ignore_index=True)
    new_snapshots = tracking.record_snapshots(snapshots)
    peers = read_partitions(
        tracking.database,
        VIDEO_FEATURES.name,
        {column: VIDEO_FEATURES.sql_types[column] for column in _PEER_COLUMNS},
        [VideoPartition(partition.dataset, b) for b in batches if b != partition.batch],
    )
    alerts = outlier_alerts(
        baseline_frame(accepted),
        peers,
        multiple=channel.multiple,
        max_age_hours=channel.max_age_hours,
    )
    new_alerts = tracking.record_alerts(alerts)
    return ScrapeTracked(new_snapshots, new_alerts, post_alerts(tracking, channel, partition, log))


def post_alerts(
    tracking: TrackingStore, channel: AlertChannel, partition: VideoPartition, log: logging.Logger
) -> int:
    """Post the batch's alerts not posted yet; returns how many were. One the channel refuses
    is kept for the next scrape, and the scrape goes on."""
    if not channel.configured:
        return 0
    waiting = tracking.alerts(partition.dataset, unnotified_only=True)
    waiting = waiting[waiting["batch"] == partition.batch]
    posted = []
    for _, alert in waiting.iterrows():
        try:
            channel.send(*alert_message(alert))
        except AlertDeliveryError as error:
            log.warning(f"alert for video {alert['video_id']} not posted (kept for later): {error}")
            continue
        posted.append(str(alert["video_id"]))
    if posted:
        tracking.mark_notified(partition.dataset, posted)
    return len(posted)
