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
