"""The work of `tiktok-virality run` once its dataset is ready: plan what is not done, run it with
the live display, sum it up, and make the dataset's model and report when the graph's declared
automation requests them (or they are missing). Every line goes to the terminal and the run log."""

import argparse
import logging
import time
from collections import Counter

import dagster as dg
from rich import box
from rich.console import Console

from tiktok_virality.cli.automation import automation_baseline, datasets_requested_since
from tiktok_virality.cli.describe import (
    count,
    describe_left_out,
    describe_model,
)
from tiktok_virality.cli.errors import EXIT_FAILED_PARTITIONS, EXIT_INTERRUPTED
from tiktok_virality.cli.parallel_runs import ParallelRuns, record_outcome, run_in_parallel
from tiktok_virality.cli.partition_status import partition_states
from tiktok_virality.cli.progress import RunProgress, render_plain, summary_table
from tiktok_virality.cli.retry_hints import credential_to_fix
from tiktok_virality.cli.run_log import log_line, say
from tiktok_virality.cli.runner import (
    PartitionsRun,
    Phase,
    PlannedRun,
    RunPlan,
    dataset_model_missing,
    fail_abandoned_runs,
    limit_actor_runs,
    plan_runs,
    run_dataset_assets,
    run_partition,
)
from tiktok_virality.cli.session import Session
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.datasets.dataset import Dataset, DatasetSource
from tiktok_virality.defs.scraping.quality_rules import nothing_kept_hint
from tiktok_virality.warehouse.queries import stored_video_count


def run_partitions(session: Session, dataset: Dataset, args: argparse.Namespace) -> int:
    _announce_abandoned_runs(session)
    plan = _plan_and_announce(session, dataset, args)
    # Nothing to run, nothing that could make the declared automation request the model.
    baseline = automation_baseline(session.instance, session.defs) if plan.runs else None
    ran = _run_with_progress(session, dataset, plan, args)
    if ran.interrupted:
        say(
            f"interrupted: {count(sum(not o.interrupted for o in ran.outcomes), 'partition')} "
            "finished before; run the same "
            f"command again to resume: tiktok-virality run --dataset {dataset.name}"
            f"{' --offline' if args.offline else ''}",
            logging.WARNING,
        )
        return EXIT_INTERRUPTED
    _announce_stored(session, dataset, ran)
    model_failed = _model_wanted(session, dataset, plan, baseline) and not _make_model(
        session, dataset
    )
    _announce_failures(dataset, plan, ran, args)
    return EXIT_FAILED_PARTITIONS if ran.failed or model_failed else 0


def _announce_abandoned_runs(session: Session) -> None:
    abandoned = fail_abandoned_runs(session.instance)
    if abandoned:
        say(
            f"{count(len(abandoned), 'earlier run')} stopped without finishing (killed?): "
            "recorded as interrupted; their partitions are resumed",
            logging.WARNING,
        )


def _plan_and_announce(session: Session, dataset: Dataset, args: argparse.Namespace) -> RunPlan:
    retry_phase = Phase(args.retry_phase) if args.retry_phase else None
    partitions = [
        VideoPartition(dataset.name, batch) for batch in session.registry.batches(dataset.name)
    ]
    plan = plan_runs(
        partition_states(session.instance, partitions),
        retry_failed=args.retry_failed or retry_phase is not None,
        retry_phase=retry_phase,
    )
    say(
        f"{dataset.name}: {count(len(partitions), 'partition')}, {len(plan.already_done)} done, "
        f"{len(plan.runs)} to run"
        + (
            f", {len(plan.failed_not_retried)} failed (not retried)"
            if plan.failed_not_retried
            else ""
        )
        + (f", {len(plan.in_progress)} in progress elsewhere" if plan.in_progress else "")
    )
    return plan


