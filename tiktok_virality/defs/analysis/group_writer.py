"""Storing results off the event loop, as they arrive, in groups."""

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupWriter(Generic[T]):
    """Stores outcomes off the event loop, one write at a time, each write taking every outcome
    that arrived while the previous one ran (a group commit): an answer is kept as soon as the
    database can take it, and at high concurrency the writes do not queue up one per answer.

    `write` gets a group and returns its outcomes as stored, in the same order."""

    def __init__(self, write: Callable[[list[T]], list[T]]) -> None:
        self._write = write
        self._pending: list[tuple[T, asyncio.Future[T]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def store(self, outcome: T) -> T:
        stored: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, stored))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_pending())
        return await stored

    async def _write_pending(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            try:
                written = await asyncio.to_thread(self._write, [outcome for outcome, _ in group])
            except Exception as error:
                for _, stored in group:
                    if not stored.cancelled():  # its caller was stopped while it was written
                        stored.set_exception(error)
                continue
            for (_, stored), outcome in zip(group, written, strict=True):
                if not stored.cancelled():
                    stored.set_result(outcome)
