"""Datasets and their batch plans, kept in DuckDB beside the asset tables.

A dataset is a named list of accounts split into batches of 1-10 accounts. The plan (account → batch)
is pinned when an account is first added: a later run with another batch size never moves an account
that is already planned, so a materialized partition always means the same accounts. Accounts added
later go into new batches. Datasets made from an Apify export also keep the export's items here, so
the export file can move or disappear after the import."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from tiktok_virality.core.errors import describe_error
from tiktok_virality.core.naming import InvalidNameError, validate_dataset_name
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.warehouse.io_manager import read_partitions
from tiktok_virality.warehouse.storage import connect, quote_identifier, table_exists
from tiktok_virality.warehouse.tables import TableContract

MIN_BATCH_SIZE = 1
MAX_BATCH_SIZE = 10
DEFAULT_BATCH_SIZE = 5
DEFAULT_VIDEOS_PER_ACCOUNT = 15
DEFAULT_MAX_TOTAL_VIDEOS = 500


class InvalidSettingError(ValueError):
    """A dataset setting out of its range; the message says the range."""


class DatasetSource(StrEnum):
    EXPORT = "export"  # items imported from an Apify export (or the bundled sample)
    ACCOUNTS = "accounts"  # accounts to scrape with Apify


@dataclass(frozen=True)
class ScrapeLimits:
    videos_per_account: int = DEFAULT_VIDEOS_PER_ACCOUNT
    max_total_videos: int = DEFAULT_MAX_TOTAL_VIDEOS

    def __post_init__(self) -> None:
        if self.videos_per_account < 1:
            raise InvalidSettingError(
                f"videos per account must be at least 1, not {self.videos_per_account}"
            )
        if self.max_total_videos < 1:
            raise InvalidSettingError(
                f"max total videos must be at least 1, not {self.max_total_videos}"
            )


@dataclass(frozen=True)
class Dataset:
    name: str
    source: DatasetSource
    origin: str
    batch_size: int
    limits: ScrapeLimits
    created_at: datetime
    updated_at: datetime
    export_scraped_at: datetime | None  # when an export dataset's items were scraped
    thresholds: QualityThresholds
    last_run_at: datetime | None = None


@dataclass(frozen=True)
class ExportContent:
    """The items of an Apify export, by account, and when they were scraped."""

    items_by_account: Mapping[str, Sequence[Mapping[str, Any]]]
    scraped_at: datetime


@dataclass(frozen=True)
class CachedAnalysis:
    """A model's analysis of one video (the nested record), and what it was made from."""

    input_kind: str
    record: dict[str, Any]
    analyzed_at: datetime


@dataclass(frozen=True)
class AnalysisFailure:
    """A video's failed analyses so far: the last error, and whether it is given up on."""

    error: str
    permanent: bool
    attempts: int


@dataclass(frozen=True)
class RememberedScrapeRun:
    """A batch's paid Apify run: its id, or None while the start is under way (an attempt stopped
    then may have started a run it never heard of)."""

    run_id: str | None
    started_at: datetime


@dataclass(frozen=True)
class RecordedError:
    """A problem met by one phase of a partition: `permanent` ones (an account that does not exist)
    are data and do not fail the partition; transient ones (a failed run) do, and are retried."""

    account: str | None
    error: str
    permanent: bool


@dataclass(frozen=True)
class DatasetError:
    batch: str
    account: str | None
    phase: str
    error: str
    permanent: bool


@dataclass(frozen=True)
class PlannedAccount:
    account: str
    batch: str


def validate_batch_size(batch_size: int) -> int:
    if not MIN_BATCH_SIZE <= batch_size <= MAX_BATCH_SIZE:
        raise InvalidSettingError(
            f"batch size must be between {MIN_BATCH_SIZE} and {MAX_BATCH_SIZE} accounts, "
            f"not {batch_size}"
        )
    return batch_size


def batch_key(number: int) -> str:
    return f"b{number:03d}"


def batch_number(key: str) -> int:
    return int(key.removeprefix("b"))


