"""The media cache keeps the scraped video files by content, atomically, once, and within its
budget when pruned."""

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tiktok_virality.defs.media.cache import MEDIA_CACHE_SCHEMA, MEDIA_TABLE, MediaCache
from tiktok_virality.warehouse.migrations import migrate

LATER = datetime.now(UTC) + timedelta(days=2)


@pytest.fixture
def media(tmp_path: Path) -> MediaCache:
    database = tmp_path / "data.duckdb"
    migrate(database, [MEDIA_CACHE_SCHEMA])
    return MediaCache(database=str(database), directory=str(tmp_path / "media"), max_bytes=1000)


def list_videos(media: MediaCache, video_ids: list[str]) -> None:
    """As if a dataset's raw_videos listed these videos."""
    with duckdb.connect(media.database) as connection:
        connection.execute("CREATE OR REPLACE TABLE raw_videos (dataset VARCHAR, video_id VARCHAR)")
        for video_id in video_ids:
            connection.execute("INSERT INTO raw_videos VALUES ('v1', ?)", [video_id])


def test_a_stored_file_is_named_by_its_content_and_read_back(media: MediaCache) -> None:
    path = media.put("7001", b"video bytes")

    assert path == media.path_for("7001")
    assert path.read_bytes() == b"video bytes"
    assert path.stem == hashlib.sha256(b"video bytes").hexdigest()
    assert path.parent.parent == Path(media.directory)
    assert media.path_for("7002") is None
    # Nothing but the file is left in its folder: the temporary file was renamed into place.
    assert list(path.parent.iterdir()) == [path]


def test_two_videos_with_the_same_bytes_share_one_file(media: MediaCache) -> None:
    first, second = media.put("7001", b"same"), media.put("7002", b"same")

    assert first == second
    usage = media.usage()
    assert (usage.videos, usage.files, usage.bytes) == (2, 1, 4)


def test_cached_ids_tells_which_videos_need_no_copy(media: MediaCache) -> None:
    media.put("7001", b"a")
    media.put("7002", b"b")
    media.path_for("7002").unlink()  # deleted by hand: no longer cached

    assert media.cached_ids(["7001", "7002", "7003"]) == {"7001"}
    assert media.path_for("7002") is None
    assert media.cached_ids([]) == set()


def test_prune_drops_the_videos_no_dataset_lists(media: MediaCache) -> None:
    kept, dropped = media.put("7001", b"kept"), media.put("7002", b"dropped")
    list_videos(media, ["7001"])

    result = media.prune(now=LATER)

    assert (result.unreferenced_videos, result.files_removed, result.bytes_freed) == (1, 1, 7)
    assert kept.exists() and not dropped.exists()
    assert media.path_for("7002") is None


def test_prune_keeps_unlisted_files_stored_recently(media: MediaCache) -> None:
    """A batch's files are copied before Dagster stores its rows: a prune in between keeps them."""
    path = media.put("7001", b"just scraped")
    list_videos(media, [])

    assert media.prune().files_removed == 0
    assert path.exists()


def test_prune_evicts_the_least_recently_used_until_within_budget(media: MediaCache) -> None:
    list_videos(media, ["a", "b", "c"])
    for video_id in ("a", "b", "c"):
        media.put(video_id, video_id.encode() * 400)
    media.path_for("a")  # used last: kept

    result = media.prune(now=LATER)  # budget 1000 bytes: 1200 held

    assert (result.evicted_videos, result.bytes_freed) == (1, 400)
    assert media.cached_ids(["a", "b", "c"]) == {"a", "c"}
    assert media.usage().bytes == 800


def test_prune_to_a_given_budget_keeps_a_file_another_video_still_uses(
    media: MediaCache,
) -> None:
    list_videos(media, ["a", "b", "c"])
    media.put("a", b"x" * 300)
    media.put("b", b"y" * 300)
    media.put("c", b"x" * 300)  # the same file as a
    media.path_for("b")

    result = media.prune(300, now=LATER)

    # a (least recently used) goes, but its file stays for c; then c goes with the file; b stays.
    assert (result.evicted_videos, result.files_removed, result.bytes_freed) == (2, 1, 300)
    assert media.cached_ids(["a", "b", "c"]) == {"b"}


def test_an_interrupted_write_leaves_neither_file_nor_index_row(
    media: MediaCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(KeyboardInterrupt):
        media.put("7001", b"video")

    assert [p for p in Path(media.directory).rglob("*") if p.is_file()] == []
    with duckdb.connect(media.database) as connection:
        assert connection.execute(f"SELECT count(*) FROM {MEDIA_TABLE}").fetchone() == (0,)


def test_paths_for_finds_many_videos_at_once_and_marks_them_used(media: MediaCache) -> None:
    first = media.put("7001", b"a")
    media.put("7002", b"b")
    media.path_for("7002").unlink()  # deleted by hand: no longer cached
    with duckdb.connect(media.database) as connection:
        connection.execute(f"UPDATE {MEDIA_TABLE} SET last_used_at = '2020-01-01 00:00:00+00'")

    assert media.paths_for(["7001", "7002", "7003", "7001"]) == {"7001": first}
    assert media.paths_for([]) == {}
    with duckdb.connect(media.database) as connection:
        used = dict(
            connection.execute(f"SELECT video_id, last_used_at FROM {MEDIA_TABLE}").fetchall()
        )
    assert used["7001"].year > 2020 and used["7002"].year == 2020


def test_put_many_stores_each_content_once_and_indexes_every_video(media: MediaCache) -> None:
    paths = media.put_many({"7001": b"same", "7002": b"same", "7003": b"other"})

    assert paths["7001"] == paths["7002"] != paths["7003"]
    assert media.paths_for(["7001", "7002", "7003"]) == paths
    usage = media.usage()
    assert (usage.videos, usage.files) == (3, 2)
