from pathlib import Path

import pytest

from tiktok_virality.core.errors import RecordedError
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.datasets.error_log import (
    ERROR_LOG_SCHEMA,
    DatasetError,
    ErrorLog,
    failure_recorded,
)
from tiktok_virality.warehouse.migrations import migrate

B001 = VideoPartition("v1", "b001")
B002 = VideoPartition("v1", "b002")


@pytest.fixture
def error_log(tmp_path: Path) -> ErrorLog:
    database = tmp_path / "errors.duckdb"
    migrate(database, [ERROR_LOG_SCHEMA])
    return ErrorLog(database=str(database))


def test_an_attempt_replaces_only_its_own_partition_and_phase(error_log: ErrorLog) -> None:
    error_log.record_errors(B001, Phase.SCRAPING, [RecordedError("ghost", "gone", permanent=True)])
    error_log.record_errors(B001, Phase.ANALYSIS, [RecordedError(None, "quota", permanent=False)])
    error_log.record_errors(B002, Phase.SCRAPING, [RecordedError("quiet", "none", permanent=True)])

    error_log.record_errors(B001, Phase.SCRAPING, [])

    assert error_log.errors("v1") == [
        DatasetError("b001", None, "analysis", "quota", permanent=False),
        DatasetError("b002", "quiet", "scraping", "none", permanent=True),
    ]


def test_a_failing_step_leaves_its_reason_and_fails(error_log: ErrorLog) -> None:
    with (
        pytest.raises(RuntimeError, match="run aborted"),
        failure_recorded(error_log, B001, Phase.SCRAPING),
    ):
        raise RuntimeError("run aborted")

    assert error_log.errors("v1") == [
        DatasetError("b001", None, "scraping", "RuntimeError: run aborted", permanent=False)
    ]