def plan_new_accounts(
    planned: Mapping[str, str], accounts: Sequence[str], batch_size: int
) -> list[PlannedAccount]:
    """Batches for the accounts not planned yet: new batches after the last one, never a planned one."""
    validate_batch_size(batch_size)
    new_accounts = [account for account in dict.fromkeys(accounts) if account not in planned]
    first_number = max((batch_number(batch) for batch in planned.values()), default=0) + 1
    return [
        PlannedAccount(account, batch_key(first_number + index // batch_size))
        for index, account in enumerate(new_accounts)
    ]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    dataset VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    batch_size INTEGER NOT NULL,
    videos_per_account INTEGER NOT NULL,
    max_total_videos INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    export_scraped_at TIMESTAMPTZ
);
ALTER TABLE datasets ADD COLUMN IF NOT EXISTS min_views BIGINT DEFAULT 1000;
ALTER TABLE datasets ADD COLUMN IF NOT EXISTS max_age_days INTEGER DEFAULT 180;
ALTER TABLE datasets ADD COLUMN IF NOT EXISTS last_run_at TIMESTAMPTZ;
CREATE TABLE IF NOT EXISTS scrape_runs (
    dataset VARCHAR NOT NULL,
    batch VARCHAR NOT NULL,
    input_fingerprint VARCHAR NOT NULL,
    run_id VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dataset, batch, input_fingerprint)
);
ALTER TABLE scrape_runs ALTER COLUMN run_id DROP NOT NULL;
CREATE TABLE IF NOT EXISTS analysis_cache (
    video_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    schema_version VARCHAR NOT NULL,
    input_kind VARCHAR NOT NULL,
    analysis_json JSON NOT NULL,
    analyzed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (video_id, model, schema_version)
);
CREATE TABLE IF NOT EXISTS analysis_failures (
    video_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    schema_version VARCHAR NOT NULL,
    error VARCHAR NOT NULL,
    permanent BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (video_id, model, schema_version)
);
CREATE TABLE IF NOT EXISTS errors (
    dataset VARCHAR NOT NULL,
    batch VARCHAR NOT NULL,
    account VARCHAR,
    phase VARCHAR NOT NULL,
    error VARCHAR NOT NULL,
    permanent BOOLEAN NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
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
"""

_DATASET_COLUMNS = (
    "dataset, source, origin, batch_size, videos_per_account, max_total_videos, created_at, "
    "updated_at, export_scraped_at, min_views, max_age_days, last_run_at"
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
    )


class DatasetExistsError(ValueError):
    """A dataset of that name already exists and the operation would change what it means."""


class UnknownDatasetError(LookupError):
    """No dataset of that name in the database."""


class DatasetCatalog(dg.ConfigurableResource):
    """The datasets, their batch plans and their imported export items, in the project's DuckDB file."""

    database: str

    @contextmanager
    def _writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.database) as connection:
            connection.execute(_SCHEMA)
            yield connection

    def _read(
        self, sql: str, parameters: Sequence[Any] = (), *, table: str = "datasets"
    ) -> list[tuple[Any, ...]]:
        """Rows of a read-only query; none while the database or `table` does not exist yet."""
        if not Path(self.database).exists():
            return []
        with connect(self.database, read_only=True) as connection:
            if not table_exists(connection, table):
                return []
            return connection.execute(sql, list(parameters)).fetchall()

    def get(self, name: str) -> Dataset | None:
        rows = self._read(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE dataset = ?", [name])
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
        rows = self._read(f"SELECT {_DATASET_COLUMNS} FROM datasets ORDER BY dataset")
        return [_dataset_from_row(row) for row in rows]

    def plan(self, name: str) -> dict[str, str]:
        """account → batch, in the order the accounts were added."""
        rows = self._read(
            "SELECT account, batch FROM dataset_accounts WHERE dataset = ? ORDER BY position",
            [name],
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
        now: datetime | None = None,
    ) -> list[PlannedAccount]:
        """Create the dataset or extend it with new accounts, in one transaction.

        With `export`, the dataset is an export dataset: made once and never extended, so that its
        partitions keep meaning the same items.
        """
        validate_dataset_name(name)
        validate_batch_size(batch_size)
        if not accounts:
            raise InvalidNameError(f"dataset {name!r} needs at least one account")
        timestamp = now or datetime.now(UTC)
        with self._writer() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                added = self._add_accounts_in_transaction(
                    connection,
                    name,
                    accounts,
                    batch_size=batch_size,
                    limits=limits or ScrapeLimits(),
                    thresholds=thresholds or QualityThresholds(),
                    origin=origin,
                    export=export,
                    now=timestamp,
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return added

    def _add_accounts_in_transaction(
        self,
        connection: duckdb.DuckDBPyConnection,
        name: str,
        accounts: Sequence[str],
        *,
        batch_size: int,
        limits: ScrapeLimits,
        thresholds: QualityThresholds,
        origin: str,
        export: ExportContent | None,
        now: datetime,
    ) -> list[PlannedAccount]:
        source = DatasetSource.EXPORT if export else DatasetSource.ACCOUNTS
        existing = connection.execute(
            "SELECT source FROM datasets WHERE dataset = ?", [name]
        ).fetchone()
        if existing is None:
            connection.execute(
                f"INSERT INTO datasets ({_DATASET_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
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
                ],
            )
        elif existing[0] == DatasetSource.EXPORT or source == DatasetSource.EXPORT:
            raise DatasetExistsError(
                f"dataset {name!r} already exists; an export dataset is made once from one "
                "export: import into a new dataset name"
            )
        planned = dict(
            connection.execute(
                "SELECT account, batch FROM dataset_accounts WHERE dataset = ?", [name]
            ).fetchall()
        )
        added = plan_new_accounts(planned, accounts, batch_size)
        if added:
            connection.executemany(
                "INSERT INTO dataset_accounts VALUES (?, ?, ?, ?, ?)",
                [
                    [name, entry.account, entry.batch, len(planned) + index, now]
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
        connection.execute("UPDATE datasets SET updated_at = ? WHERE dataset = ?", [now, name])
        return added

    def update_settings(
        self, name: str, *, limits: ScrapeLimits, thresholds: QualityThresholds
    ) -> None:
        with self._writer() as connection:
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

    def record_errors(
        self, partition: VideoPartition, phase: str, errors: Sequence[RecordedError]
    ) -> None:
        """Replace the errors of one partition's phase: what its latest attempt ran into."""
        now = datetime.now(UTC)
        with self._writer() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                connection.execute(
                    "DELETE FROM errors WHERE dataset = ? AND batch = ? AND phase = ?",
                    [partition.dataset, partition.batch, phase],
                )
                if errors:
                    connection.executemany(
                        "INSERT INTO errors (dataset, batch, account, phase, error, permanent, "
                        "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [
                            [
                                partition.dataset,
                                partition.batch,
                                error.account,
                                phase,
                                error.error,
                                error.permanent,
                                now,
                            ]
                            for error in errors
                        ],
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def cached_analyses(
        self, video_ids: Sequence[str], *, model: str, schema_version: str
    ) -> dict[str, CachedAnalysis]:
        """The paid-for analyses already made of these videos with this model and schema."""
        rows = self._read(
            "SELECT video_id, input_kind, analysis_json, analyzed_at FROM analysis_cache "
            "WHERE model = ? AND schema_version = ? AND list_contains(?, video_id)",
            [model, schema_version, list(video_ids)],
            table="analysis_cache",
        )
        return {
            video_id: CachedAnalysis(input_kind, json.loads(document), analyzed_at)
            for video_id, input_kind, document, analyzed_at in rows
        }

    def store_analyses(
        self, analyses: Mapping[str, CachedAnalysis], *, model: str, schema_version: str
    ) -> None:
        """Keep paid-for analyses (by video id) as soon as they arrive, in one transaction."""
        with self._writer() as connection:
            connection.execute("BEGIN TRANSACTION")
            connection.executemany(
                "INSERT OR REPLACE INTO analysis_cache VALUES (?, ?, ?, ?, ?, ?)",
                [
                    [
                        video_id,
                        model,
                        schema_version,
                        analysis.input_kind,
                        json.dumps(analysis.record, ensure_ascii=False),
                        analysis.analyzed_at,
                    ]
                    for video_id, analysis in analyses.items()
                ],
            )
            connection.execute(
                "DELETE FROM analysis_failures WHERE list_contains(?, video_id) AND model = ? "
                "AND schema_version = ?",
                [list(analyses), model, schema_version],
            )
            connection.execute("COMMIT")

    def analysis_failures(
        self, video_ids: Sequence[str], *, model: str, schema_version: str
    ) -> dict[str, AnalysisFailure]:
        rows = self._read(
            "SELECT video_id, error, permanent, attempts FROM analysis_failures "
            "WHERE model = ? AND schema_version = ? AND list_contains(?, video_id)",
            [model, schema_version, list(video_ids)],
            table="analysis_failures",
        )
        return {video_id: AnalysisFailure(*rest) for video_id, *rest in rows}

    def record_analysis_failure(
        self,
        video_id: str,
        *,
        model: str,
        schema_version: str,
        error: str,
        permanent: bool,
        give_up_after: int,
    ) -> AnalysisFailure:
        """Count a failed attempt; a video failing `give_up_after` times is given up on for good,
        so that it neither blocks its partition nor is paid for on every retry."""
        with self._writer() as connection:
            previous = connection.execute(
                "SELECT attempts FROM analysis_failures WHERE video_id = ? AND model = ? "
                "AND schema_version = ?",
                [video_id, model, schema_version],
            ).fetchall()
            attempts = (previous[0][0] if previous else 0) + 1
            failure = AnalysisFailure(error, permanent or attempts >= give_up_after, attempts)
            connection.execute(
                "INSERT OR REPLACE INTO analysis_failures VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    video_id,
                    model,
                    schema_version,
                    error,
                    failure.permanent,
                    attempts,
                    datetime.now(UTC),
                ],
            )
        return failure

    def mark_run(self, name: str) -> None:
        with self._writer() as connection:
            connection.execute(
                "UPDATE datasets SET last_run_at = ? WHERE dataset = ?", [datetime.now(UTC), name]
            )

    def analysis_provenance(self, name: str) -> list[tuple[str, str | None, str, int]]:
        """(analyzer, model, schema version, analyses) of the dataset's stored analyses."""
        return self._read(
            "SELECT analyzer, model, schema_version, count(*) FROM video_analyses "
            "WHERE dataset = ? GROUP BY ALL ORDER BY ALL",
            [name],
            table="video_analyses",
        )

    def errors(self, name: str) -> list[DatasetError]:
        """What the latest attempt of each of the dataset's partitions and phases ran into."""
        rows = self._read(
            "SELECT batch, account, phase, error, permanent FROM errors WHERE dataset = ? "
            "ORDER BY batch, phase, account NULLS FIRST",
            [name],
            table="errors",
        )
        return [DatasetError(*row) for row in rows]

    def row_counts(self, name: str, tables: Sequence[str]) -> dict[str, int]:
        """Rows the dataset has in each asset table (0 for a table not created yet)."""
        counts = {}
        for table in tables:
            rows = self._read(
                f"SELECT count(*) FROM {quote_identifier(table)} WHERE dataset = ?",
                [name],
                table=table,
            )
            counts[table] = int(rows[0][0]) if rows else 0
        return counts

    def record_scrape_start(self, partition: VideoPartition, input_fingerprint: str) -> None:
        """A paid run of this batch is about to be started: until it is remembered, a retry looks
        for it among the runs started from now on."""
        with self._writer() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO scrape_runs VALUES (?, ?, ?, NULL, ?)",
                [partition.dataset, partition.batch, input_fingerprint, datetime.now(UTC)],
            )

    def remember_scrape_run(
        self, partition: VideoPartition, input_fingerprint: str, run_id: str
    ) -> None:
        """The paid run scraping this batch with this input, so that a retry resumes it."""
        with self._writer() as connection:
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

    def export_items(self, name: str, accounts: Sequence[str]) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT item FROM export_items WHERE dataset = ? AND list_contains(?, account) "
            "ORDER BY account, item_index",
            [name, list(accounts)],
        )
        return [json.loads(row[0]) for row in rows]

    def model_summary(self, name: str) -> dict[str, Any] | None:
        """The dataset's latest model evaluation (table `model_runs`), or None before the first."""
        columns = (
            "trained_at, evaluated, reason, labelled_videos, viral_videos, model_roc_auc, "
            "baseline_followers_roc_auc, baseline_account_median_roc_auc"
        )
        rows = self._read(
            f"SELECT {columns} FROM model_runs WHERE dataset = ?", [name], table="model_runs"
        )
        if not rows:
            return None
        return dict(zip([c.strip() for c in columns.split(",")], rows[0], strict=True))

    def other_batches_rows(
        self, table: TableContract, partition: VideoPartition, columns: Sequence[str]
    ) -> pd.DataFrame:
        """`columns` of the rows the partition's dataset has stored in `table` for its other
        batches."""
        others = [
            VideoPartition(partition.dataset, batch)
            for batch in self.batches(partition.dataset)
            if batch != partition.batch
        ]
        types = {column: table.sql_types[column] for column in columns}
        return read_partitions(self.database, table.name, types, others)

    def stored_video_count(self, name: str, *, excluding_batch: str | None = None) -> int:
        """Raw videos already stored for the dataset, to keep it within its max total videos."""
        rows = self._read(
            "SELECT count(*) FROM raw_videos WHERE dataset = ? AND batch IS DISTINCT FROM ?",
            [name, excluding_batch],
            table="raw_videos",
        )
        return int(rows[0][0]) if rows else 0


@contextmanager
def failure_recorded(
    catalog: DatasetCatalog, partition: VideoPartition, phase: Phase
) -> Iterator[None]:
    """A step that fails leaves its reason in the errors table (where `status` reads it), then
    fails as it would have."""
    try:
        yield
    except Exception as error:
        catalog.record_errors(
            partition, phase, [RecordedError(None, describe_error(error), permanent=False)]
        )
        raise
