from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from tiktok_virality.core.errors import RecordedError
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.analysis.cache import (
    ANALYSIS_CACHE_SCHEMA,
    NO_CONTROLS,
    AnalysisCache,
    CachedAnalysis,
)
from tiktok_virality.defs.datasets.error_log import ErrorLog
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.datasets.registry_tables import REGISTRY_SCHEMA
from tiktok_virality.defs.scraping.ledger import ScrapeLedger
from tiktok_virality.defs.scraping.sources import ExportVideoSource
from tiktok_virality.resources import STORE_SCHEMAS
from tiktok_virality.warehouse import store
from tiktok_virality.warehouse.migrations import (
    AppliedMigration,
    Migration,
    SchemaTooNewError,
    StoreSchema,
    migrate,
)
from tiktok_virality.warehouse.store import SchemaNotMigratedError

STORE_TABLES = {
    "datasets",
    "dataset_accounts",
    "export_items",
    "errors",
    "analysis_cache",
    "analysis_failures",
    "scrape_runs",
    "costs",
    "media_files",
    "tracked_datasets",
    "dataset_refreshes",
    "video_snapshots",
    "alerts",
}
EVERY_VERSION = {
    (schema.store, migration.version) for schema in STORE_SCHEMAS for migration in schema.migrations
}
B001 = VideoPartition("v1", "b001")

# The tables as the release before versioned migrations first made them: `datasets` without its
# later columns, `scrape_runs.run_id` NOT NULL.
PREVIOUS_RELEASE = """
CREATE TABLE datasets (
    dataset VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, origin VARCHAR NOT NULL,
    batch_size INTEGER NOT NULL, videos_per_account INTEGER NOT NULL,
    max_total_videos INTEGER NOT NULL, created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL, export_scraped_at TIMESTAMPTZ
);
INSERT INTO datasets VALUES
    ('v1', 'accounts', 'account list', 2, 15, 500, '2025-07-08', '2025-07-08', NULL);
CREATE TABLE dataset_accounts (
    dataset VARCHAR NOT NULL, account VARCHAR NOT NULL, batch VARCHAR NOT NULL,
    position INTEGER NOT NULL, added_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (dataset, account)
);
INSERT INTO dataset_accounts VALUES ('v1', 'alpha', 'b001', 0, '2025-07-08');
CREATE TABLE scrape_runs (
    dataset VARCHAR NOT NULL, batch VARCHAR NOT NULL, input_fingerprint VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dataset, batch, input_fingerprint)
);
INSERT INTO scrape_runs VALUES ('v1', 'b001', 'old-input', 'run-1', '2025-07-08');
CREATE TABLE errors (
    dataset VARCHAR NOT NULL, batch VARCHAR NOT NULL, account VARCHAR, phase VARCHAR NOT NULL,
    error VARCHAR NOT NULL, permanent BOOLEAN NOT NULL, recorded_at TIMESTAMPTZ NOT NULL
);
INSERT INTO errors VALUES ('v1', 'b001', 'ghost', 'scraping', 'gone', true, '2025-07-08');
"""


def tables(database: Path) -> set[str]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {row[0] for row in connection.execute("SHOW TABLES").fetchall()}


def versions(database: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute("SELECT * FROM schema_versions ORDER BY ALL").fetchall()


def stores(database: Path) -> tuple[DatasetRegistry, ErrorLog, AnalysisCache, ScrapeLedger]:
    return (
        DatasetRegistry(database=str(database)),
        ErrorLog(database=str(database)),
        AnalysisCache(database=str(database)),
        ScrapeLedger(database=str(database)),
    )


def write_to_every_store(database: Path) -> None:
    registry, error_log, cache, ledger = stores(database)
    registry.add_accounts("v2", ["bravo"])
    error_log.record_errors(B001, "analysis", [RecordedError(None, "quota", permanent=False)])
    analysis = CachedAnalysis("metadata", {"hook": "question"}, datetime.now(UTC))
    cache.store_analyses({"7": analysis}, model="m", schema_version="1", settings="s")
    ledger.record_scrape_start(B001, "new-input")


def test_a_fresh_file_gets_every_table_and_version(tmp_path: Path) -> None:
    database = tmp_path / "fresh.duckdb"

    applied = migrate(database, STORE_SCHEMAS)

    assert {(a.store, a.version) for a in applied} == EVERY_VERSION
    assert tables(database) == STORE_TABLES | {"schema_versions"}
    assert {(store, version) for store, version, _ in versions(database)} == EVERY_VERSION


def test_migrating_again_changes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "twice.duckdb"
    migrate(database, STORE_SCHEMAS)
    before = versions(database)

    assert migrate(database, STORE_SCHEMAS) == []

    assert versions(database) == before
    assert tables(database) == STORE_TABLES | {"schema_versions"}


def test_a_file_of_the_previous_release_is_upgraded_with_its_rows(tmp_path: Path) -> None:
    database = tmp_path / "previous.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(PREVIOUS_RELEASE)

    migrate(database, STORE_SCHEMAS)

    registry, error_log, _, ledger = stores(database)
    dataset = registry.require("v1")
    assert (dataset.thresholds.min_views, dataset.thresholds.max_age_days) == (1000, 180)
    # Migration 3: how the scrape time was found and the videos per batch were not recorded.
    assert (dataset.export_scraped_at_basis, dataset.batch_videos) == (None, None)
    assert registry.plan("v1") == {"alpha": "b001"}
    assert [error.account for error in error_log.errors("v1")] == ["ghost"]
    assert ledger.remembered_scrape_run(B001, "old-input").run_id == "run-1"  # type: ignore[union-attr]
    # The later shape works: a start is recorded before its run id is known.
    ledger.record_scrape_start(B001, "new-input")
    assert ledger.remembered_scrape_run(B001, "new-input").run_id is None  # type: ignore[union-attr]


def test_the_registry_drops_the_cli_s_own_last_run_and_keeps_the_datasets(tmp_path: Path) -> None:
    database = tmp_path / "registry_v1.duckdb"
    first = StoreSchema("registry", REGISTRY_SCHEMA.migrations[:1])
    migrate(database, [first])
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "INSERT INTO datasets (dataset, source, origin, batch_size, videos_per_account, "
            "max_total_videos, created_at, updated_at, last_run_at) "
            "VALUES ('v1', 'accounts', 'account list', 2, 15, 500, now(), now(), now())"
        )

    assert migrate(database, [REGISTRY_SCHEMA]) == [
        AppliedMigration("registry", 2),
        AppliedMigration("registry", 3),
        AppliedMigration("registry", 4),
    ]

    with duckdb.connect(str(database), read_only=True) as connection:
        columns = {row[0] for row in connection.execute("DESCRIBE datasets").fetchall()}
    assert "last_run_at" not in columns
    limits = DatasetRegistry(database=str(database)).require("v1").limits
    assert (limits.max_total_videos, limits.max_cost_usd) == (500, None)


