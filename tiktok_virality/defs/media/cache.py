"""The media cache: the scraped video files, kept in the data folder so that analysis (and a later
re-analysis with another model) never depends on Apify keeping them.

Apify deletes a run's unnamed key-value store, where the TikTok scraper puts the downloaded
videos, after the plan's data retention period (https://docs.apify.com/platform/storage/usage#data-retention):
a video analysed later than that could only be judged from its metadata. So the files are copied
here right after a batch's scrape.

Files are content-addressed (named by their SHA-256, so two videos with the same bytes are stored
once) under `directory`, which by default is `media/` beside the DuckDB file; the index (table
`media_files`: video id → digest, bytes, when stored, when last used) lives in that file. Writes are
atomic (a temporary file renamed into place), so an interrupted copy leaves no half file, and a
video already cached is never fetched again. The budget is enforced by `prune` (the `media prune`
command), never during a run: evicting the files a running analysis is about to read would only
send it back to Apify."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tiktok_virality.warehouse.migrations import Migration, StoreSchema
from tiktok_virality.warehouse.store import Store
from tiktok_virality.warehouse.tables import RAW_VIDEOS

MEDIA_TABLE = "media_files"
_SUFFIX = ".mp4"
# A file stored this recently is kept by `prune` even when no dataset lists its video yet: the
# scrape copies a batch's files before Dagster stores the batch's rows.
UNREFERENCED_GRACE = timedelta(hours=6)

MEDIA_CACHE_SCHEMA = StoreSchema(
    "media_cache",
    (
        Migration(
            1,
            f"""
            CREATE TABLE IF NOT EXISTS {MEDIA_TABLE} (
                video_id VARCHAR PRIMARY KEY,
                digest VARCHAR NOT NULL,
                bytes BIGINT NOT NULL,
                stored_at TIMESTAMPTZ NOT NULL,
                last_used_at TIMESTAMPTZ NOT NULL
            );
            """,
        ),
    ),
)


@dataclass(frozen=True)
class MediaUsage:
    """What the cache holds against its budget."""

    videos: int
    files: int
    bytes: int
    budget_bytes: int

    @property
    def over_budget(self) -> bool:
        return self.bytes > self.budget_bytes


@dataclass(frozen=True)
class PruneResult:
    """What `prune` dropped: the videos no dataset lists, then the least recently used."""

    unreferenced_videos: int
    evicted_videos: int
    files_removed: int
    bytes_freed: int


@dataclass(frozen=True)
class _Entry:
    video_id: str
    digest: str
    size: int
    stored_at: datetime


class MediaCache(Store):
    """The video files by video id, content-addressed on disk, indexed in DuckDB."""

    store_schema = MEDIA_CACHE_SCHEMA
    # Passed in by `resources.py`, from `Settings` (which holds the defaults).
    directory: str
    max_bytes: int

    def path_for(self, video_id: str) -> Path | None:
        """The cached file of the video, if any (and marks it used, for `prune`'s order)."""
        rows = self._read(
            f"SELECT digest FROM {MEDIA_TABLE} WHERE video_id = ?", [video_id], table=MEDIA_TABLE
        )
        if not rows:
            return None
        path = self._file(rows[0][0])
        if not path.is_file():  # deleted by hand: the index row is stale, the video not cached
            return None
        with self._write() as connection:
            connection.execute(
                f"UPDATE {MEDIA_TABLE} SET last_used_at = ? WHERE video_id = ?",
                [datetime.now(UTC), video_id],
            )
        return path

    def cached_ids(self, video_ids: Iterable[str]) -> set[str]:
        """Which of these videos are cached already: a copy skips them (resumable)."""
        return set(self._cached_files(video_ids))

    def paths_for(self, video_ids: Iterable[str]) -> dict[str, Path]:
        """`path_for` of many videos at once (one read, one write, where `path_for` makes a
        write per video): the cached files of those that have one, marked used."""
        paths = self._cached_files(video_ids)
        if paths:
            with self._write() as connection:
                connection.execute(
                    f"UPDATE {MEDIA_TABLE} SET last_used_at = ? WHERE list_contains(?, video_id)",
                    [datetime.now(UTC), list(paths)],
                )
        return paths

    def _cached_files(self, video_ids: Iterable[str]) -> dict[str, Path]:
        wanted = list(dict.fromkeys(video_ids))
        if not wanted:
            return {}
        rows = self._read(
            f"SELECT video_id, digest FROM {MEDIA_TABLE} WHERE list_contains(?, video_id)",
            [wanted],
            table=MEDIA_TABLE,
        )
        files = {video_id: self._file(digest) for video_id, digest in rows}
        return {video_id: path for video_id, path in files.items() if path.is_file()}

    def put(self, video_id: str, data: bytes) -> Path:
        """Store the video's file (atomically; once per content) and index it."""
        return self.put_many({video_id: data})[video_id]

    def put_many(self, files: Mapping[str, bytes]) -> dict[str, Path]:
        """`put` of many videos (video id: bytes), indexed in one write rather than one each."""
        rows, paths = [], {}
        now = datetime.now(UTC)
        for video_id, data in files.items():
            digest = hashlib.sha256(data).hexdigest()
            path = paths[video_id] = self._file(digest)
            if not (path.is_file() and path.stat().st_size == len(data)):
                _write_atomically(path, data)
            rows.append([video_id, digest, len(data), now, now])
        if rows:
            with self._write() as connection:
                connection.executemany(
                    f"INSERT OR REPLACE INTO {MEDIA_TABLE} VALUES (?, ?, ?, ?, ?)", rows
                )
        return paths

    def usage(self) -> MediaUsage:
        rows = self._read(
            f"SELECT count(*), count(DISTINCT digest), "
            f"coalesce(sum(bytes) FILTER (WHERE first_of_digest), 0) FROM ("
            f"  SELECT digest, bytes, row_number() OVER (PARTITION BY digest) = 1 AS first_of_digest"
            f"  FROM {MEDIA_TABLE})",
            table=MEDIA_TABLE,
        )
        videos, files, size = rows[0] if rows else (0, 0, 0)
        return MediaUsage(int(videos), int(files), int(size), self.max_bytes)

    def prune(self, max_bytes: int | None = None, *, now: datetime | None = None) -> PruneResult:
        """Drop the files of videos no dataset lists any more, then the least recently used ones
        until the cache fits `max_bytes` (its budget by default)."""
        budget = self.max_bytes if max_bytes is None else max_bytes
        now = now or datetime.now(UTC)
        referenced = self._referenced_ids()
        unreferenced, evicted, gone = _choose_drops(
            self._entries_by_last_use(),
            keep=lambda entry: (
                entry.video_id in referenced or now - entry.stored_at <= UNREFERENCED_GRACE
            ),
            budget=budget,
        )
        with self._write() as connection:
            connection.execute(
                f"DELETE FROM {MEDIA_TABLE} WHERE list_contains(?, video_id)",
                [[entry.video_id for entry in (*unreferenced, *evicted)]],
            )
        for digest in gone:  # after the index no longer names them
            with contextlib.suppress(FileNotFoundError):
                self._file(digest).unlink()
        return PruneResult(len(unreferenced), len(evicted), len(gone), sum(gone.values()))

    def _entries_by_last_use(self) -> list[_Entry]:
        rows = self._read(
            f"SELECT video_id, digest, bytes, stored_at FROM {MEDIA_TABLE} "
            "ORDER BY last_used_at, video_id",
            table=MEDIA_TABLE,
        )
        return [_Entry(*row) for row in rows]

    def _referenced_ids(self) -> set[str]:
        rows = self._read(f"SELECT DISTINCT video_id FROM {RAW_VIDEOS.name}", table=RAW_VIDEOS.name)
        return {row[0] for row in rows}

    def _file(self, digest: str) -> Path:
        # Two levels, as git does: no directory grows to hundreds of thousands of entries.
        return Path(self.directory) / digest[:2] / f"{digest}{_SUFFIX}"


def _choose_drops(
    entries_by_last_use: list[_Entry], *, keep: Callable[[_Entry], bool], budget: int
) -> tuple[list[_Entry], list[_Entry], dict[str, int]]:
    """The entries `keep` refuses, then the least recently used of the others until the rest fit
    `budget`; and the files (digest: bytes) no remaining entry shares."""
    unreferenced = [entry for entry in entries_by_last_use if not keep(entry)]
    kept = [entry for entry in entries_by_last_use if keep(entry)]
    sharing = Counter(entry.digest for entry in kept)
    sizes = {entry.digest: entry.size for entry in entries_by_last_use}
    size = sum(sizes[digest] for digest in sharing)
    evicted: list[_Entry] = []
    for entry in kept:
        if size <= budget:
            break
        evicted.append(entry)
        sharing[entry.digest] -= 1
        if sharing[entry.digest] == 0:
            size -= entry.size
    gone = {
        entry.digest: entry.size
        for entry in (*unreferenced, *evicted)
        if sharing[entry.digest] <= 0
    }
    return unreferenced, evicted, gone


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
