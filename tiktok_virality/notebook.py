"""A notebook's view of the tables that never holds up the pipeline.

DuckDB lets one process at a time have the file open for writing, and none while another process
has it open at all — even read-only: a notebook's open connection makes every run wait (and fail a
step after two minutes). `open_snapshot` copies the database file, in a moment, under the lock the
pipeline's own connections take (storage.py), so the copy is whole (no write is under way), and
connects to the copy read-only: keep it open as long as you like, and call it again for fresher
tables. The copy lives in the temporary directory, never beside the data, and is deleted when the
process (the notebook's kernel) ends.

Measured (docs/benchmarks.md): copying takes about what reading the file once takes; the pipeline
waits for it as it waits for any other step's write.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import duckdb

from tiktok_virality.warehouse.storage import database_lock


def open_snapshot(database: Path | str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a copy of the database (the CLI's, by default) as it is now."""
    path = Path(database) if database is not None else _default_database()
    if not path.is_file():
        raise FileNotFoundError(
            f"no database at {path}: run the pipeline first, e.g. `tiktok-virality run "
            "--dataset demo --offline`"
        )
    directory = Path(tempfile.mkdtemp(prefix="tiktok_virality-snapshot-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    copy = directory / path.name
    with database_lock(path):
        shutil.copyfile(path, copy)
        # A write-ahead log left by a process that was killed holds committed rows: DuckDB
        # replays it when the copy is opened.
        wal = Path(f"{path}.wal")
        if wal.is_file():
            shutil.copyfile(wal, Path(f"{copy}.wal"))
    connection = duckdb.connect(str(copy), read_only=True)
    # Read back as the pipeline stored them (storage.connect).
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def _default_database() -> Path:
    from tiktok_virality.config import load_settings

    return load_settings().database
