import asyncio

import pytest

from tiktok_virality.defs.analysis.rate_limit import RequestRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.starts: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_requests_are_spaced_so_no_minute_exceeds_the_quota() -> None:
    clock = FakeClock()
    limiter = RequestRateLimiter(120, clock=clock.time, sleep=clock.sleep)

    async def request() -> None:
        await limiter.acquire()
        clock.starts.append(clock.now)

    async def burst() -> None:
        await asyncio.gather(*(request() for _ in range(300)))

    asyncio.run(burst())

    starts = sorted(clock.starts)
    assert starts[1] - starts[0] == pytest.approx(0.5)
    assert max(sum(1 for s in starts if t <= s < t + 60) for t in starts) == 120


def test_an_idle_limiter_lets_the_next_request_start_at_once() -> None:
    clock = FakeClock()
    limiter = RequestRateLimiter(60, clock=clock.time, sleep=clock.sleep)

    asyncio.run(limiter.acquire())
    clock.now += 10
    asyncio.run(limiter.acquire())

    assert clock.now == 110.0


def test_a_quota_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestRateLimiter(0)
