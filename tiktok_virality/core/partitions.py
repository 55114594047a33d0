"""Partitions: dataset × account batch.

Both dimensions are dynamic and shared by all datasets, so Dagster shows the cross product: with `test`
(1 batch) and `v1` (3 batches), `b002|test` exists in the grid though `test` has no batch b002. Such a
phantom pair materializes as empty, instantly, with no external call (see the assets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

DATASET_DIMENSION = "dataset"
BATCH_DIMENSION = "batch"

dataset_partitions = dg.DynamicPartitionsDefinition(name=DATASET_DIMENSION)
batch_partitions = dg.DynamicPartitionsDefinition(name=BATCH_DIMENSION)

video_partitions = dg.MultiPartitionsDefinition(
    {DATASET_DIMENSION: dataset_partitions, BATCH_DIMENSION: batch_partitions}
)


@dataclass(frozen=True, order=True)
class VideoPartition:
    dataset: str
    batch: str

    @property
    def key(self) -> dg.MultiPartitionKey:
        return dg.MultiPartitionKey({DATASET_DIMENSION: self.dataset, BATCH_DIMENSION: self.batch})

    @property
    def columns(self) -> dict[str, str]:
        """The table columns that hold the partition's keys, and their values."""
        return {DATASET_DIMENSION: self.dataset, BATCH_DIMENSION: self.batch}

    def __str__(self) -> str:
        return f"{self.dataset}/{self.batch}"


@dataclass(frozen=True, order=True)
class DatasetPartition:
    """A partition of the assets made from a whole dataset (the model, the report)."""

    dataset: str

    @property
    def key(self) -> str:
        return self.dataset

    @property
    def columns(self) -> dict[str, str]:
        return {DATASET_DIMENSION: self.dataset}

    def __str__(self) -> str:
        return self.dataset


StoredPartition = VideoPartition | DatasetPartition


def parse_partition_key(key: str) -> VideoPartition:
    """The (dataset, batch) of a key, whether Dagster hands over a `MultiPartitionKey` or, when a run
    only carries the `dagster/partition` tag, its plain string form `batch|dataset`."""
    if isinstance(key, dg.MultiPartitionKey):
        dimensions = key.keys_by_dimension
        return VideoPartition(dimensions[DATASET_DIMENSION], dimensions[BATCH_DIMENSION])
    parts = str(key).split("|")
    if len(parts) != 2:
        raise ValueError(f"not a dataset × batch partition key: {key!r}")
    # The string form joins the dimensions sorted by name: batch before dataset.
    batch, dataset = parts
    return VideoPartition(dataset, batch)


def register_partitions(
    instance: dg.DagsterInstance, datasets: Sequence[str], batches: Sequence[str]
) -> None:
    """Make the keys known to the Dagster instance; keys already there are left as they are."""
    for dimension, keys in ((DATASET_DIMENSION, datasets), (BATCH_DIMENSION, batches)):
        missing = [key for key in keys if not instance.has_dynamic_partition(dimension, key)]
        if missing:
            instance.add_dynamic_partitions(dimension, missing)


# The tags Dagster puts on a run of one partition: its whole key (`batch|dataset`, or a dataset's
# name for the assets made from a whole dataset), and each dimension's key on its own.
PARTITION_TAG = "dagster/partition"


def dimension_tag(dimension: str) -> str:
    return f"{PARTITION_TAG}/{dimension}"


def runs_of_keys(
    instance: dg.DagsterInstance,
    *,
    datasets: Sequence[str] = (),
    batches: Sequence[str] = (),
    statuses: Sequence[dg.DagsterRunStatus] = (),
) -> list[dg.DagsterRun]:
    """The runs of every partition with one of these dataset or batch keys, the model's and the
    report's (partitioned by dataset) included; only those in `statuses` when given."""
    tag_sets = [
        *({dimension_tag(DATASET_DIMENSION): dataset} for dataset in datasets),
        *({PARTITION_TAG: dataset} for dataset in datasets),
        *({dimension_tag(BATCH_DIMENSION): batch} for batch in batches),
    ]
    runs: dict[str, dg.DagsterRun] = {}
    for tags in tag_sets:
        records = instance.get_run_records(
            filters=dg.RunsFilter(tags=tags, statuses=list(statuses) or None)
        )
        runs.update((record.dagster_run.run_id, record.dagster_run) for record in records)
    return list(runs.values())


@dataclass(frozen=True)
class ForgottenKeys:
    datasets: list[str]
    batches: list[str]
    runs: int


def forget_partition_keys(
    instance: dg.DagsterInstance,
    asset_keys: Sequence[dg.AssetKey],
    *,
    datasets: Sequence[str],
    batches: Sequence[str],
) -> ForgottenKeys:
    """Remove dataset and batch keys from the instance, with the runs of their partitions.

    Deleting a key alone would leave its partitions' history: a dataset created later under the
    same name would find them materialized and never run them. Dagster's SQLite storage cannot wipe
    a partition's events, but deleting a run deletes its events, and the assets' cached status is
    then recomputed from what is left."""
    runs = runs_of_keys(instance, datasets=datasets, batches=batches)
    for run in runs:
        instance.delete_run(run.run_id)
    if runs:
        instance.wipe_asset_cached_status(list(asset_keys))
    removed = ForgottenKeys(
        datasets=[
            key for key in datasets if instance.has_dynamic_partition(DATASET_DIMENSION, key)
        ],
        batches=[key for key in batches if instance.has_dynamic_partition(BATCH_DIMENSION, key)],
        runs=len(runs),
    )
    for dimension, keys in (
        (DATASET_DIMENSION, removed.datasets),
        (BATCH_DIMENSION, removed.batches),
    ):
        for key in keys:
            instance.delete_dynamic_partition(dimension, key)
    return removed
