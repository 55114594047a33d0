"""The dataset registry: datasets, their pinned batch plans and their imported export items, kept in
DuckDB beside the asset tables. Their tables and reads are in `registry_tables.py`; this store adds
the writes.

Datasets made from an Apify export keep the export's items here, so that the export file can move or
disappear after the import."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

from tiktok_virality.core.errors import UserError
from tiktok_virality.core.naming import InvalidNameError, validate_dataset_name
from tiktok_virality.defs.datasets.dataset import (
    DEFAULT_BATCH_SIZE,
    DatasetSource,
    ExportContent,
    PlannedAccount,
    ScrapeLimits,
    plan_accounts_by_volume,
    plan_new_accounts,
    validate_batch_size,
)
from tiktok_virality.defs.datasets.registry_tables import (
    DATASET_COLUMNS,
    REGISTRY_SCHEMA,
    RegistryQueries,
)
from tiktok_virality.defs.scraping.thresholds import QualityThresholds
from tiktok_virality.warehouse.store import Store


class DatasetExistsError(UserError, ValueError):
    """A dataset of that name already exists and the operation would change what it means."""


class DatasetRegistry(Store, RegistryQueries):
    """The datasets, their batch plans and their imported export items: their reads
    (`RegistryQueries`) and their writes."""

    store_schema = REGISTRY_SCHEMA
    dataset_tables = ("export_items", "dataset_accounts", "datasets")

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
                f"INSERT INTO datasets ({DATASET_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    limits.max_cost_usd,
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
                "max_age_days = ?, updated_at = ?, max_cost_usd = ? WHERE dataset = ?",
                [
                    limits.videos_per_account,
                    limits.max_total_videos,
                    thresholds.min_views,
                    thresholds.max_age_days,
                    datetime.now(UTC),
                    limits.max_cost_usd,
                    name,
                ],
            )
