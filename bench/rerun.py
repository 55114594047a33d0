"""5. Re-run cost: a live run with transient failures injected at the fake Apify and Gemini, then
`run --retry-failed` until every partition is done; every paid call is counted at the fakes.

Paid calls are actor runs (`POST …/runs`) and `generateContent` requests. A call on the retry is
classified by what it is for: a call that had failed, a call that had succeeded (waste), or work
the failure had kept from starting (the analyses of a batch whose scrape failed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.core import Benchmark, Measurement, ResultTable, Verdict, column, share
from bench.fakes import (
    APIFY_TOKEN,
    GEMINI_KEY,
    VIDEO_ID_IN_TEXT,
    ConcurrentFakeApify,
    stored_files,
)
from bench.pipeline import Workspace
from tiktok_virality.config import (
    APIFY_TOKEN_VARIABLE,
    APIFY_URL_VARIABLE,
    GEMINI_KEY_VARIABLES,
    GEMINI_RPM_VARIABLE,
    GEMINI_URL_VARIABLE,
)
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import GENERATE_PATH, FakeGemini, request_text

_DATASET = "rerun"
_RUN_STARTS = r"/runs$"
_MAX_RETRIES = 3
_VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 2_000
_ALWAYS = 1_000_000


@dataclass(frozen=True)
class RerunConfig:
    accounts: int
    batch_size: int
    videos_per_account: int
    # One generateContent request in this many fails; so does the run of one batch.
    failing_one_in: int = 10


# 10 batches, one of whose runs fails: 10% of the runs, and of the requests.
FULL = RerunConfig(accounts=20, batch_size=2, videos_per_account=15)
SMOKE = RerunConfig(accounts=2, batch_size=1, videos_per_account=5, failing_one_in=3)


@dataclass(frozen=True)
class CallsRow:
    calls: str = column("paid calls")
    first_run: int = column("first run")
    failed: int = column("failed in the first run")
    retry: int = column("on the retry")
    repeat_failed: int = column("repeating a failed call (either run)")
    repeat_succeeded: int = column("repeating a call that had succeeded")
    first_time: int = column("on the retry, first calls for work the failure held back")
    ratio: float = column("repeats ÷ failed", "{:.2f}")


@dataclass(frozen=True)
class _Calls:
    """The paid calls of one API in the order made, each named by what it was for."""

    first_run: list[str]
    failed: list[str]  # one entry per failed call: a video may fail twice
    retry: list[str]

    def row(self, name: str) -> CallsRow:
        """A call for something already called for is a repeat, in the first run (the analyzer
        retries an answer lost on the way at once) or on the retry."""
        seen: set[str] = set()
        repeat_failed = repeat_succeeded = 0
        for call in [*self.first_run, *self.retry]:
            if call in seen:
                repeat_failed += call in self.failed
                repeat_succeeded += call not in self.failed
            seen.add(call)
        first_time = sum(1 for call in self.retry if call not in self.first_run)
        return CallsRow(
            calls=name,
            first_run=len(self.first_run),
            failed=len(self.failed),
            retry=len(self.retry),
            repeat_failed=repeat_failed,
            repeat_succeeded=repeat_succeeded,
            first_time=first_time,
            ratio=share(repeat_failed + repeat_succeeded, len(self.failed)),
        )


class _Failures:
    """Transient failures, each call failing once: the actor run of one batch ends FAILED at Apify,
    and one generateContent request in `one_in` loses its connection at Gemini (the analyzer asks
    again at once, in the same run)."""

    def __init__(
        self, apify: FakeApify, gemini: FakeGemini, failing_batch: str, one_in: int
    ) -> None:
        self.failed_runs: list[str] = []
        self.failed_videos: list[str] = []
        self._apify = apify
        self._failing_batch = failing_batch
        self._one_in = one_in
        self._requests = 0
        apify.on_run(self._run)
        # Evaluated for every generateContent request (under the fake's lock) until cleared.
        gemini.reset_connection_next(GENERATE_PATH, method="POST", times=_ALWAYS, when=self._resets)

    def _run(self, run_input: dict[str, Any], params: dict[str, str]) -> RunScript:
        batch = _batch_name(run_input)
        if batch == self._failing_batch and batch not in self.failed_runs:
            self.failed_runs.append(batch)
            return RunScript(status="FAILED", status_message="injected transient failure")
        return self._apify.default_run_handler(run_input, params)

    def _resets(self, request: Any) -> bool:
        self._requests += 1
        if self._requests % self._one_in:
            return False
        self.failed_videos.append(_video_of(request.json))
        return True


def _batch_name(run_input: dict[str, Any]) -> str:
    return " ".join(run_input.get("profiles") or [])


def _video_of(request_json: Any) -> str:
    found = VIDEO_ID_IN_TEXT.search(request_text(request_json) if request_json else "")
    return found.group(0) if found else "?"


def measure(config: RerunConfig, work_dir: Path) -> Measurement:
    accounts = [f"rerun{number:03d}" for number in range(config.accounts)]
    batches = [
        accounts[start : start + config.batch_size]
        for start in range(0, len(accounts), config.batch_size)
    ]
    with ConcurrentFakeApify() as apify, FakeGemini() as gemini:
        items = synthetic.apify_items(
            accounts,
            scraped_at=datetime.now(UTC),
            videos_per_account=config.videos_per_account,
            media_url=stored_files(apify, {"video": _VIDEO})["video"],
        )
        apify.items_by_profile = items
        workspace = Workspace(
            work_dir,
            {
                APIFY_TOKEN_VARIABLE: APIFY_TOKEN,
                APIFY_URL_VARIABLE: apify.url,
                GEMINI_KEY_VARIABLES[0]: GEMINI_KEY,
                GEMINI_URL_VARIABLE: gemini.url,
                GEMINI_RPM_VARIABLE: "60000",
            },
        )
        accounts_file = work_dir / "accounts.txt"
        accounts_file.write_text("".join(f"{a}\n" for a in accounts), encoding="utf-8")
        runs_before = len(apify.runs)
        failures = _Failures(
            apify, gemini, " ".join(batches[len(batches) // 2]), config.failing_one_in
        )
        first = workspace.cli(
            [
                "run",
                "--dataset",
                _DATASET,
                "--accounts",
                str(accounts_file),
                "--batch-size",
                str(config.batch_size),
                "--videos-per-account",
                str(config.videos_per_account),
            ]
        )
        if first.exit_code != 1:
            raise RuntimeError(f"the first run should fail some partitions: {first.output[-2000:]}")
        first_runs = [_batch_name(run.input) for run in apify.runs[runs_before:]]
        first_generates = [_video_of(r.json) for r in gemini.generate_requests]
        # The services recover.
        gemini.clear_faults()
        apify.on_run(None)
        retries = _retry_until_done(workspace)
        runs = _Calls(
            first_runs,
            failures.failed_runs,
            [_batch_name(run.input) for run in apify.runs[runs_before + len(first_runs) :]],
        )
        generates = _Calls(
            first_generates,
            failures.failed_videos,
            [_video_of(r.json) for r in gemini.generate_requests[len(first_generates) :]],
        )
        posted = len(apify.requests_to("POST", _RUN_STARTS)) - runs_before
    if posted != len(runs.first_run) + len(runs.retry):
        raise RuntimeError(f"{posted} run starts for {len(runs.first_run) + len(runs.retry)} runs")
    rows = [runs.row("Apify actor runs"), generates.row("Gemini generateContent")]
    return _measurement(config, len(batches), retries, rows)


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _retry_until_done(workspace: Workspace) -> int:
    """How many `run --retry-failed` it took for every partition to be done."""
    for retries in range(1, _MAX_RETRIES + 1):
        if workspace.cli(["run", "--dataset", _DATASET, "--retry-failed"]).exit_code == 0:
            return retries
    raise RuntimeError(f"partitions still failing after {_MAX_RETRIES} retries")


def _measurement(
    config: RerunConfig, batches: int, retries: int, rows: Sequence[CallsRow]
) -> Measurement:
    failed = sum(row.failed for row in rows)
    repeats = sum(row.repeat_failed + row.repeat_succeeded for row in rows)
    wasted = sum(row.repeat_succeeded for row in rows)
    held_back = sum(row.first_time for row in rows)
    ratio = share(repeats, failed)
    return Measurement(
        method=(
            f"A live dataset of {config.accounts} accounts in {batches} batches of "
            f"{config.batch_size} ({config.videos_per_account} videos each) is run by "
            "`tiktok-virality run --accounts …` in a child process against the fake Apify and "
            f"Gemini. Injected in the first run, each call failing once: the actor run of one of "
            f"the {batches} batches ends FAILED, and one generateContent request in "
            f"{config.failing_one_in} loses its connection (a transient failure the SDK does not "
            "retry; the analyzer asks again at once, in the same run). The services then recover and "
            f"`run --retry-failed` is repeated until it exits 0 ({_times(retries)} here). Calls "
            "are counted at the fakes and named by batch (actor runs) or by the video id in the "
            "prompt (generateContent)."
        ),
        tables=[ResultTable("Paid calls, first run and retry", rows)],
        verdicts=[
            Verdict(
                "calls on the retry ÷ calls that had failed = 1.0 exactly",
                f"{ratio:.2f}: {repeats} repeated calls for {failed} failed ones, {wasted} "
                f"repeating a call that had succeeded; plus {held_back} first calls",
                repeats == failed and wasted == 0,
            )
        ],
        notes=[
            f"The {held_back} first calls on the retry are the analyses of the batch whose scrape "
            "had failed: its videos were unknown until the retry scraped them, so they were never "
            "called before and are not a cost of the failure. Counted with them, the retry made "
            f"{sum(row.retry for row in rows)} calls for {failed} failed ones.",
            "A retry starts each failed partition at its failed phase: a batch whose analysis "
            "failed is not scraped again (its run is not repeated), and the analysis cache keeps "
            "every answer that arrived, so only the videos that failed are sent again.",
        ],
    )


BENCHMARK = Benchmark(
    key="rerun",
    title="5. Re-run cost after transient failures",
    full=FULL,
    smoke=SMOKE,
    measure=measure,
)
