"""The model's declared automation (`defs/model/automation.py`), evaluated as the automation
sensor and the CLI evaluate it: a batch that got new features requests its dataset's model and
report, and nothing else does."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.cli.automation import DATASET_ASSETS
from tiktok_virality.cli.runner import PHASES, PlannedRun, run_dataset_assets, run_partition
from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.definitions import DATASET_ASSET_KEYS, build_definitions
from tiktok_virality.defs.datasets.operations import create_sample_dataset
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def defs(data_dir: Path, instance: dg.DagsterInstance) -> dg.Definitions:
    """The offline graph, with `demo` (2 batches) and `other` (3): so `demo`'s model depends on
    the phantom pair b003 × demo, which stays unmaterialized."""
    settings = load_settings()
    resources = build_resources(settings, offline=True)
    migrate(settings.database, STORE_SCHEMAS)
    create_sample_dataset(instance, resources["registry"], "demo")
    create_sample_dataset(instance, resources["registry"], "other", batch_size=3)
    return build_definitions(resources)


def evaluate(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    previous: dg.EvaluateAutomationConditionsResult | None = None,
) -> dg.EvaluateAutomationConditionsResult:
    return dg.evaluate_automation_conditions(
        defs=defs,
        instance=instance,
        asset_selection=DATASET_ASSETS,
        cursor=previous.cursor if previous else None,
    )


def requested(result: dg.EvaluateAutomationConditionsResult) -> dict[str, set[str | None]]:
    return {
        key.to_user_string(): set(result.get_requested_partitions(key))
        for key in DATASET_ASSET_KEYS
    }


def test_every_model_table_and_the_report_declare_the_condition(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()

    labels = {graph.get(key).automation_condition.get_label() for key in DATASET_ASSET_KEYS}

    assert labels == {"after_new_features"}


def test_a_batch_with_new_features_requests_its_datasets_model_and_report(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    baseline = evaluate(defs, instance)
    run_partition(instance, defs, PlannedRun(VideoPartition("demo", "b001"), PHASES))

    after = evaluate(defs, instance, baseline)

    assert baseline.total_requested == 0
    assert requested(after) == {key.to_user_string(): {"demo"} for key in DATASET_ASSET_KEYS}
    # Requested once: the next evaluation counts it as handled.
    assert evaluate(defs, instance, after).total_requested == 0


def test_nothing_is_requested_when_nothing_changed(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    baseline = evaluate(defs, instance)

    assert evaluate(defs, instance, baseline).total_requested == 0


@pytest.mark.slow  # whole runs (8-15 s): `pytest -m slow`
def test_a_scrape_without_features_and_a_model_run_request_nothing(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    run_partition(instance, defs, PlannedRun(VideoPartition("demo", "b001"), PHASES))
    baseline = evaluate(defs, instance)

    scraped = run_partition(
        instance, defs, PlannedRun(VideoPartition("demo", "b002"), (Phase.SCRAPING,))
    )
    after_scrape = evaluate(defs, instance, baseline)
    model = run_dataset_assets(instance, defs, "demo")
    after_model = evaluate(defs, instance, after_scrape)

    assert scraped.success and model.success
    assert after_scrape.total_requested == 0
    # The report ran with the model: its update of the model's tables is not new to it.
    assert after_model.total_requested == 0
