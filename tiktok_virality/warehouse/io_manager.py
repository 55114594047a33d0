"""An IO manager that stores each partition of an asset — dataset × batch, or dataset for the assets
made from a whole dataset — in one DuckDB table, the partition keys in columns of the same names.

Written for this project instead of dagster-duckdb's `DuckDBPandasIOManager`, which (0.29) fails on
multi-partitions with a dynamic dimension, replaces a partition non-atomically, inserts by position,
cannot add columns, skips empty frames and leaks connections on error. Here:

- a partition is replaced in one transaction (DELETE + INSERT, and any ALTER TABLE): a failed or killed
  write leaves the previous rows;
- rows are inserted by column name and cast to the table contract's types (`tables.py`), which is
  attached to the asset as `dagster/column_schema`;
- columns new in the contract are added to an existing table;
- an empty partition is stored as a table with no rows for that partition, and loads as an empty frame
  with the contract's columns;
- every connection is closed on every path (`storage.connect`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
import pandas as pd

from tiktok_virality.core.markdown import markdown_table
from tiktok_virality.core.partitions import (
    DatasetPartition,
    StoredPartition,
    parse_partition_key,
)
from tiktok_virality.warehouse.storage import (
    connect,
    quote_identifier,
    table_exists,
    transaction,
)

COLUMN_SCHEMA_KEY = "dagster/column_schema"
PREVIEW_COLUMNS_KEY = "tiktok_virality/preview_columns"
COLUMNS_KEY = "columns"
# The resource key under which assets find this IO manager.
WAREHOUSE_IO_MANAGER = "warehouse_io_manager"

ColumnTypes = Mapping[str, str]


class ContractViolationError(ValueError):
    """An asset produced a frame that does not fit its table contract."""


def column_types_from_metadata(metadata: Mapping[str, object], asset: str) -> dict[str, str]:
    schema = metadata.get(COLUMN_SCHEMA_KEY)
    if not isinstance(schema, dg.TableSchema):
        raise ContractViolationError(
            f"asset {asset} has no {COLUMN_SCHEMA_KEY} metadata: the DuckDB IO manager needs the "
            "table contract to create and cast its columns"
        )
    return {column.name: column.type for column in schema.columns}


def _conform(
    frame: pd.DataFrame, column_types: ColumnTypes, partition: StoredPartition
) -> pd.DataFrame:
    unknown = [column for column in frame.columns if column not in column_types]
    if unknown:
        raise ContractViolationError(f"columns not in the table contract: {unknown}")
    missing = [
        column
        for column in column_types
        if column not in frame.columns and column not in partition.columns
    ]
    if missing and not frame.empty:
        raise ContractViolationError(f"contract columns missing from the frame: {missing}")
    conformed = frame.reindex(columns=list(column_types))
    for column, value in partition.columns.items():
        present = conformed[column].dropna()
        if not present.empty and not (present == value).all():
            raise ContractViolationError(
                f"rows of partition {partition} carry another {column}: {sorted(set(present))[:3]}"
            )
        conformed[column] = value
    return conformed


def write_partition(
    database: Path | str,
    table: str,
    column_types: ColumnTypes,
    partition: StoredPartition,
    frame: pd.DataFrame,
) -> int:
    """Replace the partition's rows in `table` atomically; returns the number of rows written."""
    rows = _conform(frame, column_types, partition)
    quoted_table = quote_identifier(table)
    select_list = ", ".join(
        f"CAST({quote_identifier(name)} AS {sql_type}) AS {quote_identifier(name)}"
        for name, sql_type in column_types.items()
    )
    with transaction(database) as connection:
        if table_exists(connection, table):
            existing = {row[0] for row in connection.execute(f"DESCRIBE {quoted_table}").fetchall()}
            for name, sql_type in column_types.items():
                if name not in existing:
                    connection.execute(
                        f"ALTER TABLE {quoted_table} ADD COLUMN {quote_identifier(name)} {sql_type}"
                    )
        else:
            definitions = ", ".join(
                f"{quote_identifier(name)} {sql_type}" for name, sql_type in column_types.items()
            )
            connection.execute(f"CREATE TABLE {quoted_table} ({definitions})")
        keys = partition.columns
        connection.execute(
            f"DELETE FROM {quoted_table} WHERE "
            + " AND ".join(f"{quote_identifier(column)} = ?" for column in keys),
            list(keys.values()),
        )
        # DuckDB infers an object column's type from a sample of rows; a list column whose
        # sampled lists are all empty would become NULL[] and refuse the rest.
        connection.execute(f"SET pandas_analyze_sample = {max(len(rows), 1000)}")
        connection.register("partition_rows", rows)
        connection.execute(
            f"INSERT INTO {quoted_table} BY NAME SELECT {select_list} FROM partition_rows"
        )
    return len(rows)


