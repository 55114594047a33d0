"""The analyzer's group commit: an answer is written as soon as the database can take it, and the
answers that arrive during a write go together in the next one."""

import asyncio
import threading

import pytest

from tiktok_virality.core.errors import RecordedError
from tiktok_virality.defs.analysis.gemini import _Outcome
from tiktok_virality.defs.analysis.group_writer import GroupWriter


def failed(video_id: str) -> _Outcome:
    return _Outcome(video_id, error=RecordedError(None, "overloaded", permanent=False))


def test_answers_arriving_during_a_write_go_together_in_the_next_write() -> None:
    writes: list[list[str]] = []
    first_started, release_first = threading.Event(), threading.Event()

    def write(outcomes: list[_Outcome]) -> list[_Outcome]:
        writes.append([outcome.video_id for outcome in outcomes])
        if len(writes) == 1:
            first_started.set()
            release_first.wait(timeout=10)
        return outcomes

    async def store_all() -> list[_Outcome]:
        writer = GroupWriter(write)
        first = asyncio.create_task(writer.store(failed("1")))
        await asyncio.to_thread(first_started.wait, 10)
        later = [asyncio.create_task(writer.store(failed(v))) for v in ("2", "3", "4")]
        await asyncio.sleep(0)  # the three are queued behind the running write
        release_first.set()
        return await asyncio.gather(first, *later)

    stored = asyncio.run(store_all())

    assert writes == [["1"], ["2", "3", "4"]]
    assert [outcome.video_id for outcome in stored] == ["1", "2", "3", "4"]


def test_a_failed_write_fails_every_store_waiting_on_it() -> None:
    def write(outcomes: list[_Outcome]) -> list[_Outcome]:
        raise OSError("disk full")

    async def store() -> _Outcome:
        return await GroupWriter(write).store(failed("1"))

    with pytest.raises(OSError, match="disk full"):
        asyncio.run(store())
