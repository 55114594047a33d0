"""A backfill of the failed partitions, launched as the Dagster UI launches it (GraphQL, on the code
location of `workspace.yaml`) and run by the backfill daemon's loop: it re-runs exactly the failed
partitions, and the CLI then sees them done."""

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.workspace.context import WorkspaceProcessContext, WorkspaceRequestContext
from dagster._daemon.backfill import execute_backfill_iteration
from dagster_graphql.client.query import LAUNCH_PARTITION_BACKFILL_MUTATION
from dagster_graphql.test.utils import define_out_of_process_workspace, execute_dagster_graphql

from tiktok_virality.cli.main import main
from tiktok_virality.cli.partition_status import PARTITION_TAG, PHASE_SELECTION, partition_states
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.datasets.dataset import ScrapeLimits
from tiktok_virality.defs.datasets.operations import create_sample_dataset
from tiktok_virality.defs.datasets.registry import REGISTRY_SCHEMA, DatasetRegistry
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality.warehouse.queries import row_counts

WORKSPACE = Path(__file__).resolve().parents[1] / "workspace.yaml"
# The runs a backfill requests are launched at once (no run queue daemon) and execute in this process
# (no run workers), so each daemon iteration finishes its runs.
SYNC_LAUNCHER = """
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
run_launcher:
  module: dagster._core.launcher.sync_in_memory_run_launcher
  class: SyncInMemoryRunLauncher
"""


@pytest.fixture
def workspace(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkspaceProcessContext]:
    # The runs execute in this process, from the definitions module; imported by an earlier test,
    # it would still hold that test's settings (its `defs` are built on import).
    monkeypatch.delitem(sys.modules, "tiktok_virality.definitions", raising=False)
    (data_dir / "dagster_home").mkdir(parents=True)
    (data_dir / "dagster_home" / "dagster.yaml").write_text(SYNC_LAUNCHER, encoding="utf-8")
    with (
        dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance,
        define_out_of_process_workspace(str(WORKSPACE), None, instance) as context,
    ):
        yield context


def failed_partitions(
    instance: dg.DagsterInstance, registry: DatasetRegistry, dataset: str
) -> list[VideoPartition]:
    partitions = [VideoPartition(dataset, batch) for batch in registry.batches(dataset)]
    return [
        state.partition
        for state in partition_states(instance, partitions)
        if state.failed_phase is not None
    ]


def partition_run_counts(instance: dg.DagsterInstance) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in instance.get_run_records():
        key = record.dagster_run.tags[PARTITION_TAG]
        counts[key] = counts.get(key, 0) + 1
    return counts


def launch_backfill(context: WorkspaceProcessContext, partitions: list[VideoPartition]) -> str:
    """What the UI sends for "Materialize" of every asset, with the failed partitions selected."""
    request = WorkspaceRequestContext(
        instance=context.instance,
        current_workspace=context.get_current_workspace(),
        process_context=context,
        version=context.version,
        source=None,
        read_only=False,
    )
    asset_keys = {key for keys in PHASE_SELECTION.values() for key in keys}
    result = execute_dagster_graphql(
        request,
        LAUNCH_PARTITION_BACKFILL_MUTATION,
        variables={
            "backfillParams": {
                "assetSelection": [{"path": key.path} for key in sorted(asset_keys)],
                "partitionNames": [str(partition.key) for partition in partitions],
            }
        },
    )
    launched = result.data["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def run_backfill_daemon(context: WorkspaceProcessContext, backfill_id: str) -> BulkActionStatus:
    """The daemon's iterations, until the backfill is no longer requesting runs."""
    for _ in range(10):
        list(execute_backfill_iteration(context, logging.getLogger("backfill")))
        backfill = context.instance.get_backfill(backfill_id)
        assert backfill is not None
        if backfill.status is not BulkActionStatus.REQUESTED:
            return backfill.status
    raise AssertionError("the backfill did not finish in 10 daemon iterations")


def set_max_total_videos(registry: DatasetRegistry, dataset: str, videos: int) -> None:
    """What `run --max-total-videos N` stores before it runs anything."""
    settings = registry.require(dataset)
    registry.update_settings(
        dataset, limits=ScrapeLimits(max_total_videos=videos), thresholds=settings.thresholds
    )


@pytest.mark.slow  # whole runs (8-15 s): `pytest -m slow`
def test_a_backfill_of_the_failed_partitions_reruns_exactly_those(
    data_dir: Path, workspace: WorkspaceProcessContext, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = workspace.instance
    database = data_dir / "tiktok_virality.duckdb"
    migrate(database, [REGISTRY_SCHEMA])
    registry = DatasetRegistry(database=str(database))
    create_sample_dataset(instance, registry, "demo", batch_size=3)
    # Room for one video: the first batch scraped takes it, the other two fail their scrape.
    set_max_total_videos(registry, "demo", 1)
    everything = [VideoPartition("demo", batch) for batch in registry.batches("demo")]
    assert len(everything) == 3

    assert run_backfill_daemon(workspace, launch_backfill(workspace, everything)) is (
        BulkActionStatus.COMPLETED_FAILED
    )
    failed = failed_partitions(instance, registry, "demo")
    assert len(failed) == 2
    (succeeded,) = set(everything) - set(failed)
    assert main(["status", "--dataset", "demo"]) == 0
    status = capsys.readouterr().out
    for partition in failed:
        assert f"{partition}" in status
    assert "holds its max total videos" in status

    set_max_total_videos(registry, "demo", 500)
    runs_before = partition_run_counts(instance)
    assert run_backfill_daemon(workspace, launch_backfill(workspace, failed)) is (
        BulkActionStatus.COMPLETED_SUCCESS
    )

    runs_after = partition_run_counts(instance)
    rerun = {key for key in runs_after if runs_after[key] > runs_before.get(key, 0)}
    assert rerun == {str(partition.key) for partition in failed}
    assert failed_partitions(instance, registry, "demo") == []
    assert all(state.done for state in partition_states(instance, everything))
    assert row_counts(database, "demo", ["raw_videos"])["raw_videos"] > 1
    assert str(succeeded.key) not in rerun

    assert main(["run", "--dataset", "demo", "--offline"]) == 0
    assert "3 partitions, 3 done, 0 to run" in capsys.readouterr().out