def read_partitions(
    database: Path | str,
    table: str,
    column_types: ColumnTypes,
    partitions: Sequence[StoredPartition],
) -> pd.DataFrame:
    """The rows of the given partitions (all of one kind), with the contract's columns (null where
    the table lacks one); an empty frame with those columns when the table does not exist yet."""
    empty = pd.DataFrame({name: pd.Series(dtype="object") for name in column_types})
    if not partitions or not Path(database).exists():
        return empty
    with connect(database, read_only=True) as connection:
        if not table_exists(connection, table):
            return empty
        quoted_table = quote_identifier(table)
        existing = {row[0] for row in connection.execute(f"DESCRIBE {quoted_table}").fetchall()}
        select_list = ", ".join(
            quote_identifier(name)
            if name in existing
            else f"CAST(NULL AS {sql_type}) AS {quote_identifier(name)}"
            for name, sql_type in column_types.items()
        )
        wanted = pd.DataFrame([partition.columns for partition in partitions], dtype="object")
        connection.register("wanted_partitions", wanted)
        key_columns = ", ".join(quote_identifier(column) for column in wanted.columns)
        # rowid keeps the rows in the order they were written.
        return connection.execute(
            f"SELECT {select_list} FROM {quoted_table} SEMI JOIN wanted_partitions "
            f"USING ({key_columns}) ORDER BY {quoted_table}.rowid"
        ).df()


def stored_partition(key: str, partitions_def: dg.PartitionsDefinition | None) -> StoredPartition:
    """The partition a key names: dataset × batch for the multi-partitioned assets, else a
    dataset."""
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return parse_partition_key(key)
    return DatasetPartition(str(key))


class DuckDBPartitionIOManager(dg.ConfigurableIOManager):
    """Stores partitioned DataFrame assets in the project's DuckDB file."""

    database: str

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        table = context.asset_key.path[-1]
        column_types = column_types_from_metadata(context.definition_metadata, table)
        partition = stored_partition(context.asset_partition_key, context.asset_partitions_def)
        row_count = write_partition(self.database, table, column_types, partition, obj)
        preview_columns = context.definition_metadata.get(PREVIEW_COLUMNS_KEY)
        if preview_columns:
            context.add_output_metadata(
                {"preview": dg.MetadataValue.md(markdown_table(obj, list(preview_columns)))}
            )
        context.add_output_metadata(
            {
                "dagster/row_count": row_count,
                "dagster/table_name": f"{Path(self.database).name}.{table}",
            }
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = context.asset_key.path[-1]
        upstream_metadata = (
            context.upstream_output.definition_metadata if context.upstream_output else {}
        )
        column_types = column_types_from_metadata(upstream_metadata or {}, table)
        # An input may ask for some columns only (`dg.AssetIn(metadata={"columns": [...]})`).
        wanted = context.definition_metadata.get(COLUMNS_KEY)
        if wanted:
            column_types = {name: column_types[name] for name in wanted}
        with dg.partition_loading_context(dynamic_partitions_store=context.instance):
            keys = context.asset_partition_keys
        partitions_def = context.asset_partitions_def
        return read_partitions(
            self.database, table, column_types, [stored_partition(k, partitions_def) for k in keys]
        )
