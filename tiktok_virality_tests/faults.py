"""Shared by the reliability tests: a dataset of accounts that the fake Apify scrapes (the bundled
sample, each run dated alike so that two scrapes store the same rows), the tables of a run that was
never disturbed, and a CLI whose processes kill themselves (SIGKILL) at a chosen point.

Its fixtures are registered in conftest.py and module-scoped, like those of :mod:`.live_cli`.
"""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from tiktok_virality.defs.datasets.sample import SAMPLE_ACCOUNTS
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini, RecordedRequest
from tiktok_virality_tests.live_cli import (
    WatchingGemini,
    cli,
    cli_env,
    finished,
    tables,
    video_of,
)

REPOSITORY = Path(__file__).resolve().parents[1]
KILL_HOOK = Path(__file__).resolve().parent / "kill_hook"
SCRAPED_DATASET = "live"
# Every fake actor run of a module finishes at this moment: the pipeline dates a scrape by its
# run's end (`scraped_at`, and the ages counted from it), so all scrapes of the sample store alike.
SCRAPE_FINISHED_AT = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def sample_accounts(
    tmp_path_factory: pytest.TempPathFactory, module_fake_apify: FakeApify, sample_export: Path
) -> Path:
    """An accounts file of the bundled sample's accounts (one does not exist), which the fake
    Apify scrapes: each actor run serves the sample export's items of the profiles it was given,
    whose video files the fake serves too."""
    module_fake_apify.items_by_profile = {}
    for item in json.loads(sample_export.read_text(encoding="utf-8")):
        if "authorMeta" in item:
            module_fake_apify.items_by_profile.setdefault(item["authorMeta"]["name"], []).append(
                item
            )
    module_fake_apify.on_run(
        lambda run_input, params: replace(
            module_fake_apify.default_run_handler(run_input, params), finished_at=SCRAPE_FINISHED_AT
        )
    )
    path = tmp_path_factory.mktemp("accounts") / "accounts.txt"
    path.write_text("".join(f"{account}\n" for account in SAMPLE_ACCOUNTS), encoding="utf-8")
    return path


def scrape_env(data: Path, fake_apify: FakeApify, fake_gemini: FakeGemini) -> dict[str, str]:
    """The CLI's environment for a dataset scraped through the fake Apify."""
    return cli_env(data, fake_apify, fake_gemini) | {"APIFY_API_TOKEN": "apify-token-for-tests"}


def all_tables(data: Path) -> dict[str, pd.DataFrame]:
    """The asset tables (see :func:`.live_cli.tables`) and the errors the partitions recorded."""
    frames = tables(data)
    # A scraped video's file is a record of the key-value store of the actor run that scraped it
    # (its URL, and the item's `mediaUrls`): another run (the undisturbed one) has another store.
    frames = {
        name: frame.replace(
            r"/key-value-stores/[^/]+/records/", "/key-value-stores/RUN-STORE/records/", regex=True
        )
        for name, frame in frames.items()
    }
    with duckdb.connect(str(data / "tiktok_virality.duckdb"), read_only=True) as connection:
        frames["errors"] = connection.sql(
            "SELECT * EXCLUDE (recorded_at) FROM errors ORDER BY ALL"
        ).df()
    return frames


