"""Opening the DuckDB file: one writer process at a time, connections always closed.

DuckDB lets one process hold the file for writing; a second process gets an IO error "Could not set
lock on file". Every connection here is short-lived and closed on every path, and opening waits with
backoff for the lock instead of failing, saying what it waits for."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

LOCK_WAIT_SECONDS = 120.0
_FIRST_RETRY_DELAY = 0.05
_MAX_RETRY_DELAY = 2.0

logger = logging.getLogger(__name__)


class DatabaseLockedError(RuntimeError):
    """The DuckDB file stayed locked by another process for longer than we wait."""


def _is_lock_conflict(error: duckdb.Error) -> bool:
    return "lock" in str(error).lower()


@contextmanager
def connect(
    database: Path | str,
    *,
    read_only: bool = False,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(database)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_wait_seconds
    delay = _FIRST_RETRY_DELAY
    warned = False
    while True:
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            if not _is_lock_conflict(error):
                raise
            if time.monotonic() + delay > deadline:
                raise DatabaseLockedError(
                    f"{path} is locked by another process (a running pipeline step, or a notebook "
                    f"holding a read-write connection) and stayed locked for {lock_wait_seconds:.0f}"
                    " s; close the other connection and try again"
                ) from error
            if not warned:
                logger.warning("waiting for %s: another process holds its lock", path)
                warned = True
            sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_DELAY)
    try:
        # Timestamps are stored as instants; UTC makes them read back the same on every machine.
        connection.execute("SET TimeZone = 'UTC'")
        yield connection
    finally:
        connection.close()


def table_exists(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchone()
    return bool(row and row[0])


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
