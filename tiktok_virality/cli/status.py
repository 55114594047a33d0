"""Where a dataset stands: the original pipeline's `source.txt` (processed accounts) and
`errors.txt` (errors by account and phase), read from Dagster's partition status and DuckDB."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from tiktok_virality.cli.describe import (
    describe_budget,
    describe_origin,
    describe_quality,
    describe_scores,
)
from tiktok_virality.cli.partition_status import (
    LastRun,
    PartitionState,
    last_run,
    partition_states,
)
from tiktok_virality.cli.retry_hints import retry_hint
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import PHASES
from tiktok_virality.defs.costs.ledger import describe_spend, spent_by_phase
from tiktok_virality.defs.datasets.dataset import Dataset, DatasetSource
from tiktok_virality.defs.datasets.error_log import DatasetError, ErrorLog
from tiktok_virality.defs.datasets.registry_tables import RegistryQueries
from tiktok_virality.defs.scraping.quality_rules import QualityRule, describe_rejections
from tiktok_virality.defs.tracking.tables import describe_tracking, tracking_summary
from tiktok_virality.warehouse.queries import (
    analysis_provenance,
    model_summary,
    rejections_by_reason,
    row_counts,
)
from tiktok_virality.warehouse.tables import ASSET_TABLES

STATUS_NAMES = {
    dg.AssetPartitionStatus.MATERIALIZED: "materialized",
    dg.AssetPartitionStatus.FAILED: "failed",
    dg.AssetPartitionStatus.IN_PROGRESS: "in_progress",
    None: "missing",
}


@dataclass(frozen=True)
class DatasetStatus:
    dataset: str
    settings: dict[str, Any]
    partitions_by_phase: dict[str, dict[str, int]]
    processed_accounts: list[str]
    pending_accounts: list[str]
    failed_partitions: list[str]
    interrupted_partitions: list[str]
    errors: list[DatasetError]
    rows: dict[str, int]
    analyses_by: list[dict[str, Any]]
    # The latest run of any of its partitions, the UI's and backfills' too (`LastRun`).
    last_run: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    # Per quality rule, the videos it rejected, and the same in words, most first.
    rejections: dict[str, int] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    # Dollars on record in the cost ledger, by phase.
    spend: dict[str, float] = field(default_factory=dict)
    # Its cadence, history kept and outlier alerts (defs/tracking/tables.py).
    tracking: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize(
    dataset: Dataset,
    plan: dict[str, str],
    states: Sequence[PartitionState],
    errors: list[DatasetError],
    rows: dict[str, int],
    provenance: Sequence[tuple[str, str | None, str, int]] = (),
    model: dict[str, Any] | None = None,
    latest_run: LastRun | None = None,
    rejections: dict[str, int] | None = None,
    spend: dict[str, float] | None = None,
    tracking: dict[str, Any] | None = None,
) -> DatasetStatus:
    """Pure: what the partition states, the plan (account → batch) and the errors say. Only the
    dataset's own batches count: the grid's phantom pairs are not part of it."""
    done_batches = {state.partition.batch for state in states if state.done}
    by_phase = {
        phase.value: {
            name: Counter(STATUS_NAMES[state.statuses[phase]] for state in states)[name]
            for name in STATUS_NAMES.values()
        }
        for phase in PHASES
    }
    return DatasetStatus(
        dataset=dataset.name,
        settings={
            "source": dataset.source.value,
            "kind": dataset.kind,
            "origin": dataset.origin,
            "batch_size": dataset.batch_size,
            "batch_videos": dataset.batch_videos,
            "export_scraped_at": (
                dataset.export_scraped_at.isoformat() if dataset.export_scraped_at else None
            ),
            "export_scraped_at_basis": dataset.export_scraped_at_basis,
            "videos_per_account": dataset.limits.videos_per_account,
            "max_total_videos": dataset.limits.max_total_videos,
            "min_views": dataset.thresholds.min_views,
            "max_age_days": dataset.thresholds.max_age_days,
            "max_cost_usd": dataset.limits.max_cost_usd,
            "created_at": dataset.created_at.isoformat(),
            "updated_at": dataset.updated_at.isoformat(),
        },
        partitions_by_phase=by_phase,
        processed_accounts=[account for account, batch in plan.items() if batch in done_batches],
        pending_accounts=[account for account, batch in plan.items() if batch not in done_batches],
        failed_partitions=[
            str(state.partition) for state in states if state.failed_phase and not state.interrupted
        ],
        interrupted_partitions=[str(state.partition) for state in states if state.interrupted],
        errors=errors,
        rows=rows,
        analyses_by=[
            {"analyzer": analyzer, "model": model, "schema_version": version, "videos": count}
            for analyzer, model, version, count in provenance
        ],
        last_run=None
        if latest_run is None
        else {**asdict(latest_run), "launched_at": latest_run.launched_at.isoformat()},
        model=model and {**model, "trained_at": model["trained_at"].isoformat()},
        rejections=rejections or {},
        left_out=describe_rejections(
            {QualityRule(rule): n for rule, n in (rejections or {}).items()},
            dataset.thresholds,
            dataset.export_scraped_at,
        ),
        spend=spend or {},
        tracking=tracking,
    )


def dataset_status(
    dataset: Dataset, registry: RegistryQueries, error_log: ErrorLog, instance: dg.DagsterInstance
) -> DatasetStatus:
    name = dataset.name
    partitions = [VideoPartition(name, batch) for batch in registry.batches(name)]
    return summarize(
        dataset,
        registry.plan(name),
        partition_states(instance, partitions),
        error_log.errors(name),
        row_counts(registry.database, name, [table.name for table in ASSET_TABLES]),
        analysis_provenance(registry.database, name),
        model_summary(registry.database, name),
        last_run(instance, name),
        rejections_by_reason(registry.database, name),
        spent_by_phase(registry.database, name),
        tracking_summary(registry.database, name),
    )


def write_tracking_files(status: DatasetStatus, directory: Path) -> list[Path]:
    """The original pipeline's files, for people who still read them: `source.txt`, the processed
    accounts one per line, and `errors.txt`, one error per line (batch, account, phase, error)."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "source.txt"
    errors = directory / "errors.txt"
    source.write_text("".join(f"{account}\n" for account in status.processed_accounts), "utf-8")
    errors.write_text(
        "".join(
            f"{e.batch}\t{e.account or '-'}\t{e.phase}\t{' '.join(e.error.split())}\n"
            for e in status.errors
        ),
        "utf-8",
    )
    return [source, errors]