def assert_tables_equal(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert actual.keys() == expected.keys()
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(actual[name], frame, obj=name)


@dataclass(frozen=True)
class Undisturbed:
    """The tables of a scrape-and-analyse run that nothing disturbed, and what it cost."""

    tables: dict[str, pd.DataFrame]
    actor_runs: int
    gemini_calls: int


@dataclass(frozen=True)
class ScrapedRun:
    """A CLI run of the sample's accounts through the fake Apify: how it ended, what it printed,
    the Gemini calls it made (per video) and the actor runs it started."""

    code: int | None
    output: str
    gemini: WatchingGemini
    actor_runs: int


def run_sample_accounts(
    data: Path,
    sample_accounts: Path,
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    parallel: int,
) -> ScrapedRun:
    gemini = WatchingGemini(fake_gemini)
    fake_gemini.on_generate(gemini)
    runs_before = len(fake_apify.runs)
    code, output = finished(
        cli(
            scrape_env(data, fake_apify, fake_gemini),
            "run",
            "--dataset",
            SCRAPED_DATASET,
            "--accounts",
            str(sample_accounts),
            "--parallel",
            str(parallel),
        )
    )
    return ScrapedRun(code, output, gemini, len(fake_apify.runs) - runs_before)


@pytest.fixture(scope="module")
def undisturbed_scrape(
    tmp_path_factory: pytest.TempPathFactory,
    sample_accounts: Path,
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> Undisturbed:
    data = tmp_path_factory.mktemp("undisturbed") / "data"
    # One batch after the other, whole: what runs side by side, scraped ahead, is compared with.
    run = run_sample_accounts(data, sample_accounts, module_fake_apify, module_fake_gemini, 1)
    assert run.code == 0, run.output
    assert set(run.gemini.calls.values()) == {1}
    return Undisturbed(all_tables(data), run.actor_runs, sum(run.gemini.calls.values()))


def video_key(request: RecordedRequest) -> str:
    """What tells Gemini requests apart for :meth:`FakeGemini.fail_at_rate`: the video a
    generateContent body carries (other requests by their path)."""
    if isinstance(request.json, dict) and "contents" in request.json:
        return video_of(request.json)
    return f"{request.method} {request.path}"


def opens_cleanly(database: Path) -> dict[str, int]:
    """Open the file for writing as the next run would, and count every table's rows."""
    with duckdb.connect(str(database)) as connection:
        names = [row[0] for row in connection.sql("SHOW TABLES").fetchall()]
        counts = {
            name: connection.sql(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
            for name in names
        }
        connection.execute("CHECKPOINT")
    return counts


# ----------------------------------------------------------------------------- kill points


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_inside_write(table: str) -> None:
    """SIGKILL once the IO manager's transaction has replaced `table`'s partition rows, before it
    commits."""
    from tiktok_virality.warehouse import io_manager
    from tiktok_virality.warehouse.storage import quote_identifier

    insert = f"INSERT INTO {quote_identifier(table)} "
    real_transaction = io_manager.transaction

    class KilledBeforeCommit:
        def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
            self._connection = connection

        def execute(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
            result = self._connection.execute(sql, *args)
            if sql.startswith(insert):
                _kill_self()
            return result

        def __getattr__(self, name: str) -> Any:
            return getattr(self._connection, name)

    @contextmanager
    def transaction(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with real_transaction(*args, **kwargs) as connection:
            yield KilledBeforeCommit(connection)

    io_manager.transaction = transaction  # type: ignore[assignment]


def _kill_when_analysis_starts() -> None:
    """SIGKILL as the analysis step begins: the batch's scrape is stored, no video is analysed."""
    from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer

    def analyze(self: GeminiAnalyzer, videos: pd.DataFrame, log: Any, **options: Any) -> Any:
        _kill_self()

    GeminiAnalyzer.analyze = analyze  # type: ignore[method-assign]


def _kill_once_the_actor_run_started() -> None:
    """SIGKILL once the batch's Apify run has started, before its id is stored."""
    from tiktok_virality.defs.scraping.ledger import ScrapeLedger

    def remember_scrape_run(self: ScrapeLedger, *args: Any) -> None:
        _kill_self()

    ScrapeLedger.remember_scrape_run = remember_scrape_run  # type: ignore[method-assign]


KILL_POINTS: dict[str, Callable[[], None]] = {
    "actor-run-started-not-recorded": _kill_once_the_actor_run_started,
    "writing-raw_videos": lambda: _kill_inside_write("raw_videos"),
    "writing-video_analyses": lambda: _kill_inside_write("video_analyses"),
    "writing-video_features": lambda: _kill_inside_write("video_features"),
    "writing-model_runs": lambda: _kill_inside_write("model_runs"),
    "between-scraping-and-analysis": _kill_when_analysis_starts,
}
"""Where :func:`killing_cli` kills the CLI: once a batch's Apify run has started, before its id is
stored; inside the DuckDB transaction that stores a table's partition (after its rows are
replaced, before COMMIT); or as the analysis of a scraped batch begins."""


def killing_cli(env: dict[str, str], kill_point: str, *args: str) -> subprocess.Popen[str]:
    """The CLI, as :func:`.live_cli.cli` runs it, whose processes (the CLI and its partition
    workers) each SIGKILL themselves at `kill_point` (one of :data:`KILL_POINTS`): see
    ``kill_hook/sitecustomize.py``."""
    if kill_point not in KILL_POINTS:
        raise ValueError(f"unknown kill point {kill_point!r}: one of {sorted(KILL_POINTS)}")
    return subprocess.Popen(
        [sys.executable, "-m", "tiktok_virality.cli.main", *args],
        env=env
        | {
            "PYTHONPATH": os.pathsep.join([str(KILL_HOOK), str(REPOSITORY)]),
            "TIKTOK_VIRALITY_TESTS_KILL_POINT": kill_point,
        },
        cwd=Path(env["TIKTOK_VIRALITY_DATA_DIR"]).parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
