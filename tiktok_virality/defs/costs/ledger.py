"""The cost ledger (table `costs`): one row per paid unit of work, with the units as the service
reported them and the dollars, so that a dataset's spend is known to the cent that is on record.

A unit is an Apify actor run (keyed by its run id; recorded again with its final figures if a
retry reuses the run) or a video's Gemini analysis (keyed by the video and what the analysis is:
model, schema version and cost controls, which is what the analysis cache pays for once). A retry
never records a unit twice."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.warehouse.migrations import Migration, StoreSchema
from tiktok_virality.warehouse.storage import read_rows
from tiktok_virality.warehouse.store import Store

COSTS_TABLE = "costs"
COST_LEDGER_SCHEMA = StoreSchema(
    "cost_ledger",
    (
        Migration(
            1,
            """
            CREATE TABLE IF NOT EXISTS costs (
                dataset VARCHAR NOT NULL,
                batch VARCHAR NOT NULL,
                phase VARCHAR NOT NULL,
                service VARCHAR NOT NULL,
                model_or_actor VARCHAR NOT NULL,
                unit_id VARCHAR NOT NULL,
                attempt VARCHAR NOT NULL,
                units JSON NOT NULL,
                usd DOUBLE,
                usd_source VARCHAR NOT NULL,
                recorded_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (service, unit_id, attempt)
            );
            """,
        ),
    ),
)


class Service(StrEnum):
    APIFY = "apify"
    GEMINI = "gemini"


class UsdSource(StrEnum):
    """Whose figure `usd` is: the service's own (Apify's `usageTotalUsd`), or ours from the dated
    price table (Gemini's tokens × `config.GEMINI_PRICES`), or unknown (no price on record)."""

    SERVICE = "service"
    ESTIMATE = "estimate"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CostEntry:
    """One paid unit of work. `attempt` tells units of the same id apart (a video analysed again
    with another model or controls is paid again); `units` are the service's own counts."""

    partition: VideoPartition
    phase: Phase
    service: Service
    model_or_actor: str
    unit_id: str
    usd: float | None
    usd_source: UsdSource
    units: dict[str, Any] = field(default_factory=dict)
    attempt: str = ""


def spent_by_phase(database: str, dataset: str) -> dict[str, float]:
    """The dataset's recorded spend in dollars, by phase (read without Dagster, for `status`)."""
    rows = read_rows(
        database,
        "SELECT phase, sum(coalesce(usd, 0)) FROM costs WHERE dataset = ? GROUP BY phase",
        [dataset],
        table=COSTS_TABLE,
    )
    return {phase: float(usd) for phase, usd in rows}


def describe_spend(by_phase: dict[str, float]) -> str:
    """`$0.1234 (scraping $0.1000, analysis $0.0234)`, or that nothing is on record."""
    if not by_phase:
        return "nothing paid on record"
    phases = ", ".join(f"{phase} ${usd:.4f}" for phase, usd in sorted(by_phase.items()))
    return f"${sum(by_phase.values()):.4f} ({phases})"


def spent(database: str, dataset: str) -> float:
    """The dataset's recorded spend in dollars, every phase."""
    return sum(spent_by_phase(database, dataset).values())


def spend_by_service(database: str, dataset: str) -> dict[str, dict[str, float]]:
    """The paid units and dollars on record for the dataset, by service (for the report)."""
    rows = read_rows(
        database,
        "SELECT service, count(*), sum(coalesce(usd, 0)) FROM costs WHERE dataset = ? "
        "GROUP BY service ORDER BY service",
        [dataset],
        table=COSTS_TABLE,
    )
    return {service: {"units": float(units), "usd": float(usd)} for service, units, usd in rows}


class CostLedger(Store):
    """Every paid unit of work, by dataset and batch."""

    store_schema = COST_LEDGER_SCHEMA
    dataset_tables = (COSTS_TABLE,)

    def record(self, entries: Iterable[CostEntry]) -> None:
        """Record paid units; a unit already on record keeps one row, with the latest figures (an
        Apify run reused by a retry reports its final charges)."""
        rows = [
            [
                entry.partition.dataset,
                entry.partition.batch,
                entry.phase.value,
                entry.service.value,
                entry.model_or_actor,
                entry.unit_id,
                entry.attempt,
                json.dumps(entry.units, sort_keys=True),
                entry.usd,
                entry.usd_source.value,
                datetime.now(UTC),
            ]
            for entry in entries
        ]
        if not rows:
            return
        with self._write() as connection:
            connection.executemany(
                f"INSERT INTO {COSTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (service, unit_id, attempt) DO UPDATE SET units = excluded.units, "
                "usd = excluded.usd, usd_source = excluded.usd_source",
                rows,
            )

    def spent(self, dataset: str) -> float:
        return spent(self.database, dataset)
