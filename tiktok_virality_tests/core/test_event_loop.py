"""A stop signal during async work cancels the work, lets it unwind, and only then reaches the
handler that was there before (Dagster's, which raises its interruption)."""

import asyncio
import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from tiktok_virality.core.event_loop import run_until_complete


class Interrupted(BaseException):
    """Stands for Dagster's DagsterExecutionInterruptedError (a BaseException too)."""


@pytest.fixture
def raising_handler() -> Iterator[list[int]]:
    """A SIGINT handler raising `Interrupted`, as Dagster's is during a step."""
    calls: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        calls.append(signum)
        raise Interrupted

    previous = signal.signal(signal.SIGINT, handler)
    yield calls
    signal.signal(signal.SIGINT, previous)


async def _held_call_and_a_signal_inside_a_callback(unwound: list[str]) -> str:
    """A call that never answers, and a signal landing while the loop runs a callback: asyncio's
    `asyncio.run` would log the handler's exception ("Exception in callback") and wait on for the
    call for ever (what made a stopped CLI run hang)."""
    never = asyncio.Event()

    async def held_call() -> None:
        try:
            await never.wait()
        finally:
            unwound.append("held call cancelled")

    asyncio.get_running_loop().call_soon(signal.raise_signal, signal.SIGINT)
    await held_call()
    return "finished"


def test_a_signal_inside_a_callback_cancels_the_work_and_then_reaches_the_previous_handler(
    raising_handler: list[int],
) -> None:
    unwound: list[str] = []

    with pytest.raises(Interrupted):
        run_until_complete(_held_call_and_a_signal_inside_a_callback(unwound))

    assert unwound == ["held call cancelled"]
    assert raising_handler == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is not None
    assert signal.getsignal(signal.SIGINT).__name__ == "handler"  # restored


def test_work_that_finishes_returns_its_result_and_restores_the_handlers(
    raising_handler: list[int],
) -> None:
    async def work() -> int:
        await asyncio.sleep(0)
        return 42

    before = signal.getsignal(signal.SIGTERM)

    assert run_until_complete(work()) == 42
    assert raising_handler == []
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_handler_that_only_takes_note_leaves_the_work_cancelled() -> None:
    noted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: noted.append(signum))
    try:
        with pytest.raises(asyncio.CancelledError):
            run_until_complete(_held_call_and_a_signal_inside_a_callback([]))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert noted == [signal.SIGINT]
