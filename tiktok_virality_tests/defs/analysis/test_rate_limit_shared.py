"""One Gemini quota for every process on a data folder: processes drawing from the shared record
beside the database together stay within the requests and tokens of any window, as one would.

Time is a fake clock the processes share (a file): a wait moves it on at once, so nothing sleeps,
and every call's start is read on the clock the limiter itself reads."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tiktok_virality.defs.analysis.rate_limit import GeminiQuota, shared_quota_file

PROCESSES = 3
CALLS = 12  # per process
REQUESTS_PER_WINDOW = 5
TOKENS_PER_WINDOW = 10_000
ESTIMATE, USED = 3_000, 2_000  # each call is estimated, then counted for what it used

# A process drawing CALLS calls from the shared quota, on the shared fake clock, writing each
# call's start and tokens as a JSON line.
DRAW_CALLS = """
import asyncio, json, sys
from pathlib import Path
import filelock
from tiktok_virality.defs.analysis.rate_limit import GeminiQuota

clock_file, quota_file, out = map(Path, sys.argv[1:4])
requests, tokens, calls, estimate, used = map(int, sys.argv[4:9])

def now() -> float:
    return float(clock_file.read_text())

async def sleep(seconds: float) -> None:
    with filelock.FileLock(f"{clock_file}.lock"):
        moved = clock_file.with_suffix(".moved")
        moved.write_text(repr(now() + seconds))
        moved.replace(clock_file)  # whole, for the readers

async def main() -> None:
    quota = GeminiQuota(requests, tokens, clock=now, sleep=sleep, shared_file=quota_file)
    with out.open("w") as lines:
        for _ in range(calls):
            reservation = await quota.acquire(estimate)
            quota.settle(reservation, used)
            lines.write(json.dumps({"start": reservation.started_at, "tokens": used}) + "\\n")

asyncio.run(main())
"""


def most_in_any_window(calls: list[dict[str, float]], key: str | None) -> float:
    starts = sorted(call["start"] for call in calls)
    return max(
        sum(call[key] if key else 1 for call in calls if start <= call["start"] < start + 60)
        for start in starts
    )


def test_processes_sharing_the_record_stay_within_the_quota_of_any_window(tmp_path: Path) -> None:
    clock_file = tmp_path / "clock"
    clock_file.write_text("1000.0")
    quota_file = shared_quota_file(tmp_path / "tiktok_virality.duckdb")
    outputs = [tmp_path / f"calls-{n}.jsonl" for n in range(PROCESSES)]

    processes = [
        subprocess.Popen(
            [sys.executable, "-c", DRAW_CALLS, str(clock_file), str(quota_file), str(out)]
            + [str(n) for n in (REQUESTS_PER_WINDOW, TOKENS_PER_WINDOW, CALLS, ESTIMATE, USED)]
        )
        for out in outputs
    ]
    assert [process.wait(timeout=120) for process in processes] == [0] * PROCESSES

    calls = [json.loads(line) for out in outputs for line in out.read_text().splitlines()]
    assert len(calls) == PROCESSES * CALLS
    assert most_in_any_window(calls, None) <= REQUESTS_PER_WINDOW
    assert most_in_any_window(calls, "tokens") <= TOKENS_PER_WINDOW
    # Bound by tokens (5 calls of 2000 settled fill a window): about five calls a minute overall,
    # where three unshared limiters would have let fifteen through.
    minutes = (max(c["start"] for c in calls) - min(c["start"] for c in calls)) / 60
    assert len(calls) / (minutes + 1) <= REQUESTS_PER_WINDOW


def test_a_pause_asked_for_in_one_process_holds_back_another(tmp_path: Path) -> None:
    now = [500.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    shared = tmp_path / "quota.json"
    refused, other = (
        GeminiQuota(60, 10**9, clock=lambda: now[0], sleep=sleep, shared_file=shared)
        for _ in range(2)
    )

    refused.pause(17)  # a 429 with a RetryInfo of 17 s, met by the first
    asyncio.run(other.acquire())

    assert now[0] == pytest.approx(517)


def test_a_record_of_another_clock_is_started_afresh(tmp_path: Path) -> None:
    shared = tmp_path / "quota.json"
    wall = GeminiQuota(60, 10**9, clock=lambda: 1.8e9, shared_file=shared)
    wall.pause(30)
    now = [100.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    asyncio.run(
        GeminiQuota(60, 10**9, clock=lambda: now[0], sleep=sleep, shared_file=shared).acquire()
    )

    assert now[0] == 100.0
