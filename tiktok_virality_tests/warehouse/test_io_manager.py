"""Each property the DuckDB IO manager promises, tested on its own."""

import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tiktok_virality.core.partitions import (
    DatasetPartition,
    VideoPartition,
    register_partitions,
    video_partitions,
)
from tiktok_virality.warehouse.io_manager import (
    ContractViolationError,
    DuckDBPartitionIOManager,
    read_partitions,
    write_partition,
)
from tiktok_virality.warehouse.storage import DatabaseLockedError, connect
from tiktok_virality_tests.helpers import hold_lock

TYPES = {
    "dataset": "VARCHAR",
    "batch": "VARCHAR",
    "video_id": "VARCHAR",
    "views": "BIGINT",
    "hashtags": "VARCHAR[]",
    "created_at": "TIMESTAMPTZ",
}
V1_B001 = VideoPartition("v1", "b001")
V1_B002 = VideoPartition("v1", "b002")


def frame(ids: list[str], views: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "video_id": ids,
            "views": views,
            "hashtags": [["fyp", f"tag{i}"] for i in range(len(ids))],
            "created_at": pd.Timestamp("2025-07-07 14:58:13", tz="UTC"),
        }
    )


def rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def test_rows_round_trip_with_contract_types(database: Path) -> None:
    write_partition(database, "videos", TYPES, V1_B001, frame(["7524354452762037512"], [2314]))

    with duckdb.connect(str(database), read_only=True) as connection:
        described = dict(
            connection.execute("SELECT column_name, column_type FROM (DESCRIBE videos)").fetchall()
        )
        stored = connection.execute(
            "SELECT dataset, batch, video_id, views, hashtags FROM videos"
        ).fetchall()
    assert described == {
        "dataset": "VARCHAR",
        "batch": "VARCHAR",
        "video_id": "VARCHAR",
        "views": "BIGINT",
        "hashtags": "VARCHAR[]",
        "created_at": "TIMESTAMP WITH TIME ZONE",
    }
    assert stored == [("v1", "b001", "7524354452762037512", 2314, ["fyp", "tag0"])]
    loaded = read_partitions(database, "videos", TYPES, [V1_B001])
    assert loaded["video_id"].tolist() == ["7524354452762037512"]
    assert str(loaded["created_at"].dt.tz) in {"UTC", "Etc/UTC"}


def test_rewriting_a_partition_replaces_only_its_rows(database: Path) -> None:
    write_partition(database, "videos", TYPES, V1_B001, frame(["1", "2", "3"], [1, 2, 3]))
    write_partition(database, "videos", TYPES, V1_B002, frame(["4"], [4]))
    write_partition(database, "videos", TYPES, V1_B001, frame(["5"], [5]))

    assert rows(database, "SELECT batch, video_id FROM videos ORDER BY video_id") == [
        ("b002", "4"),
        ("b001", "5"),
    ]


def test_a_failed_write_leaves_the_previous_rows(database: Path) -> None:
    write_partition(database, "videos", TYPES, V1_B001, frame(["1", "2", "3"], [1, 2, 3]))
    bad = frame(["4"], [0]).assign(views=["not a number"])

    with pytest.raises(duckdb.ConversionException):
        write_partition(database, "videos", TYPES, V1_B001, bad)

    assert rows(database, "SELECT video_id FROM videos ORDER BY video_id") == [
        ("1",),
        ("2",),
        ("3",),
    ]


def test_a_write_killed_after_its_delete_leaves_the_previous_rows(database: Path) -> None:
    write_partition(database, "videos", TYPES, V1_B001, frame(["1", "2", "3"], [1, 2, 3]))
    # The child process deletes the partition's rows, then is killed (SIGKILL) as it inserts.
    child = textwrap.dedent(
        f"""
        import os, signal
        from contextlib import contextmanager
        import pandas as pd
        import tiktok_virality.warehouse.io_manager as io_manager
        from tiktok_virality.core.partitions import VideoPartition

        real_transaction = io_manager.transaction

        class KillOnInsert:
            def __init__(self, connection):
                self.connection = connection
            def execute(self, sql, *args):
                if sql.startswith("INSERT"):
                    os.kill(os.getpid(), signal.SIGKILL)
                return self.connection.execute(sql, *args)
            def __getattr__(self, name):
                return getattr(self.connection, name)

        @contextmanager
        def transaction(database):
            with real_transaction(database) as connection:
                yield KillOnInsert(connection)

        io_manager.transaction = transaction
        new_rows = pd.DataFrame({{"video_id": ["9"], "views": [9], "hashtags": [["x"]], "created_at": [pd.Timestamp("2025-01-01", tz="UTC")]}})
        io_manager.write_partition({str(database)!r}, "videos", {TYPES!r}, VideoPartition("v1", "b001"), new_rows)
        """
    )
    completed = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)

    assert completed.returncode == -9, completed.stderr
    assert rows(database, "SELECT video_id FROM videos ORDER BY video_id") == [
        ("1",),
        ("2",),
        ("3",),
    ]


