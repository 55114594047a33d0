"""The tracking store's tables (their migrations) and the queries `status` reads them with, apart
from the store (store.py) so that `status` reads them without importing pandas."""

from __future__ import annotations

from typing import Any

from tiktok_virality.warehouse.migrations import Migration, StoreSchema
from tiktok_virality.warehouse.storage import read_rows

SNAPSHOT_COLUMNS = (
    "dataset",
    "batch",
    "account",
    "video_id",
    "scraped_at",
    "refresh",
    "created_at",
    "age_hours",
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
)
ALERT_COLUMNS = (
    "dataset",
    "batch",
    "account",
    "video_id",
    "url",
    "scraped_at",
    "age_hours",
    "views",
    "baseline_views",
    "baseline",
    "multiple",
)

TRACKING_SCHEMA = StoreSchema(
    "tracking",
    (
        Migration(
            1,
            """
            CREATE TABLE IF NOT EXISTS tracked_datasets (
                dataset VARCHAR PRIMARY KEY,
                every_hours DOUBLE NOT NULL,
                tracked_since TIMESTAMPTZ NOT NULL
            );
            CREATE TABLE IF NOT EXISTS dataset_refreshes (
                dataset VARCHAR NOT NULL,
                refresh INTEGER NOT NULL,
                requested_at TIMESTAMPTZ NOT NULL,
                origin VARCHAR NOT NULL,
                PRIMARY KEY (dataset, refresh)
            );
            CREATE TABLE IF NOT EXISTS video_snapshots (
                dataset VARCHAR NOT NULL,
                batch VARCHAR NOT NULL,
                account VARCHAR NOT NULL,
                video_id VARCHAR NOT NULL,
                scraped_at TIMESTAMPTZ NOT NULL,
                refresh INTEGER NOT NULL,
                created_at TIMESTAMPTZ,
                age_hours DOUBLE,
                views BIGINT,
                likes BIGINT,
                comments BIGINT,
                shares BIGINT,
                saves BIGINT,
                PRIMARY KEY (dataset, batch, video_id, scraped_at)
            );
            CREATE TABLE IF NOT EXISTS alerts (
                dataset VARCHAR NOT NULL,
                batch VARCHAR NOT NULL,
                account VARCHAR NOT NULL,
                video_id VARCHAR NOT NULL,
                url VARCHAR,
                scraped_at TIMESTAMPTZ NOT NULL,
                age_hours DOUBLE NOT NULL,
                views BIGINT NOT NULL,
                baseline_views DOUBLE NOT NULL,
                baseline VARCHAR NOT NULL,
                multiple DOUBLE NOT NULL,
                raised_at TIMESTAMPTZ NOT NULL,
                notified_at TIMESTAMPTZ,
                PRIMARY KEY (dataset, video_id)
            );
            """,
        ),
    ),
)


def tracking_summary(database: str, dataset: str) -> dict[str, Any]:
    """What `status` says of a dataset's tracking: its cadence, refreshes, snapshots, and its
    alerts (newest first)."""
    cadence = read_rows(
        database,
        "SELECT every_hours FROM tracked_datasets WHERE dataset = ?",
        [dataset],
        table="tracked_datasets",
    )
    refreshes = read_rows(
        database,
        "SELECT count(*), max(requested_at) FROM dataset_refreshes WHERE dataset = ?",
        [dataset],
        table="dataset_refreshes",
    )
    snapshots = read_rows(
        database,
        "SELECT count(*), count(DISTINCT scraped_at), max(scraped_at) FROM video_snapshots "
        "WHERE dataset = ?",
        [dataset],
        table="video_snapshots",
    )
    alerts = read_rows(
        database,
        "SELECT account, video_id, views, multiple, age_hours, raised_at, notified_at IS NOT NULL "
        "FROM alerts WHERE dataset = ? ORDER BY raised_at DESC, video_id",
        [dataset],
        table="alerts",
    )
    refreshed = refreshes[0] if refreshes else (0, None)
    scraped = snapshots[0] if snapshots else (0, 0, None)
    return {
        "every_hours": cadence[0][0] if cadence else None,
        "refreshes": refreshed[0],
        "last_refresh_at": refreshed[1].isoformat() if refreshed[1] else None,
        "snapshots": scraped[0],
        "scrapes": scraped[1],
        "last_scraped_at": scraped[2].isoformat() if scraped[2] else None,
        "alerts": [
            {
                "account": account,
                "video_id": video_id,
                "views": views,
                "multiple": multiple,
                "age_hours": age_hours,
                "raised_at": raised_at.isoformat(),
                "notified": notified,
            }
            for account, video_id, views, multiple, age_hours, raised_at, notified in alerts
        ],
    }


def describe_tracking(summary: dict[str, Any]) -> list[str]:
    """`status`'s lines about tracking: the cadence, the history kept, the alerts."""
    every = summary["every_hours"]
    lines = [
        f"  tracking: {'every ' + format(every, 'g') + ' h' if every else 'not on a cadence'}, "
        f"{summary['refreshes']} refreshes, {summary['snapshots']} snapshots from "
        f"{summary['scrapes']} scrapes"
        + (f" (last {summary['last_scraped_at'][:16]})" if summary["last_scraped_at"] else "")
    ]
    lines += [
        f"  alert: @{a['account']} video {a['video_id']}: {a['views']:,} views, "
        f"×{a['multiple']:.1f} its baseline at {a['age_hours']:.0f} h "
        f"(raised {a['raised_at'][:16]}{'' if a['notified'] else ', not posted yet'})"
        for a in summary["alerts"]
    ]
    return lines
