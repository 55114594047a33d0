"""Removing a dataset's rows from the DuckDB file, and finding the partition keys of the Dagster
instance that belong to no dataset (a key added in the UI's launch dialog, or left by a deletion
that was stopped half-way).

The tables a dataset's rows live in are derived, not listed: every asset table whose contract has
a `dataset` column, and each store's `dataset_tables`. The paid analyses (`analysis_cache`) are
keyed by video and model, not dataset, and are kept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from tiktok_virality.core.partitions import BATCH_DIMENSION, DATASET_DIMENSION
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.warehouse.storage import quote_identifier, table_exists, transaction
from tiktok_virality.warehouse.store import Store
from tiktok_virality.warehouse.tables import ASSET_TABLES


def dataset_row_tables(stores: Iterable[type[Store]]) -> list[str]:
    """Every table holding rows of one dataset: the asset tables, then the stores' tables (the
    registry's last, so that the order reads as the dataset's history backwards)."""
    asset_tables = [
        contract.name for contract in ASSET_TABLES if "dataset" in contract.column_names
    ]
    return asset_tables + [table for store in stores for table in store.dataset_tables]


def delete_dataset_rows(
    database: Path | str, dataset: str, tables: Iterable[str]
) -> dict[str, int]:
    """Delete the dataset's rows from every one of `tables` that exists, in one transaction: all
    of them or, on any error, none. Returns the rows deleted per table."""
    if not Path(database).exists():
        return {}
    deleted: dict[str, int] = {}
    with transaction(database) as connection:
        for table in tables:
            if not table_exists(connection, table):
                continue  # an asset never materialized in this file
            row = connection.execute(
                f"DELETE FROM {quote_identifier(table)} WHERE dataset = ?", [dataset]
            ).fetchone()
            deleted[table] = int(row[0]) if row else 0
    return deleted


@dataclass(frozen=True)
class StrayKeys:
    """Partition keys of the instance that belong to no dataset in the registry."""

    datasets: list[str]
    batches: list[str]

    def __bool__(self) -> bool:
        return bool(self.datasets or self.batches)


def stray_keys(instance: dg.DagsterInstance, registry: DatasetRegistry) -> StrayKeys:
    datasets, batches = set(registry.names()), registry.batches_in_use()
    return StrayKeys(
        datasets=sorted(set(instance.get_dynamic_partitions(DATASET_DIMENSION)) - datasets),
        batches=sorted(set(instance.get_dynamic_partitions(BATCH_DIMENSION)) - batches),
    )
