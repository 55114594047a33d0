"""The dataset registry's tables (their migrations) and the queries that read them, apart from the
store that writes them (`registry.py`): the `DatasetRegistry` resource has these queries, and so has
`RegistryReader`, which reads the same tables without importing Dagster or pandas, so that the
CLI's quick commands (`dataset list`, `dataset show`) answer at once."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tiktok_virality.core.errors import UserError
from tiktok_virality.defs.datasets.dataset import (
    Dataset,
    DatasetSource,
    ScrapeLimits,
    ScrapeTimeBasis,
    batch_number,
)
from tiktok_virality.defs.scraping.thresholds import QualityThresholds
from tiktok_virality.warehouse.migrations import Migration, StoreSchema
from tiktok_virality.warehouse.storage import read_rows

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
        # The last run is read from the Dagster instance, which sees the UI's and backfills' runs
        # too: the CLI's own record of it is gone.
        Migration(2, "ALTER TABLE datasets DROP COLUMN last_run_at"),
        # How an export's scrape time was found (shown by `dataset show`), and the videos per
        # batch of an export dataset planned by volume.
        Migration(
            3,
            """
            ALTER TABLE datasets ADD COLUMN export_scraped_at_basis VARCHAR;
            ALTER TABLE datasets ADD COLUMN batch_videos INTEGER;
            """,
        ),
        # The dataset's budget for paid work (`--max-cost-usd`), NULL for none.
        Migration(4, "ALTER TABLE datasets ADD COLUMN max_cost_usd DOUBLE"),
    ),
)

DATASET_COLUMNS = (
    "dataset, source, origin, batch_size, videos_per_account, max_total_videos, created_at, "
    "updated_at, export_scraped_at, min_views, max_age_days, export_scraped_at_basis, "
    "batch_videos, max_cost_usd"
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
        scraped_at_basis,
        batch_videos,
        max_cost_usd,
    ) = row
    return Dataset(
        name=name,
        source=DatasetSource(source),
        origin=origin,
        batch_size=batch_size,
        limits=ScrapeLimits(
            videos_per_account=per_account, max_total_videos=max_total, max_cost_usd=max_cost_usd
        ),
        created_at=created_at,
        updated_at=updated_at,
        export_scraped_at=export_scraped_at,
        thresholds=QualityThresholds(min_views=min_views, max_age_days=max_age_days),
        export_scraped_at_basis=ScrapeTimeBasis(scraped_at_basis) if scraped_at_basis else None,
        batch_videos=batch_videos,
    )


class UnknownDatasetError(UserError, LookupError):
    """No dataset of that name in the database."""


def unknown_dataset_message(name: str, known: Sequence[str]) -> str:
    """Why `name` names no dataset, with the closest existing names (most often a typo) and the
    commands that create one: only an explicit request creates a dataset."""
    close = difflib.get_close_matches(name, known, n=3)
    if close:
        hint = f"did you mean {' or '.join(map(repr, close))}?"
    else:
        hint = f"the datasets are {', '.join(known)}." if known else "there are no datasets yet."
    return (
        f"dataset {name!r} does not exist; {hint} To create it: `tiktok-virality dataset create "
        f"--dataset {name} --accounts FILE` (accounts to scrape), `tiktok-virality dataset import "
        f"--dataset {name} FILE` (an Apify export) or `tiktok-virality dataset create --sample "
        f"--dataset {name}` (the bundled sample)"
    )


def not_a_dataset(key: str) -> str:
    """What an asset says of a partition whose dataset key names no dataset: a key added in the
    UI's launch dialog, which would otherwise stay red in the grid for ever."""
    return (
        f"{key!r} is a partition key but not a dataset (a key added in the UI?): stored as empty; "
        "`tiktok-virality dataset prune` removes such keys"
    )


class RegistryQueries:
    """The registry's reads, for a class that has the `database` path."""

    database: str

    def get(self, name: str) -> Dataset | None:
        rows = read_rows(
            self.database,
            f"SELECT {DATASET_COLUMNS} FROM datasets WHERE dataset = ?",
            [name],
            table="datasets",
        )
        return _dataset_from_row(rows[0]) if rows else None

    def require(self, name: str) -> Dataset:
        dataset = self.get(name)
        if dataset is None:
            raise UnknownDatasetError(unknown_dataset_message(name, self.names()))
        return dataset

    def names(self) -> list[str]:
        rows = read_rows(self.database, "SELECT dataset FROM datasets ORDER BY 1", table="datasets")
        return [row[0] for row in rows]

    def list_datasets(self) -> list[Dataset]:
        rows = read_rows(
            self.database,
            f"SELECT {DATASET_COLUMNS} FROM datasets ORDER BY dataset",
            table="datasets",
        )
        return [_dataset_from_row(row) for row in rows]

    def plan(self, name: str) -> dict[str, str]:
        """account → batch, in the order the accounts were added."""
        rows = read_rows(
            self.database,
            "SELECT account, batch FROM dataset_accounts WHERE dataset = ? ORDER BY position",
            [name],
            table="dataset_accounts",
        )
        return dict(rows)

    def batches(self, name: str) -> list[str]:
        return sorted(set(self.plan(name).values()), key=batch_number)

    def batches_in_use(self) -> set[str]:
        """The batch keys some dataset's plan uses (a key no dataset uses is a stray)."""
        rows = read_rows(
            self.database, "SELECT DISTINCT batch FROM dataset_accounts", table="dataset_accounts"
        )
        return {row[0] for row in rows}

    def batch_accounts(self, name: str, batch: str) -> list[str]:
        return [account for account, planned in self.plan(name).items() if planned == batch]

    def export_items(self, name: str, accounts: Sequence[str]) -> list[dict[str, Any]]:
        rows = read_rows(
            self.database,
            "SELECT item FROM export_items WHERE dataset = ? AND list_contains(?, account) "
            "ORDER BY account, item_index",
            [name, list(accounts)],
            table="export_items",
        )
        return [json.loads(row[0]) for row in rows]

    def export_video_counts(self, name: str) -> dict[str, int]:
        """account → the videos imported for it (items with an id: not Apify's error items), for
        saying what an export dataset holds."""
        rows = read_rows(
            self.database,
            "SELECT account, count(*) FILTER (WHERE coalesce(item->>'$.id', '') <> '') "
            "FROM export_items WHERE dataset = ? GROUP BY account ORDER BY account",
            [name],
            table="export_items",
        )
        return dict(rows)


@dataclass(frozen=True)
class RegistryReader(RegistryQueries):
    """The registry, read only."""

    database: str
