"""Keeping Gemini calls within the user's requests-per-minute quota.

Requests are spaced evenly, at least 60 / rpm seconds apart, so no 60-second window ever holds more
than the quota; concurrency is limited separately (a semaphore), so throughput is the lower of
concurrency / latency and rpm / 60."""

import asyncio
import time
from collections.abc import Awaitable, Callable


class RequestRateLimiter:
    def __init__(
        self,
        requests_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if requests_per_minute <= 0:
            raise ValueError(f"requests per minute must be positive, not {requests_per_minute}")
        self._interval = 60.0 / requests_per_minute
        self._clock = clock
        self._sleep = sleep
        self._next_start = float("-inf")
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next free start time, then take it."""
        async with self._lock:
            wait = self._next_start - self._clock()
            if wait > 0:
                await self._sleep(wait)
            self._next_start = max(self._clock(), self._next_start) + self._interval
