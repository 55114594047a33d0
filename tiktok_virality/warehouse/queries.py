"""Read-only questions about a dataset's asset tables, for the scrape limits and `status`; each
answers nothing stored (0, empty, None) while the file or the table does not exist yet."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tiktok_virality.warehouse.storage import connect, quote_identifier, read_rows, table_exists
from tiktok_virality.warehouse.tables import MODEL_RUNS, RAW_VIDEOS, REJECTED_VIDEOS, VIDEO_ANALYSES

_MODEL_SUMMARY_COLUMNS = (
    "trained_at",
    "evaluated",
    "reason",
    "labelled_videos",
    "viral_videos",
    "model_roc_auc",
    "baseline_followers_roc_auc",
    "baseline_account_median_roc_auc",
    "too_small",
    "metric_intervals",
    "time_ordered",
)
_MODEL_SUMMARY_JSON = ("metric_intervals", "time_ordered")


def stored_video_count(
    database: Path | str, dataset: str, *, excluding_batch: str | None = None
) -> int:
    """Raw videos already stored for the dataset, to keep it within its max total videos."""
    rows = read_rows(
        database,
        f"SELECT count(*) FROM {RAW_VIDEOS.name} WHERE dataset = ? AND batch IS DISTINCT FROM ?",
        [dataset, excluding_batch],
        table=RAW_VIDEOS.name,
    )
    return int(rows[0][0]) if rows else 0


def row_counts(database: Path | str, dataset: str, tables: Sequence[str]) -> dict[str, int]:
    """Rows the dataset has in each asset table (0 for a table not created yet), through one
    connection: `status` asks about a dozen tables, and each connection costs a file open."""
    counts = dict.fromkeys(tables, 0)
    if not Path(database).exists():
        return counts
    with connect(database, read_only=True) as connection:
        for table in tables:
            if table_exists(connection, table):
                row = connection.execute(
                    f"SELECT count(*) FROM {quote_identifier(table)} WHERE dataset = ?", [dataset]
                ).fetchone()
                counts[table] = int(row[0]) if row else 0
    return counts


def rejections_by_reason(database: Path | str, dataset: str) -> dict[str, int]:
    """Rejected videos of the dataset per quality rule (a video failing two counts for both)."""
    rows = read_rows(
        database,
        f"SELECT reason, count(*) FROM {REJECTED_VIDEOS.name}, "
        "unnest(rejection_reasons) AS r(reason) WHERE dataset = ? GROUP BY ALL",
        [dataset],
        table=REJECTED_VIDEOS.name,
    )
    return {reason: int(count) for reason, count in rows}


def analysis_provenance(
    database: Path | str, dataset: str
) -> list[tuple[str, str | None, str, int]]:
    """(analyzer, model, schema version, analyses) of the dataset's stored analyses."""
    return read_rows(
        database,
        f"SELECT analyzer, model, schema_version, count(*) FROM {VIDEO_ANALYSES.name} "
        "WHERE dataset = ? GROUP BY ALL ORDER BY ALL",
        [dataset],
        table=VIDEO_ANALYSES.name,
    )


def model_summary(database: Path | str, dataset: str) -> dict[str, Any] | None:
    """The dataset's latest model evaluation (table `model_runs`), or None before the first."""
    rows = read_rows(
        database,
        f"SELECT {', '.join(_MODEL_SUMMARY_COLUMNS)} FROM {MODEL_RUNS.name} WHERE dataset = ?",
        [dataset],
        table=MODEL_RUNS.name,
    )
    if not rows:
        return None
    summary = dict(zip(_MODEL_SUMMARY_COLUMNS, rows[0], strict=True))
    return summary | {key: json.loads(summary[key] or "null") for key in _MODEL_SUMMARY_JSON}
