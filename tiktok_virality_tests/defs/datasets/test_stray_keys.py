"""A dataset key added in the UI's launch dialog that names no dataset: its partitions are stored as
empty at once, with a log line saying why (never failed, so never red for ever), and `dataset
prune` or `dataset delete` removes such keys."""

from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.cli.partition_status import partition_states
from tiktok_virality.cli.runner import (
    PHASES,
    PlannedRun,
    run_dataset_assets,
    run_partition,
)
from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import BATCH_DIMENSION, DATASET_DIMENSION, VideoPartition
from tiktok_virality.definitions import build_definitions
from tiktok_virality.defs.datasets.operations import create_sample_dataset
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.helpers import query

NOT_A_DATASET = "'typo' is a partition key but not a dataset (a key added in the UI?)"


def keys(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    return {
        dimension: sorted(instance.get_dynamic_partitions(dimension))
        for dimension in (DATASET_DIMENSION, BATCH_DIMENSION)
    }


def logged(instance: dg.DagsterInstance, run_id: str) -> str:
    return "\n".join(entry.user_message for entry in instance.all_logs(run_id))


def test_a_key_added_in_the_ui_is_stored_as_empty_then_pruned(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    settings.dagster_home.mkdir(parents=True)
    resources = build_resources(settings, offline=True)
    migrate(settings.database, STORE_SCHEMAS)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        create_sample_dataset(instance, resources["registry"], "demo")
        # What the UI's "add partition" does in the launch dialog.
        instance.add_dynamic_partitions(DATASET_DIMENSION, ["typo"])
        instance.add_dynamic_partitions(BATCH_DIMENSION, ["b009"])
        defs = build_definitions(resources)

        batch = run_partition(instance, defs, PlannedRun(VideoPartition("typo", "b001"), PHASES))
        model = run_dataset_assets(instance, defs, "typo")

        assert batch.success and batch.rows == {phase: 0 for phase in PHASES}
        assert NOT_A_DATASET in logged(instance, batch.run_id)
        [state] = partition_states(instance, [VideoPartition("typo", "b001")])
        assert state.done
        assert model.success and model.metadata["not_a_dataset"] is True
    assert query(data_dir, "SELECT count(*) FROM errors WHERE dataset = 'typo'") == [(0,)]
    assert query(data_dir, "SELECT count(*) FROM model_runs") == [(0,)]
    assert not (data_dir / "reports" / "typo.html").exists()
    capsys.readouterr()

    assert main(["dataset", "prune", "--yes"]) == 0

    printed = capsys.readouterr().out
    assert "dataset keys: typo" in printed and "batch keys: b009" in printed
    assert "Dagster runs of their partitions: 2" in printed
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert keys(instance) == {"dataset": ["demo"], "batch": ["b001", "b002"]}
        assert len(instance.get_run_records()) == 0
    assert main(["dataset", "prune", "--yes"]) == 0
    assert "nothing to prune" in capsys.readouterr().out


def test_delete_of_a_name_that_is_only_a_key_removes_the_key(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "create", "--dataset", "real", "alice"]) == 0
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        instance.add_dynamic_partitions(DATASET_DIMENSION, ["stray"])
    capsys.readouterr()

    assert main(["dataset", "delete", "--dataset", "stray", "--yes"]) == 0

    assert "dataset keys: stray" in capsys.readouterr().out
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        assert keys(instance) == {"dataset": ["real"], "batch": ["b001"]}
    assert query(data_dir, "SELECT dataset FROM datasets") == [("real",)]
