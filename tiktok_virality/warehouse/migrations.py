"""The stores' tables, created and upgraded by numbered migrations instead of on every write.

Each store declares its migrations in its own module (a `StoreSchema`); `migrate` applies the ones a
database file has not had yet, each in its own transaction together with its row in
`schema_versions` (store, version, applied_at), so that a migration is either wholly applied and
recorded or not at all. Once a file is up to date, `migrate` costs one read-only connection and
one query.

Migration 1 of each store creates its tables and also upgrades a file made before versions were
recorded (its statements are idempotent: `CREATE TABLE IF NOT EXISTS`, `ADD COLUMN IF NOT
EXISTS`); later migrations run once, in order, and need not be idempotent. A file migrated by a
newer release is refused rather than written in a shape this release does not know."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tiktok_virality.core.errors import UserError
from tiktok_virality.warehouse.storage import connect, in_transaction, table_exists

SCHEMA_VERSIONS_TABLE = "schema_versions"
_CREATE_SCHEMA_VERSIONS = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA_VERSIONS_TABLE} (
    store VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store, version)
)
"""


class SchemaTooNewError(UserError, RuntimeError):
    """The file was migrated by a newer release: this one does not know its tables' shape."""


@dataclass(frozen=True)
class Migration:
    version: int
    sql: str


@dataclass(frozen=True)
class StoreSchema:
    """A store's migrations, numbered 1, 2, ... in the order they apply."""

    store: str
    migrations: tuple[Migration, ...]

    def __post_init__(self) -> None:
        versions = [migration.version for migration in self.migrations]
        if versions != list(range(1, len(versions) + 1)):
            raise ValueError(f"migrations of {self.store} must be numbered 1, 2, ...: {versions}")


@dataclass(frozen=True)
class AppliedMigration:
    store: str
    version: int


def _recorded_versions(connection: duckdb.DuckDBPyConnection) -> set[tuple[str, int]]:
    if not table_exists(connection, SCHEMA_VERSIONS_TABLE):
        return set()
    rows = connection.execute(f"SELECT store, version FROM {SCHEMA_VERSIONS_TABLE}").fetchall()
    return {(store, version) for store, version in rows}


def _refuse_newer(
    schema: StoreSchema, recorded: set[tuple[str, int]], database: Path | str
) -> None:
    known = len(schema.migrations)
    newer = [version for store, version in recorded if store == schema.store and version > known]
    if newer:
        raise SchemaTooNewError(
            f"{database} holds version {max(newer)} of the {schema.store} tables, made by a newer "
            f"release (this one knows up to version {known}): upgrade tiktok-virality to use it"
        )


def _missing(
    schemas: Sequence[StoreSchema], recorded: set[tuple[str, int]], database: Path | str
) -> list[tuple[str, Migration]]:
    missing = []
    for schema in schemas:
        _refuse_newer(schema, recorded, database)
        missing += [
            (schema.store, migration)
            for migration in schema.migrations
            if (schema.store, migration.version) not in recorded
        ]
    return missing


def migrate(database: Path | str, schemas: Iterable[StoreSchema]) -> list[AppliedMigration]:
    """Apply the migrations of `schemas` that `database` lacks (creating the file if need be);
    returns what was applied, nothing when the file was up to date."""
    schemas = list(schemas)
    if Path(database).exists():
        # Up to date is the usual case: a read-only look takes no write lock, so that it neither
        # waits for nor blocks a notebook's read-only connection.
        with connect(database, read_only=True) as connection:
            if not _missing(schemas, _recorded_versions(connection), database):
                return []
    applied: list[AppliedMigration] = []
    with connect(database) as connection:
        # Read again under the write lock: another process may have migrated in between.
        for store, migration in _missing(schemas, _recorded_versions(connection), database):
            with in_transaction(connection):
                connection.execute(_CREATE_SCHEMA_VERSIONS)
                connection.execute(migration.sql)
                connection.execute(
                    f"INSERT INTO {SCHEMA_VERSIONS_TABLE} VALUES (?, ?, ?)",
                    [store, migration.version, datetime.now(UTC)],
                )
            applied.append(AppliedMigration(store, migration.version))
    return applied
