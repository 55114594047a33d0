"""Keeping Gemini calls within the user's quotas: requests a minute, input tokens a minute, and
the pause a 429 asks for.

- **Requests** are spaced evenly, at least 60 / rpm seconds apart, so no 60-second window ever
  holds more than the quota; concurrency is limited separately (a semaphore), so throughput is the
  lower of concurrency / latency and rpm / 60.
- **Tokens**: a call starts only when the input tokens of the calls started in the last 60 s plus
  its own estimate fit the quota (a single call larger than the quota goes alone). The estimate is
  replaced by what the answer's `usage_metadata` says once it arrives, and by nothing when the
  call was refused (a refused call uses no quota).
- **Pauses**: a 429's `RetryInfo.retryDelay` holds every call back, not only the refused one:
  the quota is the project's."""

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


@dataclass
class TokenReservation:
    """The input tokens a started call is counted for, from `started_at` for a minute."""

    started_at: float
    tokens: int


class GeminiQuota:
    def __init__(
        self,
        requests_per_minute: float,
        tokens_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        for name, value in (("requests", requests_per_minute), ("tokens", tokens_per_minute)):
            if value <= 0:
                raise ValueError(f"{name} per minute must be positive, not {value}")
        self._interval = WINDOW_SECONDS / requests_per_minute
        self._tokens_per_minute = tokens_per_minute
        self._clock = clock
        self._sleep = sleep
        self._next_start = float("-inf")
        self._paused_until = float("-inf")
        self._window: deque[TokenReservation] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self, estimated_tokens: int = 0) -> TokenReservation:
        """Wait until a call estimated at `estimated_tokens` input tokens may start, and count it."""
        async with self._lock:
            while (wait := self._wait(self._clock(), estimated_tokens)) > 0:
                await self._sleep(wait)
            now = self._clock()
            self._next_start = max(now, self._next_start) + self._interval
            reservation = TokenReservation(now, estimated_tokens)
            self._window.append(reservation)
            return reservation

    def settle(self, reservation: TokenReservation, tokens: int) -> None:
        """Count the call for what it used (its answer's prompt tokens; 0 when refused)."""
        reservation.tokens = tokens

    def pause(self, seconds: float) -> None:
        """Hold every call back for `seconds` from now (a 429's retry delay)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _wait(self, now: float, tokens: int) -> float:
        return max(self._paused_until - now, self._next_start - now, self._token_wait(now, tokens))

    def _token_wait(self, now: float, tokens: int) -> float:
        while self._window and self._window[0].started_at <= now - WINDOW_SECONDS:
            self._window.popleft()
        excess = sum(r.tokens for r in self._window) + tokens - self._tokens_per_minute
        freed = 0
        for reservation in self._window:
            if excess <= 0:
                break
            freed += reservation.tokens
            if freed >= excess:
                return reservation.started_at + WINDOW_SECONDS - now
        # Nothing in the window (or not enough to free): a call larger than the quota goes alone.
        return (
            0.0
            if excess <= 0 or not self._window
            else self._window[-1].started_at + WINDOW_SECONDS - now
        )