def test_columns_are_inserted_by_name_not_position(database: Path) -> None:
    reordered = frame(["1"], [42])[["views", "created_at", "video_id", "hashtags"]]

    write_partition(database, "videos", TYPES, V1_B001, reordered)

    assert rows(database, "SELECT video_id, views FROM videos") == [("1", 42)]


def test_a_column_new_in_the_contract_is_added_to_the_table(database: Path) -> None:
    write_partition(database, "videos", TYPES, V1_B001, frame(["1"], [1]))
    evolved = {**TYPES, "likes": "BIGINT"}

    write_partition(database, "videos", evolved, V1_B002, frame(["2"], [2]).assign(likes=7))

    assert rows(database, "SELECT video_id, likes FROM videos ORDER BY video_id") == [
        ("1", None),
        ("2", 7),
    ]
    old_contract_read = read_partitions(database, "videos", evolved, [V1_B001])
    assert old_contract_read["likes"].isna().all()


def test_reading_with_a_column_the_table_lacks_gives_nulls(database: Path) -> None:
    write_partition(database, "videos", TYPES, V1_B001, frame(["1"], [1]))

    loaded = read_partitions(database, "videos", {**TYPES, "likes": "BIGINT"}, [V1_B001])

    assert loaded.columns.tolist() == [*TYPES, "likes"]
    assert loaded["likes"].isna().all()


def test_an_empty_partition_is_stored_and_loads_with_the_contract_columns(database: Path) -> None:
    empty = pd.DataFrame({name: pd.Series(dtype="object") for name in TYPES})

    assert write_partition(database, "videos", TYPES, V1_B001, empty) == 0

    assert rows(database, "SELECT count(*) FROM videos") == [(0,)]
    loaded = read_partitions(database, "videos", TYPES, [V1_B001])
    assert loaded.empty
    assert loaded.columns.tolist() == list(TYPES)


def test_loading_before_the_table_exists_gives_an_empty_frame(database: Path) -> None:
    loaded = read_partitions(database, "videos", TYPES, [V1_B001])

    assert loaded.empty
    assert loaded.columns.tolist() == list(TYPES)


def test_rows_outside_the_contract_or_partition_are_refused(database: Path) -> None:
    with pytest.raises(ContractViolationError, match="not in the table contract"):
        write_partition(database, "videos", TYPES, V1_B001, frame(["1"], [1]).assign(extra=1))
    with pytest.raises(ContractViolationError, match="carry another dataset"):
        write_partition(database, "videos", TYPES, V1_B001, frame(["1"], [1]).assign(dataset="v2"))
    with pytest.raises(ContractViolationError, match=r"missing from the frame: \['views'\]"):
        write_partition(database, "videos", TYPES, V1_B001, frame(["1"], [1]).drop(columns="views"))
    assert not database.exists()


def test_a_list_column_empty_in_most_rows_is_typed_from_all_rows(database: Path) -> None:
    # DuckDB samples about 1,000 rows to type an object column; the one non-empty list is past it.
    ids = [str(i) for i in range(2040)]
    sparse = frame(ids, list(range(2040))).assign(hashtags=[[] for _ in ids])
    sparse.at[1001, "hashtags"] = ["late"]

    assert write_partition(database, "videos", TYPES, V1_B001, sparse) == 2040

    assert rows(database, "SELECT hashtags FROM videos WHERE video_id = '1001'") == [(["late"],)]


def test_partitions_are_read_exactly_and_in_written_order(database: Path) -> None:
    write_partition(database, "videos", TYPES, V1_B001, frame(["3", "1", "2"], [3, 1, 2]))
    write_partition(database, "videos", TYPES, VideoPartition("v1b", "001"), frame(["9"], [9]))
    write_partition(database, "videos", TYPES, V1_B002, frame(["4"], [4]))

    loaded = read_partitions(database, "videos", TYPES, [V1_B001, V1_B002])

    assert loaded["video_id"].tolist() == ["3", "1", "2", "4"]


