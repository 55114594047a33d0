"""Keeping Gemini calls within the user's quotas: requests a minute, input tokens a minute, and
the pause a 429 asks for — together for every process that calls Gemini on a data folder.

- **Requests** start on a grid 60 / rpm seconds apart, and never more than rpm of them in any
  60-second window (counted from the calls started in the last one). A call that starts a little
  late (less than one interval: a process woken late on a busy machine) keeps the next on the
  grid, else every late wake-up would be time lost for good (measured with four processes on two
  cores: 0.91 of the bound before, 0.94 with the grid; docs/benchmarks.md section 11); after a
  longer lull the grid starts afresh. Concurrency is limited separately (a semaphore), so throughput is the lower of
  concurrency / latency and rpm / 60.
- **Tokens**: a call starts only when the input tokens of the calls started in the last 60 s plus
  its own estimate fit the quota (a single call larger than the quota goes alone). The estimate is
  replaced by what the answer's `usage_metadata` says once it arrives, and by nothing when the
  call was refused (a refused call uses no quota).
- **Pauses**: a 429's `RetryInfo.retryDelay` holds every call back, not only the refused one:
  the quota is the project's.
- **Shared**: the quota is the Google project's, whoever spends it: CLI runs side by side, the
  UI's runs and backfills, a process per step. With a `shared_file` (resources.py puts it beside
  the DuckDB file) the limiter's record — the next start, the pause, the last minute's calls — lives
  in that file, read and written under a lock file, so every process draws from the one quota. Its
  clock is then the wall clock, the one all processes read alike.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import filelock

WINDOW_SECONDS = 60.0
# A shared record reaching further ahead than this was written by another clock (a test's, or the
# wall clock before it was set back): no pause or spacing asks for so long, so it is started afresh.
IMPOSSIBLE_AHEAD_SECONDS = 3600.0


def shared_quota_file(database: Path) -> Path:
    """The shared record of the Gemini quota of the data folder holding `database`."""
    return database.with_name(f"{database.name}.gemini-quota.json")


@dataclass
class TokenReservation:
    """The input tokens a started call is counted for, from `started_at` for a minute."""

    started_at: float
    tokens: int
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class QuotaState:
    """What the limiter remembers: when the next call may start, until when calls are paused, and
    the calls started in the last window."""

    next_start: float = float("-inf")
    paused_until: float = float("-inf")
    window: list[TokenReservation] = field(default_factory=list)

    def forget_before(self, moment: float) -> None:
        self.window = [r for r in self.window if r.started_at > moment]

    def written_by_another_clock(self, now: float) -> bool:
        latest = max([self.next_start, self.paused_until, *(r.started_at for r in self.window)])
        return latest > now + IMPOSSIBLE_AHEAD_SECONDS

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> QuotaState:
        values = json.loads(text)
        return cls(
            next_start=values["next_start"],
            paused_until=values["paused_until"],
            window=[TokenReservation(**reservation) for reservation in values["window"]],
        )


class GeminiQuota:
    def __init__(
        self,
        requests_per_minute: float,
        tokens_per_minute: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        shared_file: Path | None = None,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        for name, value in (("requests", requests_per_minute), ("tokens", tokens_per_minute)):
            if value <= 0:
                raise ValueError(f"{name} per minute must be positive, not {value}")
        self._window_seconds = window_seconds
        self._interval = window_seconds / requests_per_minute
        self._requests_per_window = max(1, math.floor(requests_per_minute))
        self._tokens_per_minute = tokens_per_minute
        self._clock = clock
        self._sleep = sleep
        self._shared_file = shared_file
        self._memory = QuotaState()
        self._lock = asyncio.Lock()

    async def acquire(self, estimated_tokens: int = 0) -> TokenReservation:
        """Wait until a call estimated at `estimated_tokens` input tokens may start, and count it."""
        async with self._lock:  # this process's calls in turn; the file orders the processes
            while True:
                with self._state() as state:
                    now = self._clock()
                    wait = self._wait(state, now, estimated_tokens)
                    if wait <= 0:
                        on_grid = now - state.next_start < self._interval
                        state.next_start = (state.next_start if on_grid else now) + self._interval
                        reservation = TokenReservation(now, estimated_tokens)
                        state.window.append(reservation)
                        return reservation
                await self._sleep(wait)

    def settle(self, reservation: TokenReservation, tokens: int) -> None:
        """Count the call for what it used (its answer's prompt tokens; 0 when refused)."""
        reservation.tokens = tokens
        with self._state() as state:
            for counted in state.window:
                if counted.call_id == reservation.call_id:
                    counted.tokens = tokens

    def pause(self, seconds: float) -> None:
        """Hold every call back for `seconds` from now (a 429's retry delay)."""
        with self._state() as state:
            state.paused_until = max(state.paused_until, self._clock() + seconds)

    @contextmanager
    def _state(self) -> Iterator[QuotaState]:
        """The limiter's record, changed in place: this process's, or the shared file's, held
        under its lock from reading to writing back."""
        if self._shared_file is None:
            yield self._memory
            return
        with filelock.FileLock(f"{self._shared_file}.lock", is_singleton=True):
            state = _read_state(self._shared_file)
            if state.written_by_another_clock(self._clock()):
                state = QuotaState()
            yield state
            state.forget_before(self._clock() - self._window_seconds)
            _write_state(self._shared_file, state)

    def _wait(self, state: QuotaState, now: float, tokens: int) -> float:
        state.forget_before(now - self._window_seconds)
        return max(
            state.paused_until - now,
            state.next_start - now,
            self._token_wait(state, now, tokens),
            self._window_wait(state, now),
        )

    def _window_wait(self, state: QuotaState, now: float) -> float:
        """Until the window of the last 60 s (the calls started in it, oldest first) has room for
        one more call."""
        window = state.window
        if len(window) < self._requests_per_window:
            return 0.0
        return window[-self._requests_per_window].started_at + self._window_seconds - now

    def _token_wait(self, state: QuotaState, now: float, tokens: int) -> float:
        window = state.window
        excess = sum(r.tokens for r in window) + tokens - self._tokens_per_minute
        freed = 0
        for reservation in window:
            if excess <= 0:
                break
            freed += reservation.tokens
            if freed >= excess:
                return reservation.started_at + self._window_seconds - now
        # Nothing in the window (or not enough to free): a call larger than the quota goes alone.
        return (
            0.0 if excess <= 0 or not window else window[-1].started_at + self._window_seconds - now
        )


def _read_state(path: Path) -> QuotaState:
    """The shared record; a fresh one when there is none yet, or it cannot be read (the quota's
    record is advice: a lost one costs at most a minute's calls refused and retried)."""
    try:
        return QuotaState.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return QuotaState()


def _write_state(path: Path, state: QuotaState) -> None:
    """Written whole, then renamed over the record: a process killed mid-write leaves the last
    record, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(state.to_json(), encoding="utf-8")
    partial.replace(path)
