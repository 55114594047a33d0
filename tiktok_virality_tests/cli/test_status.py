"""`status` reads the dataset's last run from the Dagster instance, so that it sees the runs the
CLI did not launch: the UI's, a backfill's, a schedule's."""

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.cli.partition_status import launched_by
from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.definitions import DATASET_JOB, VIDEO_PIPELINE_JOB, build_definitions
from tiktok_virality.defs.datasets.operations import create_sample_dataset
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate


@pytest.mark.parametrize(
    ("tags", "launcher"),
    [
        ({"tiktok_virality/launched_by": "cli", "dagster/partition": "demo"}, "cli"),
        ({"dagster/backfill": "abcdefgh"}, "backfill"),
        ({"dagster/schedule_name": "nightly", "dagster/tick": "1"}, "schedule"),
        ({"dagster/sensor_name": "new_exports"}, "sensor"),
        (
            {"dagster/sensor_name": "default_automation_condition_sensor"}
            | {"dagster/from_automation_condition": "true"},
            "automation",
        ),
        ({"dagster/partition": "demo"}, "ui"),
    ],
)
def test_who_launched_a_run_is_told_by_its_tags(tags: dict[str, str], launcher: str) -> None:
    assert launched_by(tags) == launcher


def status_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["status", "--dataset", "demo", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow  # whole runs (8-15 s): `pytest -m slow`
def test_status_lists_runs_launched_outside_the_cli_as_the_last_run(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    settings.dagster_home.mkdir(parents=True)
    resources = build_resources(settings, offline=True)
    migrate(settings.database, STORE_SCHEMAS)
    defs = build_definitions(resources)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        create_sample_dataset(instance, resources["registry"], "demo")
        assert status_json(capsys)["last_run"] is None

        # As the UI's launchpad or a script runs a partition: no tag of the CLI's.
        batch_run = defs.resolve_job_def(VIDEO_PIPELINE_JOB).execute_in_process(
            instance=instance, partition_key=str(VideoPartition("demo", "b001").key)
        )
        after_batch = status_json(capsys)["last_run"]
        # The dataset's model and report, partitioned by the dataset alone, by a backfill.
        model_run = defs.resolve_job_def(DATASET_JOB).execute_in_process(
            instance=instance,
            partition_key="demo",
            tags={"dagster/backfill": "abcdefgh"},
            raise_on_error=False,
        )

    assert batch_run.success
    assert after_batch["run_id"] == batch_run.run_id
    assert (after_batch["status"], after_batch["launched_by"]) == ("success", "ui")
    last = status_json(capsys)["last_run"]
    assert last["run_id"] == model_run.run_id
    assert last["launched_by"] == "backfill"
    assert last["status"] == ("success" if model_run.success else "failure")
    assert main(["status", "--dataset", "demo"]) == 0
    assert f"last run {last['launched_at'][:16]} ({last['status']}, launched by backfill)" in (
        capsys.readouterr().out
    )