def _run_with_progress(
    session: Session, dataset: Dataset, plan: RunPlan, args: argparse.Namespace
) -> PartitionsRun:
    """The planned runs, one after the other or side by side (`--parallel`), under the live
    display, then its summary table."""
    started = time.monotonic()
    progress = RunProgress(plan.runs, Console())
    ran = PartitionsRun()
    limit_actor_runs(session.instance, session.settings.apify_max_concurrent_runs)
    with progress.shown():
        if args.parallel > 1 and len(plan.runs) > 1:
            runs = ParallelRuns(
                dataset,
                plan.runs,
                offline=args.offline,
                parallel=args.parallel,
                actor_runs=session.settings.apify_max_concurrent_runs,
                potential=lambda planned: batch_potential(session, planned),
                stored=lambda: stored_video_count(session.settings.database, dataset.name),
            )
            run_in_parallel(runs, progress, ran, len(plan.runs))
        else:
            try:
                _run_planned(session, dataset, plan, progress, ran)
            except KeyboardInterrupt:
                # Between two partitions: Dagster handles Ctrl-C itself while a partition runs.
                ran.interrupted = True
    seconds = time.monotonic() - started
    if progress.tallies:
        Console().print(summary_table(progress.tallies, seconds))
        log_line("\n" + render_plain(summary_table(progress.tallies, seconds, box=box.ASCII)))
    return ran


def batch_potential(session: Session, planned: PlannedRun) -> int:
    """The most videos the batch's scrape may add: its accounts times the videos per account,
    and for an export's batch no more than the export holds for them (its items with a video id;
    the others are errors, such as an account that does not exist)."""
    registry = session.registry
    dataset = registry.require(planned.partition.dataset)
    accounts = registry.batch_accounts(dataset.name, planned.partition.batch)
    most = len(accounts) * dataset.limits.videos_per_account
    if dataset.source is DatasetSource.EXPORT:
        return min(
            most, sum("id" in item for item in registry.export_items(dataset.name, accounts))
        )
    return most


def _run_planned(
    session: Session,
    dataset: Dataset,
    plan: RunPlan,
    progress: RunProgress,
    ran: PartitionsRun,
) -> None:
    """Run each planned partition into `ran`, until one is interrupted."""
    for planned in plan.runs:
        stored = stored_video_count(session.settings.database, dataset.name)
        if stored >= dataset.limits.max_total_videos and Phase.SCRAPING in planned.phases:
            ran.left_unscraped.append(planned.partition)
            continue
        progress.running(planned.partition)
        outcome = run_partition(session.instance, session.defs, planned)
        record_outcome(ran, progress, outcome, len(plan.runs))
        if outcome.interrupted:
            return


def _announce_stored(session: Session, dataset: Dataset, ran: PartitionsRun) -> None:
    say(
        f"{count(len(ran.outcomes) - len(ran.failed), 'partition')} materialized, "
        f"{len(ran.failed)} failed; tables in {session.settings.database}"
    )
    rejected = sum((Counter(outcome.rejected_by_rule) for outcome in ran.outcomes), Counter())
    if rejected:
        say(describe_left_out(rejected, dataset))
        if not any(outcome.rows.get(Phase.SCRAPING) for outcome in ran.outcomes):
            say(nothing_kept_hint(rejected), logging.WARNING)
    if ran.left_unscraped:
        say(
            f"not scraped: {', '.join(map(str, ran.left_unscraped))}: {dataset.name!r} holds its "
            f"max total videos ({dataset.limits.max_total_videos}); raise --max-total-videos to "
            "go on",
            logging.WARNING,
        )


def _model_wanted(
    session: Session,
    dataset: Dataset,
    plan: RunPlan,
    baseline: dg.EvaluateAutomationConditionsResult | None,
) -> bool:
    """Whether to make the dataset's model and report: when the declared automation requests them
    after this run's partitions, or, like any unmaterialized partition, when they are missing (never
    made, or their last run failed) though batches are done."""
    if baseline is not None and dataset.name in datasets_requested_since(
        session.instance, session.defs, baseline
    ):
        return True
    return bool(plan.already_done) and dataset_model_missing(session.instance, dataset.name)


def _make_model(session: Session, dataset: Dataset) -> bool:
    """Train the dataset's model and write its report; whether that succeeded."""
    model = run_dataset_assets(session.instance, session.defs, dataset.name)
    say(describe_model(model), logging.INFO if model.success else logging.ERROR)
    return model.success


def _announce_failures(
    dataset: Dataset,
    plan: RunPlan,
    ran: PartitionsRun,
    args: argparse.Namespace,
) -> None:
    failed = ran.failed + plan.failed_not_retried
    if failed:
        say(f"failed: {', '.join(map(str, failed))}", logging.WARNING)
        to_fix = {credential_to_fix(o.error or "") for o in ran.outcomes if not o.success}
        for credential in sorted(to_fix - {None}):
            say(f"set or correct {credential} (environment or .env) first")
        say(
            f"retry them with: tiktok-virality run --dataset {dataset.name} "
            f"--retry-failed{' --offline' if args.offline else ''}"
        )
