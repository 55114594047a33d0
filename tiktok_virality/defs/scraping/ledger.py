"""The scrape-run ledger: each batch's paid Apify run, by the input it was started with (table
`scrape_runs`), so that a retry resumes or reuses that run instead of paying for another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.warehouse.migrations import Migration, StoreSchema
from tiktok_virality.warehouse.store import Store

SCRAPE_LEDGER_SCHEMA = StoreSchema(
    "scrape_ledger",
    (
        # Files of the first releases have `run_id` NOT NULL (no start was recorded before its id).
        Migration(
            1,
            """
            CREATE TABLE IF NOT EXISTS scrape_runs (
                dataset VARCHAR NOT NULL,
                batch VARCHAR NOT NULL,
                input_fingerprint VARCHAR NOT NULL,
                run_id VARCHAR,
                started_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (dataset, batch, input_fingerprint)
            );
            ALTER TABLE scrape_runs ALTER COLUMN run_id DROP NOT NULL;
            """,
        ),
    ),
)


@dataclass(frozen=True)
class RememberedScrapeRun:
    """A batch's paid Apify run: its id, or None while the start is under way (an attempt stopped
    then may have started a run it never heard of)."""

    run_id: str | None
    started_at: datetime


class ScrapeLedger(Store):
    """The paid scrape runs of each batch, by input fingerprint."""

    store_schema = SCRAPE_LEDGER_SCHEMA
    dataset_tables = ("scrape_runs",)

    def record_scrape_start(self, partition: VideoPartition, input_fingerprint: str) -> None:
        """A paid run of this batch is about to be started: until it is remembered, a retry looks
        for it among the runs started from now on."""
        with self._write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO scrape_runs VALUES (?, ?, ?, NULL, ?)",
                [partition.dataset, partition.batch, input_fingerprint, datetime.now(UTC)],
            )

    def remember_scrape_run(
        self, partition: VideoPartition, input_fingerprint: str, run_id: str
    ) -> None:
        """The paid run scraping this batch with this input, so that a retry resumes it."""
        with self._write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO scrape_runs VALUES (?, ?, ?, ?, ?)",
                [partition.dataset, partition.batch, input_fingerprint, run_id, datetime.now(UTC)],
            )

    def remembered_scrape_run(
        self, partition: VideoPartition, input_fingerprint: str
    ) -> RememberedScrapeRun | None:
        rows = self._read(
            "SELECT run_id, started_at FROM scrape_runs WHERE dataset = ? AND batch = ? "
            "AND input_fingerprint = ?",
            [partition.dataset, partition.batch, input_fingerprint],
            table="scrape_runs",
        )
        return RememberedScrapeRun(*rows[0]) if rows else None
