from pathlib import Path

import duckdb

from tiktok_virality.warehouse.queries import model_summary, row_counts, stored_video_count


def test_stored_video_count_excludes_the_batch_being_rewritten(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE TABLE raw_videos (dataset VARCHAR, batch VARCHAR)")
        connection.execute(
            "INSERT INTO raw_videos VALUES ('v1','b001'), ('v1','b001'), ('v1','b002'), ('v2','b001')"
        )

    assert stored_video_count(database, "v1") == 3
    assert stored_video_count(database, "v1", excluding_batch="b001") == 1


def test_tables_not_stored_yet_count_nothing(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"

    assert stored_video_count(database, "v1") == 0
    assert row_counts(database, "v1", ["raw_videos", "video_features"]) == {
        "raw_videos": 0,
        "video_features": 0,
    }
    assert model_summary(database, "v1") is None
    assert not database.exists()
