"""How an asset declares that it is stored as a table contract's DuckDB table: the IO manager key and
the metadata (column schema, preview columns) that the IO manager and the UI read."""

from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg
import pandas as pd

from tiktok_virality.core.partitions import video_partitions
from tiktok_virality.warehouse.contracts import TableContract
from tiktok_virality.warehouse.io_manager import (
    COLUMN_SCHEMA_KEY,
    PREVIEW_COLUMNS_KEY,
    WAREHOUSE_IO_MANAGER,
)

# The group of the per-batch assets in the UI (scraping, analysis, features).
VIDEO_GROUP = "tiktok_virality"


def table_metadata(contract: TableContract) -> dict[str, object]:
    return {
        COLUMN_SCHEMA_KEY: contract.dagster_schema(),
        PREVIEW_COLUMNS_KEY: list(contract.preview_columns),
    }


def partitioned_table_asset(
    contract: TableContract,
    *,
    pool: str | None = None,
    ins: Mapping[str, dg.AssetIn] | None = None,
    code_version: str | None = None,
) -> Callable[[Callable[..., pd.DataFrame]], dg.AssetsDefinition]:
    """An asset stored as the DuckDB table of `contract`, one dataset × batch partition at a time."""
    return dg.asset(
        pool=pool,
        ins=ins,
        name=contract.name,
        partitions_def=video_partitions,
        code_version=code_version,
        **_stored_as(contract, VIDEO_GROUP),
    )


def table_out(
    contract: TableContract,
    *,
    group: str = VIDEO_GROUP,
    automation_condition: dg.AutomationCondition | None = None,
) -> dg.AssetOut:
    """An output of a multi-asset stored as the DuckDB table of `contract`."""
    return dg.AssetOut(automation_condition=automation_condition, **_stored_as(contract, group))


def _stored_as(contract: TableContract, group: str) -> dict[str, Any]:
    """What every asset or output stored as a contract's table declares: the IO manager that
    stores it, the contract (which the IO manager enforces and the UI shows) and its group."""
    return {
        "io_manager_key": WAREHOUSE_IO_MANAGER,
        "metadata": table_metadata(contract),
        "description": contract.description,
        "group_name": group,
        "kinds": {"duckdb"},
    }