def test_analyses_cached_before_cost_controls_keep_their_rows_keyed_as_made_without_them(
    tmp_path: Path,
) -> None:
    database = tmp_path / "cache.duckdb"
    first = StoreSchema(ANALYSIS_CACHE_SCHEMA.store, ANALYSIS_CACHE_SCHEMA.migrations[:1])
    migrate(database, [first])
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "INSERT INTO analysis_cache VALUES ('7', 'm', '1', 'video', '{\"hook\": 1}', now())"
        )

    assert migrate(database, [ANALYSIS_CACHE_SCHEMA]) == [
        AppliedMigration(ANALYSIS_CACHE_SCHEMA.store, 2)
    ]

    cache = AnalysisCache(database=str(database))
    old = cache.cached_analyses(["7"], model="m", schema_version="1", settings=NO_CONTROLS)
    assert old["7"].record == {"hook": 1}
    assert cache.cached_analyses(["7"], model="m", schema_version="1", settings="low") == {}


def test_a_later_migration_applies_once_after_the_first(tmp_path: Path) -> None:
    database = tmp_path / "later.duckdb"
    first = Migration(1, "CREATE TABLE notes (note VARCHAR)")
    migrate(database, [StoreSchema("notes", (first,))])
    second = Migration(2, "ALTER TABLE notes ADD COLUMN author VARCHAR")

    applied = migrate(database, [StoreSchema("notes", (first, second))])

    assert applied == [AppliedMigration("notes", 2)]
    assert migrate(database, [StoreSchema("notes", (first, second))]) == []


def test_a_failing_migration_leaves_no_trace(tmp_path: Path) -> None:
    database = tmp_path / "failing.duckdb"
    broken = Migration(1, "CREATE TABLE notes (note VARCHAR); SELECT * FROM missing_table")

    with pytest.raises(duckdb.CatalogException, match="missing_table"):
        migrate(database, [StoreSchema("notes", (broken,))])

    assert tables(database) == set()


def test_a_file_migrated_by_a_newer_release_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "newer.duckdb"
    migrate(database, STORE_SCHEMAS)
    newer_version = len(REGISTRY_SCHEMA.migrations) + 1
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "INSERT INTO schema_versions VALUES ('registry', ?, now())", [newer_version]
        )

    with pytest.raises(SchemaTooNewError, match=f"version {newer_version} of the registry tables"):
        migrate(database, STORE_SCHEMAS)


def test_a_write_before_migrating_fails_saying_so(tmp_path: Path) -> None:
    database = tmp_path / "unmigrated.duckdb"
    registry, error_log, _, _ = stores(database)

    with pytest.raises(SchemaNotMigratedError, match=r"registry tables .* migrate the file"):
        registry.add_accounts("v1", ["alpha"])
    with pytest.raises(SchemaNotMigratedError, match="error_log tables"):
        error_log.record_errors(B001, "scraping", [])

    assert tables(database) == set()


def test_store_writes_run_no_ddl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "writes.duckdb"
    migrate(database, STORE_SCHEMAS)
    statements: list[str] = []
    real_transaction = store.transaction

    class Recording:
        def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
            self._connection = connection

        def execute(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
            statements.append(sql)
            return self._connection.execute(sql, *args)

        def executemany(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
            statements.append(sql)
            return self._connection.executemany(sql, *args)

    @contextmanager
    def recording_transaction(database: Path | str) -> Iterator[Recording]:
        with real_transaction(database) as connection:
            yield Recording(connection)

    monkeypatch.setattr(store, "transaction", recording_transaction)

    write_to_every_store(database)

    assert len(statements) >= 4
    assert [sql for sql in statements if sql.lstrip().upper().startswith(("CREATE", "ALTER"))] == []


def test_a_dagster_run_migrates_the_stores_it_uses(tmp_path: Path) -> None:
    database = tmp_path / "run.duckdb"
    registry = DatasetRegistry(database=str(database))

    @dg.asset
    def export_datasets(export_source: ExportVideoSource, error_log: ErrorLog) -> None:
        """Uses the registry only as the export source's nested resource."""

    result = dg.materialize(
        [export_datasets],
        resources={
            "export_source": ExportVideoSource(registry=registry),
            "error_log": ErrorLog(database=str(database)),
        },
    )

    assert result.success
    assert {store for store, _, _ in versions(database)} == {"registry", "error_log"}
