"""The dataset registry: datasets, their pinned batch plans and their imported export items, kept in
DuckDB beside the asset tables.

Datasets made from an Apify export keep the export's items here, so that the export file can move or
disappear after the import."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from tiktok_virality.core.naming import InvalidNameError, validate_dataset_name
from tiktok_virality.defs.datasets.dataset import (
    DEFAULT_BATCH_SIZE,
    Dataset,
    DatasetSource,
    ExportContent,
    PlannedAccount,
    ScrapeLimits,
    batch_number,
    plan_accounts_by_volume,
    plan_new_accounts,
    validate_batch_size,
)
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.defs.scraping.scrape_time import ScrapeTimeBasis
from tiktok_virality.warehouse.migrations import Migration, StoreSchema
from tiktok_virality.warehouse.store import Store

REGISTRY_SCHEMA = StoreSchema(
    "registry",
    (
        # Files of the first releases have `datasets` without its last three columns.
        Migration(
            1,
            """
            CREATE TABLE IF NOT EXISTS datasets (
                dataset VARCHAR PRIMARY KEY,
                source VARCHAR NOT NULL,
                origin VARCHAR NOT NULL,
                batch_size INTEGER NOT NULL,
                videos_per_account INTEGER NOT NULL,
                max_total_videos INTEGER NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                export_scraped_at TIMESTAMPTZ,
                min_views BIGINT DEFAULT 1000,
                max_age_days INTEGER DEFAULT 180,
                last_run_at TIMESTAMPTZ
            );
            ALTER TABLE datasets ADD COLUMN IF NOT EXISTS min_views BIGINT DEFAULT 1000;
            ALTER TABLE datasets ADD COLUMN IF NOT EXISTS max_age_days INTEGER DEFAULT 180;
            ALTER TABLE datasets ADD COLUMN IF NOT EXISTS last_run_at TIMESTAMPTZ;
            CREATE TABLE IF NOT EXISTS dataset_accounts (
                dataset VARCHAR NOT NULL,
                account VARCHAR NOT NULL,
                batch VARCHAR NOT NULL,
                position INTEGER NOT NULL,
                added_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (dataset, account)
            );
            CREATE TABLE IF NOT EXISTS export_items (
                dataset VARCHAR NOT NULL,
                account VARCHAR NOT NULL,
                item_index INTEGER NOT NULL,
                item JSON NOT NULL
            );
            """,
        ),
        # How an export's scrape time was found (shown by `dataset show`), and the videos per
        # batch of an export dataset planned by volume.
        Migration(
            2,
            """
            ALTER TABLE datasets ADD COLUMN export_scraped_at_basis VARCHAR;
            ALTER TABLE datasets ADD COLUMN batch_videos INTEGER;
            """,
        ),
    ),
)

_DATASET_COLUMNS = (
    "dataset, source, origin, batch_size, videos_per_account, max_total_videos, created_at, "
    "updated_at, export_scraped_at, min_views, max_age_days, last_run_at, "
    "export_scraped_at_basis, batch_videos"
)


def _dataset_from_row(row: tuple[Any, ...]) -> Dataset:
    (
        name,
        source,
        origin,
        batch_size,
        per_account,
        max_total,
        created_at,
        updated_at,
        export_scraped_at,
        min_views,
        max_age_days,
        last_run_at,
        scraped_at_basis,
        batch_videos,
    ) = row
    return Dataset(
        name=name,
        source=DatasetSource(source),
        origin=origin,
        batch_size=batch_size,
        limits=ScrapeLimits(videos_per_account=per_account, max_total_videos=max_total),
        created_at=created_at,
        updated_at=updated_at,
        export_scraped_at=export_scraped_at,
        thresholds=QualityThresholds(min_views=min_views, max_age_days=max_age_days),
        last_run_at=last_run_at,
        export_scraped_at_basis=ScrapeTimeBasis(scraped_at_basis) if scraped_at_basis else None,
        batch_videos=batch_videos,
    )


class DatasetExistsError(ValueError):
    """A dataset of that name already exists and the operation would change what it means."""


class UnknownDatasetError(LookupError):
    """No dataset of that name in the database."""


class DatasetRegistry(Store):
    """The datasets, their batch plans and their imported export items."""

    store_schema = REGISTRY_SCHEMA

    def get(self, name: str) -> Dataset | None:
        rows = self._read(
            f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE dataset = ?", [name], table="datasets"
        )
        return _dataset_from_row(rows[0]) if rows else None

    def require(self, name: str) -> Dataset:
        dataset = self.get(name)
        if dataset is None:
            raise UnknownDatasetError(
                f"dataset {name!r} does not exist in {self.database}; create it with "
                "`tiktok-virality dataset create` or `dataset import`"
            )
        return dataset

    def list_datasets(self) -> list[Dataset]:
        rows = self._read(
            f"SELECT {_DATASET_COLUMNS} FROM datasets ORDER BY dataset", table="datasets"
        )
        return [_dataset_from_row(row) for row in rows]

    def plan(self, name: str) -> dict[str, str]:
        """account → batch, in the order the accounts were added."""
        rows = self._read(
            "SELECT account, batch FROM dataset_accounts WHERE dataset = ? ORDER BY position",
            [name],
            table="dataset_accounts",
        )
        return dict(rows)

    def batches(self, name: str) -> list[str]:
        return sorted(set(self.plan(name).values()), key=batch_number)

    def batch_accounts(self, name: str, batch: str) -> list[str]:
        return [account for account, planned in self.plan(name).items() if planned == batch]

    def add_accounts(
        self,
        name: str,
        accounts: Sequence[str],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        limits: ScrapeLimits | None = None,
        thresholds: QualityThresholds | None = None,
        origin: str = "account list",
        export: ExportContent | None = None,
        batch_videos: int | None = None,
        now: datetime | None = None,
    ) -> list[PlannedAccount]:
        """Create the dataset or extend it with new accounts, in one transaction.

        With `export`, the dataset is an export dataset: made once and never extended, so that its
        partitions keep meaning the same items; with `batch_videos` too, its batches hold whole
        accounts up to that many of the export's videos instead of `batch_size` accounts.
        """
        validate_dataset_name(name)
        validate_batch_size(batch_size)
        if not accounts:
            raise InvalidNameError(f"dataset {name!r} needs at least one account")
        timestamp = now or datetime.now(UTC)
        with self._write() as connection:
            self._ensure_dataset(
                connection,
                name,
                batch_size=batch_size,
                limits=limits or ScrapeLimits(),
                thresholds=thresholds or QualityThresholds(),
                origin=origin,
                export=export,
                batch_videos=batch_videos,
                now=timestamp,
            )
            planned = dict(
                connection.execute(
                    "SELECT account, batch FROM dataset_accounts WHERE dataset = ?", [name]
                ).fetchall()
            )
            added = (
                plan_accounts_by_volume(
                    planned,
                    {a: len(export.items_by_account.get(a, ())) for a in accounts},
                    batch_videos,
                )
                if export is not None and batch_videos is not None
                else plan_new_accounts(planned, accounts, batch_size)
            )
            if added:
                connection.executemany(
                    "INSERT INTO dataset_accounts VALUES (?, ?, ?, ?, ?)",
                    [
                        [name, entry.account, entry.batch, len(planned) + index, timestamp]
                        for index, entry in enumerate(added)
                    ],
                )
            if export is not None:
                rows = [
                    [name, account, index, json.dumps(item, ensure_ascii=False)]
                    for account, items in export.items_by_account.items()
                    for index, item in enumerate(items)
                ]
                connection.executemany("INSERT INTO export_items VALUES (?, ?, ?, ?)", rows)
            connection.execute(
                "UPDATE datasets SET updated_at = ? WHERE dataset = ?", [timestamp, name]
            )
        return added

    def _ensure_dataset(
        self,
        connection: duckdb.DuckDBPyConnection,
        name: str,
        *,
        batch_size: int,
        limits: ScrapeLimits,
        thresholds: QualityThresholds,
        origin: str,
        export: ExportContent | None,
        batch_videos: int | None,
        now: datetime,
    ) -> None:
        """Insert the dataset's row unless it exists; refuse to extend an export dataset, or to
        turn an account-list dataset into one."""
        source = DatasetSource.EXPORT if export else DatasetSource.ACCOUNTS
        existing = connection.execute(
            "SELECT source FROM datasets WHERE dataset = ?", [name]
        ).fetchone()
        if existing is None:
            connection.execute(
                f"INSERT INTO datasets ({_DATASET_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                [
                    name,
                    source.value,
                    origin,
                    batch_size,
                    limits.videos_per_account,
                    limits.max_total_videos,
                    now,
                    now,
                    export.scraped_at if export else None,
                    thresholds.min_views,
                    thresholds.max_age_days,
                    export.scraped_at_basis.value if export else None,
                    batch_videos if export else None,
                ],
            )
        elif existing[0] == DatasetSource.EXPORT or source == DatasetSource.EXPORT:
            raise DatasetExistsError(
                f"dataset {name!r} already exists; an export dataset is made once from one "
                "export: import into a new dataset name"
            )

    def update_settings(
        self, name: str, *, limits: ScrapeLimits, thresholds: QualityThresholds
    ) -> None:
        with self._write() as connection:
            connection.execute(
                "UPDATE datasets SET videos_per_account = ?, max_total_videos = ?, min_views = ?, "
                "max_age_days = ?, updated_at = ? WHERE dataset = ?",
                [
                    limits.videos_per_account,
                    limits.max_total_videos,
                    thresholds.min_views,
                    thresholds.max_age_days,
                    datetime.now(UTC),
                    name,
                ],
            )

    def mark_run(self, name: str) -> None:
        with self._write() as connection:
            connection.execute(
                "UPDATE datasets SET last_run_at = ? WHERE dataset = ?", [datetime.now(UTC), name]
            )

    def export_items(self, name: str, accounts: Sequence[str]) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT item FROM export_items WHERE dataset = ? AND list_contains(?, account) "
            "ORDER BY account, item_index",
            [name, list(accounts)],
            table="export_items",
        )
        return [json.loads(row[0]) for row in rows]
