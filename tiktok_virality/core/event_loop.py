"""Running a coroutine to completion on the main thread so that Ctrl-C stops it cleanly.

Dagster turns SIGINT (and SIGTERM) during a step into an exception raised wherever the main thread
happens to be. Inside an event loop that is the wrong place half of the time: raised within a
task's code, asyncio keeps it as that task's result; raised within a callback, asyncio logs it and
carries on. Either way the loop goes on waiting for calls in flight, and a stopped run hangs until
they time out. Here the signal only cancels the work; once the loop has unwound (calls in flight
cancelled, clients closed), the signal is handed to the handler that was there before, which raises
Dagster's interruption as it would have."""

import asyncio
import signal
import threading
from collections.abc import Coroutine
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

# Dagster routes SIGTERM to its SIGINT handler too (dagster._utils.interrupts).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_until_complete(work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(work)`, except that a stop signal cancels `work` and is then re-delivered to
    the previous handler once nothing is left running."""
    if threading.current_thread() is not threading.main_thread():
        return asyncio.run(work)  # signals are only ever handled on the main thread
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        task = loop.create_task(work)
        received: list[int] = []

        def stop(signum: int, _frame: FrameType | None) -> None:
            received.append(signum)
            loop.call_soon_threadsafe(task.cancel)

        previous = {
            signum: signal.signal(signum, stop)
            for signum in _STOP_SIGNALS
            if signal.getsignal(signum) != signal.SIG_IGN  # a signal the user ignores stays so
        }
        try:
            result = loop.run_until_complete(task)
        except asyncio.CancelledError:
            if not received:
                raise
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    if received:
        _redeliver(received[0], previous[received[0]])
        raise asyncio.CancelledError  # the previous handler only took note: the work is stopped
    return result


def _redeliver(signum: int, handler: Any) -> None:
    """Hand the signal to `handler` as the operating system would have."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL and signum == signal.SIGINT:
        raise KeyboardInterrupt
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)