def test_connections_are_closed_after_a_failed_write(database: Path) -> None:
    write_partition(database, "videos", TYPES, V1_B001, frame(["1"], [1]))
    with pytest.raises(duckdb.ConversionException):
        write_partition(database, "videos", TYPES, V1_B001, frame(["2"], [0]).assign(views=["x"]))

    # Another process can take the write lock at once, and so can this process with another
    # configuration (DuckDB refuses that while a connection to the file is still open here).
    other_process = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(database)!r}).close()"],
        capture_output=True,
        text=True,
    )
    assert other_process.returncode == 0, other_process.stderr
    duckdb.connect(str(database), read_only=True).close()


def test_opening_waits_for_another_process_to_release_the_lock(database: Path) -> None:
    holder = hold_lock(database)
    waits: list[float] = []

    def release_on_first_wait(seconds: float) -> None:
        waits.append(seconds)
        if holder.poll() is None:
            assert holder.stdin is not None
            holder.stdin.write("release\n")
            holder.stdin.flush()
            holder.wait(timeout=30)

    with connect(database, sleep=release_on_first_wait) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
    assert len(waits) == 1


def test_a_lock_held_too_long_gives_a_clear_error_naming_the_holder(database: Path) -> None:
    holder = hold_lock(database)
    try:
        with (
            pytest.raises(
                DatabaseLockedError, match=rf"locked by another process \(PID {holder.pid}, "
            ),
            connect(database, lock_wait_seconds=0),
        ):
            pass
    finally:
        holder.communicate("release\n", timeout=30)


TABLE_METADATA = {
    "dagster/column_schema": dg.TableSchema(
        columns=[dg.TableColumn(n, t) for n, t in TYPES.items()]
    )
}


@dg.asset(
    partitions_def=video_partitions,
    io_manager_key="warehouse",
    metadata=TABLE_METADATA,
)
def upstream(context: dg.AssetExecutionContext) -> pd.DataFrame:
    batch = context.partition_key.keys_by_dimension["batch"]
    return frame([f"{batch}-1", f"{batch}-2"], [10, 20]) if batch == "b001" else frame([], [])


@dg.asset(
    partitions_def=video_partitions,
    io_manager_key="warehouse",
    metadata=TABLE_METADATA,
)
def downstream(upstream: pd.DataFrame) -> pd.DataFrame:
    return upstream.assign(views=upstream["views"] * 2)


def test_dataset_batch_partitions_through_dagster(database: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    register_partitions(instance, ["v1"], ["b001", "b002"])
    resources = {"warehouse": DuckDBPartitionIOManager(database=str(database))}

    for batch in ("b001", "b002"):
        result = dg.materialize(
            [upstream, downstream],
            instance=instance,
            resources=resources,
            partition_key=VideoPartition("v1", batch).key,
        )
        assert result.success

    assert rows(database, "SELECT batch, video_id, views FROM downstream ORDER BY video_id") == [
        ("b001", "b001-1", 20),
        ("b001", "b001-2", 40),
    ]
    # The empty partition was stored (no rows) and its downstream loaded an empty frame.
    b002 = VideoPartition("v1", "b002").key
    materialized = instance.get_materialized_partitions(downstream.key)
    assert b002 in materialized


def test_a_dataset_partition_replaces_and_reads_only_its_dataset(database: Path) -> None:
    types = {"dataset": "VARCHAR", "feature": "VARCHAR", "rank": "BIGINT"}
    importance = pd.DataFrame({"feature": ["duration", "sound"], "rank": [1, 2]})
    write_partition(database, "importance", types, DatasetPartition("v1"), importance)
    write_partition(database, "importance", types, DatasetPartition("v2"), importance.head(1))

    write_partition(database, "importance", types, DatasetPartition("v1"), importance.tail(1))

    assert rows(database, "SELECT dataset, feature, rank FROM importance ORDER BY ALL") == [
        ("v1", "sound", 2),
        ("v2", "duration", 1),
    ]
    loaded = read_partitions(database, "importance", types, [DatasetPartition("v2")])
    assert loaded.to_dict("records") == [{"dataset": "v2", "feature": "duration", "rank": 1}]
