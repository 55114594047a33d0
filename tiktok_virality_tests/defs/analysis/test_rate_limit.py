import asyncio

import pytest

from tiktok_virality.defs.analysis.rate_limit import GeminiQuota

AMPLE = 10**9  # tokens a minute that never bind


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.starts: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def quota(clock: FakeClock, rpm: float = 60_000, tpm: float = AMPLE) -> GeminiQuota:
    return GeminiQuota(rpm, tpm, clock=clock.time, sleep=clock.sleep)


def test_requests_are_spaced_so_no_minute_exceeds_the_quota() -> None:
    clock = FakeClock()
    limiter = quota(clock, rpm=120)

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
    limiter = quota(clock, rpm=60)

    asyncio.run(limiter.acquire())
    clock.now += 10
    asyncio.run(limiter.acquire())

    assert clock.now == 110.0


def test_a_call_started_a_little_late_keeps_the_next_on_the_grid() -> None:
    clock = FakeClock()
    limiter = quota(clock, rpm=60)
    asyncio.run(limiter.acquire())  # at 100: the next at 101

    clock.now = 101.3  # woken 0.3 s late
    asyncio.run(limiter.acquire())
    asyncio.run(limiter.acquire())

    assert clock.now == pytest.approx(102.0)  # not 102.3: the late start lost no time


def test_after_a_lull_the_grid_starts_afresh() -> None:
    clock = FakeClock()
    limiter = quota(clock, rpm=60)
    asyncio.run(limiter.acquire())

    clock.now = 110.0
    asyncio.run(limiter.acquire())
    asyncio.run(limiter.acquire())

    assert clock.now == pytest.approx(111.0)  # one interval after the call that found it idle


def test_late_starts_kept_on_the_grid_never_put_more_than_the_quota_in_a_minute() -> None:
    clock = FakeClock()
    limiter = quota(clock, rpm=2)  # a grid of 30 s
    asyncio.run(limiter.acquire())  # at 100: the next at 130
    clock.now = 159.9  # late by 29.9 s: the next stays at 160
    asyncio.run(limiter.acquire())

    asyncio.run(limiter.acquire())  # at 160
    asyncio.run(limiter.acquire())  # its grid slot, 190, would be a third call since 159.9

    assert clock.now == pytest.approx(219.9)


def test_calls_wait_until_their_tokens_fit_the_minute() -> None:
    clock = FakeClock()
    limiter = quota(clock, tpm=25_000)

    async def calls() -> None:
        for _ in range(5):
            await limiter.acquire(10_000)
            clock.starts.append(clock.now)

    asyncio.run(calls())

    # Two calls fit a minute; each further one waits for the oldest to leave the window.
    assert [round(s - 100, 3) for s in clock.starts] == [0, 0.001, 60, 60.001, 120]


def test_a_call_is_counted_for_what_its_answer_says_it_used() -> None:
    clock = FakeClock()
    limiter = quota(clock, tpm=25_000)

    async def calls() -> None:
        first = await limiter.acquire(20_000)
        limiter.settle(first, 2_000)  # the estimate was ten times too high
        await limiter.acquire(20_000)

    asyncio.run(calls())

    assert clock.now == pytest.approx(100.001)


def test_a_call_larger_than_the_quota_goes_alone() -> None:
    clock = FakeClock()
    limiter = quota(clock, tpm=1_000)

    asyncio.run(limiter.acquire(5_000))

    assert clock.now == 100.0


def test_a_pause_holds_every_call_back() -> None:
    clock = FakeClock()
    limiter = quota(clock)

    limiter.pause(17)
    asyncio.run(limiter.acquire())

    assert clock.now == pytest.approx(117)


@pytest.mark.parametrize(("rpm", "tpm"), [(0, 1), (1, 0)])
def test_quotas_must_be_positive(rpm: float, tpm: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        GeminiQuota(rpm, tpm)
