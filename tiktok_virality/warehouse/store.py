"""What every store shares: a resource owning some tables of the project's DuckDB file, whose shape
its `StoreSchema` migrations make, and which reads and writes them only.

Writes run no DDL: the tables are made by `migrate`, which Dagster runs once per run through
`setup_for_execution` and the CLI once per command. A write to a file that was never migrated fails
saying so, rather than with DuckDB's bare "table does not exist"."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import dagster as dg
import duckdb

from tiktok_virality.warehouse.migrations import StoreSchema, migrate
from tiktok_virality.warehouse.storage import read_rows, transaction


class SchemaNotMigratedError(RuntimeError):
    """A store was written to before its tables were made (`migrate` did not run on the file)."""


class Store(dg.ConfigurableResource):
    database: str

    # Each store's tables and how they came to be; a class attribute, not configuration.
    store_schema: ClassVar[StoreSchema]
    # Its tables whose rows belong to one dataset (column `dataset`): what deleting a dataset
    # clears. A store whose rows are shared by datasets (the paid analyses) lists none.
    dataset_tables: ClassVar[tuple[str, ...]] = ()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Once per run (the in-process executor sets resources up once), a no-op when up to date.
        migrate(self.database, [self.store_schema])

    def _read(
        self, sql: str, parameters: Sequence[Any] = (), *, table: str
    ) -> list[tuple[Any, ...]]:
        return read_rows(self.database, sql, parameters, table=table)

    @contextmanager
    def _write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction on the store's tables."""
        try:
            with transaction(self.database) as connection:
                yield connection
        except duckdb.CatalogException as error:
            if "does not exist" not in str(error):
                raise
            raise SchemaNotMigratedError(
                f"the {self.store_schema.store} tables of {self.database} are missing or out of "
                f"date ({str(error).splitlines()[0]}): migrate the file first (Dagster runs do "
                "when they start, the CLI when it opens it)"
            ) from error