def render(status: DatasetStatus) -> str:
    settings = status.settings
    lines = [
        f"dataset {status.dataset}: {describe_origin(settings['kind'], settings['origin'])}",
        f"  {_describe_settings(settings)}",
        f"  created {settings['created_at'][:16]}, last run {_describe_last_run(status.last_run)}",
        "",
        f"  {'phase':<10} {'done':>6} {'failed':>7} {'running':>8} {'missing':>8}",
    ]
    for phase, counts in status.partitions_by_phase.items():
        lines.append(
            f"  {phase:<10} {counts['materialized']:>6} {counts['failed']:>7} "
            f"{counts['in_progress']:>8} {counts['missing']:>8}"
        )
    rows = status.rows
    lines += [
        "",
        f"  videos: {rows['raw_videos'] + rows['rejected_videos']} scraped, "
        f"{rows['rejected_videos']} rejected by quality control, {rows['video_analyses']} "
        f"analysed, {rows['video_features']} with features",
        *(
            [f"  left out by quality control: {'; '.join(status.left_out)}"]
            if status.left_out
            else []
        ),
        f"  accounts: {len(status.processed_accounts)} processed, "
        f"{len(status.pending_accounts)} not yet",
    ]
    lines += [
        f"  analyses: {a['videos']} by {a['analyzer']}"
        + (f" ({a['model']})" if a["model"] else "")
        + f", schema version {a['schema_version']}"
        for a in status.analyses_by
    ]
    lines.append(f"  model: {_describe_model(status.model)}")
    lines.append(f"  spend: {describe_spend(status.spend)}")
    if status.tracking:
        lines += describe_tracking(status.tracking)
    if status.failed_partitions:
        lines.append(f"  failed partitions: {', '.join(status.failed_partitions)}")
    if status.interrupted_partitions:
        lines.append(
            f"  interrupted partitions (the next run resumes them): "
            f"{', '.join(status.interrupted_partitions)}"
        )
    if status.errors:
        lines += ["", "  errors (batch, account, phase: error):"]
        lines += [
            f"  {e.batch} {e.account or '-'} {e.phase}: {e.error}"
            + ("" if e.permanent else f"  {retry_hint(e.error)}")
            for e in status.errors
        ]
    return "\n".join(lines)


def _describe_settings(settings: dict[str, Any]) -> str:
    """The settings that matter: an export holds the videos it was imported with, so its scrape
    limits (set to keep them all) would only puzzle; when they were scraped matters instead."""
    quality = describe_quality(settings["min_views"], settings["max_age_days"])
    quality += describe_budget(settings["max_cost_usd"])
    if settings["source"] == DatasetSource.ACCOUNTS:
        return (
            f"batch size {settings['batch_size']}, {settings['videos_per_account']} videos per "
            f"account, at most {settings['max_total_videos']}; {quality}"
        )
    scraped = (settings["export_scraped_at"] or "at an unknown time")[:16]
    return f"videos scraped {scraped}; {_batches(settings)}; {quality}"


def _describe_last_run(run: dict[str, Any] | None) -> str:
    if run is None:
        return "never"
    return f"{run['launched_at'][:16]} ({run['status']}, launched by {run['launched_by']})"


def _batches(settings: dict[str, Any]) -> str:
    if settings["batch_videos"]:
        return f"batches of up to {settings['batch_videos']} videos"
    return f"batch size {settings['batch_size']}"


def _describe_model(model: dict[str, Any] | None) -> str:
    if model is None:
        return "not trained yet"
    trained = f"trained {model['trained_at'][:16]}"
    if not model["evaluated"]:
        return f"{trained}, not evaluated: {model['reason']}"
    return f"{trained}, {describe_scores(model)}"
