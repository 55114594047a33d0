"""Opening the DuckDB file: one writer process at a time, connections always closed.

DuckDB lets one process hold the file for writing, and none while another process has it open, even
read-only (a notebook): it gets an IO error "Could not set lock on file ... held in PROGRAM (PID N)".
Every connection here is short-lived and closed on every path, and opening waits with backoff for the
lock instead of failing, saying which process it waits for. Every write goes through `transaction`, so
that a failed or killed write leaves what was there before.

Our own processes (CLI runs side by side, a step per process, the UI's runs) first queue on a lock
file beside the database (`database_lock`), held for as long as the connection is open: a waiter
tries again every 50 ms, where DuckDB's lock was retried with a backoff growing to 2 s that let busy
writers starve a step past the wait; and one thread of a process at a time holds the file, so that
two threads never open it at once. DuckDB's lock is POSIX (fcntl): a second descriptor of the file closed in the same
process silently drops the lock of the first, and another process then writes under a connection that
still reads its old pages ("Could not read enough bytes from file", seen in CI with four runs of a
process per step). Outside processes (a notebook) do not take the lock file: they are still waited
for, and `tiktok_virality.notebook.open_snapshot` gives a notebook a copy instead."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import filelock

from tiktok_virality.core.errors import UserError

LOCK_WAIT_SECONDS = 120.0
_FIRST_RETRY_DELAY = 0.05
_MAX_RETRY_DELAY = 2.0
_LOCK_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")

logger = logging.getLogger(__name__)


class DatabaseLockedError(UserError, RuntimeError):
    """The DuckDB file stayed locked by another process for longer than we wait."""


def _is_lock_conflict(error: duckdb.Error) -> bool:
    return "lock" in str(error).lower()


def _lock_holder(error: duckdb.Error) -> str:
    """Who holds the file: the process DuckDB names, and what it may be."""
    what = "a running pipeline step, or a notebook's open connection, even a read-only one"
    match = _LOCK_HOLDER.search(str(error))
    return what if match is None else f"PID {match['pid']}, {Path(match['program']).name}: {what}"


def lock_file_of(database: Path | str) -> Path:
    return Path(f"{database}.lock")


@contextmanager
def database_lock(
    database: Path | str, *, timeout_seconds: float = LOCK_WAIT_SECONDS
) -> Iterator[None]:
    """Hold the database for this thread among our processes; reentrant in the thread (a connection
    opened while another is open shares DuckDB's instance of the file)."""
    # One lock object per path in the process (`is_singleton`), counted per thread (`thread_local`,
    # the default): the lock file is flock'ed on a descriptor of the thread's own (filelock 3.12+).
    lock = filelock.FileLock(lock_file_of(database), is_singleton=True)
    try:
        lock.acquire(timeout=timeout_seconds)
    except filelock.Timeout:
        raise DatabaseLockedError(
            f"{database} stayed in use by another tiktok-virality process (a run, a step, the "
            f"UI) for {timeout_seconds:.0f} s; is a step stuck? try again once it ends"
        ) from None
    try:
        yield
    finally:
        lock.release()


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
    with (
        database_lock(path, timeout_seconds=lock_wait_seconds),
        _connected(path, read_only, lock_wait_seconds, sleep) as connection,
    ):
        yield connection


@contextmanager
def _connected(
    path: Path, read_only: bool, lock_wait_seconds: float, sleep: Callable[[float], None]
) -> Iterator[duckdb.DuckDBPyConnection]:
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
                    f"{path} is locked by another process ({_lock_holder(error)}) and stayed "
                    f"locked for {lock_wait_seconds:.0f} s; close the other connection and try "
                    "again"
                ) from error
            if not warned:
                logger.warning(
                    "waiting for %s: it is locked by another process (%s); going on once that "
                    "closes it, for up to %.0f s",
                    path,
                    _lock_holder(error),
                    lock_wait_seconds,
                )
                warned = True
            sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_DELAY)
    try:
        # Timestamps are stored as instants; UTC makes them read back the same on every machine.
        connection.execute("SET TimeZone = 'UTC'")
        # A missing table is an error, never a Python variable of that name found by DuckDB's
        # replacement scan (a store's `errors` argument read as the `errors` table); frames are
        # registered by name instead.
        connection.execute("SET python_enable_replacements = false")
        yield connection
    finally:
        connection.close()


@contextmanager
def in_transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN, then COMMIT, or ROLLBACK on any exception (Ctrl-C included) before re-raising it."""
    connection.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@contextmanager
def transaction(database: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose statements commit together at the end of the block, or not at all."""
    with connect(database) as connection, in_transaction(connection):
        yield connection


def read_rows(
    database: Path | str, sql: str, parameters: Sequence[Any] = (), *, table: str
) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on `table`; none while the database file or the table does not
    exist yet (nothing has been stored), so that reading never creates the file."""
    if not Path(database).exists():
        return []
    with connect(database, read_only=True) as connection:
        if not table_exists(connection, table):
            return []
        return connection.execute(sql, list(parameters)).fetchall()


def table_exists(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchone()
    return bool(row and row[0])


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
