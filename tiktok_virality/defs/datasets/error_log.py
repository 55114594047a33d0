"""The error log: what the latest attempt of each partition's phase ran into (table `errors`), which
`status` shows and exports as the original pipeline's errors.txt."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from tiktok_virality.core.errors import RecordedError, describe_error
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.warehouse.migrations import Migration, StoreSchema
from tiktok_virality.warehouse.store import Store

ERROR_LOG_SCHEMA = StoreSchema(
    "error_log",
    (
        Migration(
            1,
            """
            CREATE TABLE IF NOT EXISTS errors (
                dataset VARCHAR NOT NULL,
                batch VARCHAR NOT NULL,
                account VARCHAR,
                phase VARCHAR NOT NULL,
                error VARCHAR NOT NULL,
                permanent BOOLEAN NOT NULL,
                recorded_at TIMESTAMPTZ NOT NULL
            );
            """,
        ),
    ),
)


@dataclass(frozen=True)
class DatasetError:
    batch: str
    account: str | None
    phase: str
    error: str
    permanent: bool


class ErrorLog(Store):
    """The errors of each dataset's partitions, by phase."""

    store_schema = ERROR_LOG_SCHEMA
    dataset_tables = ("errors",)

    def record_errors(
        self, partition: VideoPartition, phase: str, errors: Sequence[RecordedError]
    ) -> None:
        """Replace the errors of one partition's phase: what its latest attempt ran into."""
        now = datetime.now(UTC)
        with self._write() as connection:
            connection.execute(
                "DELETE FROM errors WHERE dataset = ? AND batch = ? AND phase = ?",
                [partition.dataset, partition.batch, phase],
            )
            if errors:
                connection.executemany(
                    "INSERT INTO errors (dataset, batch, account, phase, error, permanent, "
                    "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
                            partition.dataset,
                            partition.batch,
                            error.account,
                            phase,
                            error.error,
                            error.permanent,
                            now,
                        ]
                        for error in errors
                    ],
                )

    def errors(self, name: str) -> list[DatasetError]:
        """What the latest attempt of each of the dataset's partitions and phases ran into."""
        rows = self._read(
            "SELECT batch, account, phase, error, permanent FROM errors WHERE dataset = ? "
            "ORDER BY batch, phase, account NULLS FIRST",
            [name],
            table="errors",
        )
        return [DatasetError(*row) for row in rows]


@contextmanager
def failure_recorded(
    error_log: ErrorLog, partition: VideoPartition, phase: Phase
) -> Iterator[None]:
    """A step that fails leaves its reason in the errors table (where `status` reads it), then
    fails as it would have."""
    try:
        yield
    except Exception as error:
        error_log.record_errors(
            partition, phase, [RecordedError(None, describe_error(error), permanent=False)]
        )
        raise
