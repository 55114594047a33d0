"""The tracking store: which datasets are refreshed on a cadence, each refresh asked for, every
video's counts at each scrape (`video_snapshots`), and the outlier alerts raised (`alerts`).

Snapshots are history that cannot be fetched afterwards, so they are appended, never replaced: a
row is keyed by the scrape it comes from (its `scraped_at`, which an Apify run reused by a retry
keeps), and written with `INSERT OR IGNORE`, so that a scrape is recorded once whatever retries
happen. An alert is keyed by its video: raised once, and notified until it has been."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from tiktok_virality.defs.tracking.tables import ALERT_COLUMNS, SNAPSHOT_COLUMNS, TRACKING_SCHEMA
from tiktok_virality.warehouse.store import Store


@dataclass(frozen=True)
class TrackedDataset:
    dataset: str
    every_hours: float
    tracked_since: datetime
    # When its latest refresh was asked for; None before the first.
    last_refresh_at: datetime | None


class TrackingStore(Store):
    """The tracking tables: cadences, refreshes, snapshots and alerts."""

    store_schema = TRACKING_SCHEMA
    dataset_tables = ("alerts", "video_snapshots", "dataset_refreshes", "tracked_datasets")

    # --- cadence ------------------------------------------------------------------------------

    def track(self, dataset: str, every_hours: float, *, now: datetime | None = None) -> None:
        """Refresh the dataset every `every_hours` from now on (a new cadence replaces the old)."""
        with self._write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO tracked_datasets VALUES (?, ?, ?)",
                [dataset, every_hours, now or datetime.now(UTC)],
            )

    def stop_tracking(self, dataset: str) -> bool:
        """Whether the dataset was tracked (it is not any more)."""
        with self._write() as connection:
            stopped = connection.execute(
                "DELETE FROM tracked_datasets WHERE dataset = ? RETURNING dataset", [dataset]
            ).fetchall()
        return bool(stopped)

    def tracked(self) -> list[TrackedDataset]:
        rows = self._read(
            "SELECT t.dataset, t.every_hours, t.tracked_since, max(r.requested_at) "
            "FROM tracked_datasets t LEFT JOIN dataset_refreshes r USING (dataset) "
            "GROUP BY ALL ORDER BY t.dataset",
            table="tracked_datasets",
        )
        return [TrackedDataset(*row) for row in rows]

    # --- refreshes ----------------------------------------------------------------------------

    def request_refresh(self, dataset: str, *, requested_at: datetime, origin: str) -> int:
        """The number of the dataset's refresh asked for at `requested_at`: a new one, or the
        same one when a refresh was already asked for at that instant (a schedule tick evaluated
        twice), so that asking again is harmless."""
        with self._write() as connection:
            existing = connection.execute(
                "SELECT refresh FROM dataset_refreshes WHERE dataset = ? AND requested_at = ?",
                [dataset, requested_at],
            ).fetchall()
            if existing:
                return int(existing[0][0])
            number = connection.execute(
                "SELECT coalesce(max(refresh), 0) + 1 FROM dataset_refreshes WHERE dataset = ?",
                [dataset],
            ).fetchall()[0][0]
            connection.execute(
                "INSERT INTO dataset_refreshes VALUES (?, ?, ?, ?)",
                [dataset, number, requested_at, origin],
            )
        return int(number)

    def current_refresh(self, dataset: str) -> int:
        """The dataset's latest refresh number; 0 before any (its first scrape)."""
        rows = self._read(
            "SELECT coalesce(max(refresh), 0) FROM dataset_refreshes WHERE dataset = ?",
            [dataset],
            table="dataset_refreshes",
        )
        return int(rows[0][0]) if rows else 0

    # --- snapshots ----------------------------------------------------------------------------

    def record_snapshots(self, snapshots: pd.DataFrame) -> int:
        """Append the snapshots not stored yet; returns how many were new."""
        return self._insert_new("video_snapshots", snapshots, SNAPSHOT_COLUMNS)

    def snapshots(self, dataset: str, batches: Sequence[str] | None = None) -> pd.DataFrame:
        """The dataset's snapshots (of these batches only, when given), oldest first per video."""
        return self._frame(
            "video_snapshots", SNAPSHOT_COLUMNS, dataset, batches, "video_id, scraped_at"
        )

    def videos_scraped_before(self, dataset: str, batch: str, refresh: int) -> frozenset[str]:
        """The batch's videos seen by its scrapes before refresh `refresh`: not those of that
        refresh itself, so that its retries see what its first attempt saw."""
        rows = self._read(
            "SELECT DISTINCT video_id FROM video_snapshots WHERE dataset = ? AND batch = ? "
            "AND refresh < ?",
            [dataset, batch, refresh],
            table="video_snapshots",
        )
        return frozenset(str(video_id) for (video_id,) in rows)

    # --- alerts -------------------------------------------------------------------------------

    def record_alerts(self, alerts: pd.DataFrame, *, now: datetime | None = None) -> int:
        """Raise the alerts of videos that have none yet; returns how many were new."""
        rows = alerts.assign(raised_at=now or datetime.now(UTC), notified_at=None)
        return self._insert_new("alerts", rows, (*ALERT_COLUMNS, "raised_at", "notified_at"))

    def alerts(self, dataset: str, *, unnotified_only: bool = False) -> pd.DataFrame:
        columns = (*ALERT_COLUMNS, "raised_at", "notified_at")
        frame = self._frame("alerts", columns, dataset, None, "raised_at, video_id")
        return frame[frame["notified_at"].isna()] if unnotified_only else frame

    def mark_notified(self, dataset: str, video_ids: Sequence[str]) -> None:
        with self._write() as connection:
            connection.execute(
                "UPDATE alerts SET notified_at = ? WHERE dataset = ? "
                "AND list_contains(?, video_id)",
                [datetime.now(UTC), dataset, list(video_ids)],
            )

    # --- shared -------------------------------------------------------------------------------

    def _insert_new(self, table: str, rows: pd.DataFrame, columns: Sequence[str]) -> int:
        if rows.empty:
            return 0
        names = ", ".join(columns)
        with self._write() as connection:
            before = connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            connection.register("new_rows", rows[list(columns)])
            connection.execute(
                f"INSERT OR IGNORE INTO {table} ({names}) SELECT {names} FROM new_rows"
            )
            after = connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        return int(after) - int(before)

    def _frame(
        self,
        table: str,
        columns: Sequence[str],
        dataset: str,
        batches: Sequence[str] | None,
        order: str,
    ) -> pd.DataFrame:
        batch_filter = "" if batches is None else " AND list_contains(?, batch)"
        parameters: list[object] = [dataset] + ([] if batches is None else [list(batches)])
        rows = self._read(
            f"SELECT {', '.join(columns)} FROM {table} WHERE dataset = ?{batch_filter} "
            f"ORDER BY {order}",
            parameters,
            table=table,
        )
        frame = pd.DataFrame(rows, columns=list(columns))
        for column in ("scraped_at", "created_at", "raised_at", "notified_at"):
            if column in frame.columns:
                frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame
