from datetime import UTC, datetime
from pathlib import Path

import pytest

from tiktok_virality.core.naming import InvalidNameError
from tiktok_virality.defs.datasets.dataset import (
    DatasetSource,
    ExportContent,
    InvalidSettingError,
    PlannedAccount,
    ScrapeLimits,
    ScrapeTimeBasis,
    plan_accounts_by_volume,
    plan_new_accounts,
)
from tiktok_virality.defs.datasets.registry import (
    REGISTRY_SCHEMA,
    DatasetExistsError,
    DatasetRegistry,
)
from tiktok_virality.warehouse.migrations import migrate


@pytest.fixture
def registry(tmp_path: Path) -> DatasetRegistry:
    database = tmp_path / "registry.duckdb"
    migrate(database, [REGISTRY_SCHEMA])
    return DatasetRegistry(database=str(database))


def test_new_accounts_are_chunked_into_new_batches() -> None:
    assert plan_new_accounts({}, ["a", "b", "c", "d", "e"], 2) == [
        PlannedAccount("a", "b001"),
        PlannedAccount("b", "b001"),
        PlannedAccount("c", "b002"),
        PlannedAccount("d", "b002"),
        PlannedAccount("e", "b003"),
    ]


def test_planned_accounts_never_move_and_new_ones_start_a_new_batch() -> None:
    planned = {"a": "b001", "b": "b001", "c": "b002"}

    added = plan_new_accounts(planned, ["c", "a", "x", "y", "z"], 2)

    assert added == [
        PlannedAccount("x", "b003"),
        PlannedAccount("y", "b003"),
        PlannedAccount("z", "b004"),
    ]


@pytest.mark.parametrize("batch_size", [0, 11, -1])
def test_batch_size_out_of_range_is_refused(batch_size: int) -> None:
    with pytest.raises(InvalidSettingError, match="between 1 and 10"):
        plan_new_accounts({}, ["a"], batch_size)


def test_export_batches_hold_whole_accounts_up_to_a_number_of_videos() -> None:
    videos = {"a": 2, "b": 1, "c": 2, "big": 7, "d": 1, "e": 1}

    plan = plan_accounts_by_volume({}, videos, 4)

    assert [(entry.account, entry.batch) for entry in plan] == [
        ("a", "b001"),
        ("b", "b001"),
        ("c", "b002"),  # 3 + 2 > 4: a new batch, never half an account
        ("big", "b003"),  # more than 4 videos: a batch of its own
        ("d", "b004"),
        ("e", "b004"),
    ]


def test_a_volume_plan_never_moves_planned_accounts() -> None:
    assert plan_accounts_by_volume({"a": "b001", "b": "b002"}, {"a": 3, "c": 1, "b": 1}, 4) == [
        PlannedAccount("c", "b003")
    ]
    with pytest.raises(InvalidSettingError, match="videos per batch"):
        plan_accounts_by_volume({}, {"a": 1}, 0)


def test_an_export_dataset_planned_by_volume_keeps_its_rule_and_scrape_time(
    registry: DatasetRegistry,
) -> None:
    items = {"a": [{"id": "1"}, {"id": "2"}], "b": [{"id": "3"}], "c": [{"id": "4"}]}
    scraped_at = datetime(2022, 7, 27, 14, 3, tzinfo=UTC)
    export = ExportContent(items, scraped_at, ScrapeTimeBasis.FILE_NAME)

    registry.add_accounts("v1", list(items), export=export, batch_videos=3)

    assert registry.plan("v1") == {"a": "b001", "b": "b001", "c": "b002"}
    dataset = registry.require("v1")
    assert (dataset.batch_videos, dataset.export_scraped_at) == (3, scraped_at)
    assert dataset.export_scraped_at_basis is ScrapeTimeBasis.FILE_NAME


def test_the_plan_is_pinned_across_batch_sizes(registry: DatasetRegistry) -> None:
    registry.add_accounts("v1", ["a", "b", "c", "d", "e"], batch_size=5)
    first_plan = registry.plan("v1")

    registry.add_accounts("v1", ["a", "b", "c", "d", "e", "f", "g", "h"], batch_size=2)

    plan = registry.plan("v1")
    assert {account: plan[account] for account in first_plan} == first_plan
    assert first_plan == dict.fromkeys("abcde", "b001")
    assert plan["f"] == plan["g"] == "b002" and plan["h"] == "b003"
    assert registry.batches("v1") == ["b001", "b002", "b003"]
    assert registry.batch_accounts("v1", "b002") == ["f", "g"]


def test_dataset_settings_are_stored(registry: DatasetRegistry) -> None:
    now = datetime(2025, 7, 8, 10, 55, tzinfo=UTC)
    registry.add_accounts("v1", ["a"], batch_size=3, limits=ScrapeLimits(10, 300), now=now)

    dataset = registry.require("v1")

    assert (dataset.source, dataset.batch_size, dataset.limits) == (
        DatasetSource.ACCOUNTS,
        3,
        ScrapeLimits(10, 300),
    )
    assert dataset.created_at == now and dataset.export_scraped_at is None


def test_an_invalid_dataset_name_writes_nothing(registry: DatasetRegistry) -> None:
    with pytest.raises(InvalidNameError):
        registry.add_accounts("Bad|Name", ["a"])

    assert registry.list_datasets() == []


def test_an_export_dataset_is_never_extended(registry: DatasetRegistry) -> None:
    export = ExportContent({"a": [{"id": "1"}]}, scraped_at=datetime(2025, 7, 8, tzinfo=UTC))
    registry.add_accounts("v1", ["a"], export=export)

    with pytest.raises(DatasetExistsError, match="import into a new dataset"):
        registry.add_accounts("v1", ["b"])

    assert registry.plan("v1") == {"a": "b001"}


def test_a_failing_addition_rolls_back_the_whole_transaction(registry: DatasetRegistry) -> None:
    # The dataset and its plan are written before the items, which cannot be stored as JSON.
    export = ExportContent({"a": [{"id": {"not", "json"}}]}, scraped_at=datetime.now(UTC))

    with pytest.raises(TypeError, match="not JSON serializable"):
        registry.add_accounts("v1", ["a"], export=export)

    assert registry.get("v1") is None
    assert registry.plan("v1") == {}


def test_export_items_are_kept_per_account(registry: DatasetRegistry) -> None:
    items = {"a": [{"id": "1"}, {"id": "2"}], "b": [{"id": "3"}]}
    scraped_at = datetime(2025, 7, 8, tzinfo=UTC)
    registry.add_accounts("v1", ["a", "b"], batch_size=1, export=ExportContent(items, scraped_at))

    assert registry.export_items("v1", ["b"]) == [{"id": "3"}]
    assert registry.export_items("v1", ["a", "b"]) == [{"id": "1"}, {"id": "2"}, {"id": "3"}]
    assert registry.require("v1").export_scraped_at == scraped_at


def test_reading_an_unknown_dataset_says_how_to_create_it(registry: DatasetRegistry) -> None:
    assert registry.get("nope") is None
    with pytest.raises(LookupError, match="dataset create"):
        registry.require("nope")


def test_adding_only_planned_accounts_changes_nothing(registry: DatasetRegistry) -> None:
    registry.add_accounts("v1", ["a", "b"], batch_size=2)

    assert registry.add_accounts("v1", ["b", "a"], batch_size=1) == []

    assert registry.plan("v1") == {"a": "b001", "b": "b001"}


def test_reading_a_database_that_does_not_exist_yet_finds_nothing(tmp_path: Path) -> None:
    registry = DatasetRegistry(database=str(tmp_path / "nothing.duckdb"))

    assert (registry.get("v1"), registry.list_datasets(), registry.plan("v1")) == (None, [], {})
    assert not (tmp_path / "nothing.duckdb").exists()
