"""Helpers that several test modules share (test modules do not import one another): CLI inputs and
what a run stored, a data folder for commands that must be refused, the Gemini analyzer's input
against the fakes, and the bundled sample as the model gets it. The fixtures are in conftest.py.
"""

import json
import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest
from apify_client import ApifyClient

from tiktok_virality.cli.main import EXIT_USAGE, main
from tiktok_virality.config import Settings
from tiktok_virality.defs.analysis.cache import AnalysisCache
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.analysis.offline import analyze_offline
from tiktok_virality.defs.datasets.dataset import Dataset, DatasetSource, ScrapeLimits
from tiktok_virality.defs.datasets.sample import generate_sample_items
from tiktok_virality.defs.features.build import build_features
from tiktok_virality.defs.scraping.normalize import normalize_items
from tiktok_virality.defs.scraping.quality import QualityThresholds, apply_quality_rules
from tiktok_virality.resources import gemini_analyzer
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import FakeGemini

# --- CLI inputs and what a run stored -----------------------------------------------------------

DATABASE_FILE = "tiktok_virality.duckdb"


def accounts_dataset(name: str = "v1") -> Dataset:
    """A dataset of accounts to scrape, with the default limits and thresholds."""
    now = datetime(2026, 12, 7, tzinfo=UTC)
    return Dataset(
        name=name,
        source=DatasetSource.ACCOUNTS,
        origin="accounts.txt",
        batch_size=5,
        limits=ScrapeLimits(15, 500),
        created_at=now,
        updated_at=now,
        export_scraped_at=None,
        thresholds=QualityThresholds(),
    )


def accounts_file(directory: Path, *accounts: str) -> Path:
    path = directory / "accounts.txt"
    path.write_text("".join(f"{account}\n" for account in accounts), encoding="utf-8")
    return path


def query(data_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data_dir / DATABASE_FILE), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def recent_copies(items: list[dict], now: datetime) -> list[dict]:
    """The real items, posted in the last days (the fixture's dates are older than the max age)."""
    copies = []
    for days, item in enumerate(items, start=1):
        posted = now - timedelta(days=days)
        copies.append(
            {**item, "createTime": int(posted.timestamp()), "createTimeISO": posted.isoformat()}
        )
    return copies


def real_items(apify_fixtures: Path) -> list[dict[str, Any]]:
    """The real export's items, posted in the last days (its dates are older than the max age)."""
    items = json.loads((apify_fixtures / "profile_items_2025.json").read_text(encoding="utf-8"))
    return recent_copies(items, datetime.now(UTC))


# --- a data folder for commands that must be refused --------------------------------------------

# The file that marks the `populated` folder as built to the end.
BUILT = "built"
# Where every command's failure is logged (refused ones too), relative to the folder it ran in.
ERROR_LOG = Path("logs") / "errors.log"


def use_folder(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Run the CLI with its data folder and logs in `root`, without credentials."""
    monkeypatch.setenv("TIKTOK_VIRALITY_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(root / "data" / "dagster_home"))
    monkeypatch.setenv("TIKTOK_VIRALITY_LOG_DIR", str(root / "logs"))
    monkeypatch.delenv("TIKTOK_VIRALITY_DATABASE", raising=False)
    monkeypatch.delenv("APIFY_API_TOKEN", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.chdir(root)


def stored_state(data: Path) -> dict[str, Any]:
    """Everything a command could have written in the data folder: each DuckDB table's columns,
    row count and a checksum of its rows, and the partition keys and runs of the Dagster home."""
    state: dict[str, Any] = {}
    if (data / DATABASE_FILE).exists():
        with duckdb.connect(str(data / DATABASE_FILE), read_only=True) as connection:
            tables = connection.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY 1"
            ).fetchall()
            for (table,) in tables:
                quoted = '"' + table.replace('"', '""') + '"'
                state[table] = (
                    connection.execute(f"DESCRIBE {quoted}").fetchall(),
                    connection.execute(
                        f"SELECT count(*), bit_xor(hash(t)) FROM {quoted} t"
                    ).fetchall(),
                )
    if (data / "dagster_home").exists():
        with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
            state["partition keys"] = {
                dimension: sorted(instance.get_dynamic_partitions(dimension))
                for dimension in ("dataset", "batch")
            }
            state["runs"] = len(instance.get_run_records())
    return state


def files_under(root: Path) -> set[Path]:
    return {path.relative_to(root) for path in root.rglob("*")}


def assert_refused_writing_nothing(
    root: Path, commands: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """Run commands that must each be refused (exit 2) and write nothing in `root` but their
    failure in the error log; returns their error output, one per command."""
    state, files = stored_state(root / "data"), files_under(root) - {ERROR_LOG}
    errors = []
    for command in commands:
        try:
            exit_code = main(command)
        except SystemExit as exited:  # refused by the argument parser
            exit_code = exited.code
        error = capsys.readouterr().err
        assert exit_code == EXIT_USAGE, (command, error)
        errors.append(error)
    assert stored_state(root / "data") == state
    assert files_under(root) - {ERROR_LOG} == files
    return errors


# --- the Gemini analyzer's input, against the fakes ---------------------------------------------

GEMINI_KEY = "gemini-canary-key-51aa"
APIFY_TOKEN = "apify-canary-token-77c2"
LOG = logging.getLogger("test")
SMALL = b"\x00\x00\x00\x18ftypmp42" + b"v" * 2_000


def video_urls(
    fake_apify: FakeApify, files: dict[str, bytes | tuple[bytes, str]]
) -> dict[str, str]:
    """The files as records of a scrape run's key-value store, as Apify keeps downloaded videos."""
    records = {k: v if isinstance(v, tuple) else (v, "video/mp4") for k, v in files.items()}
    fake_apify.on_run(lambda run_input, params: RunScript(records=records))
    ApifyClient(APIFY_TOKEN, api_url=fake_apify.url).actor("clockworks/tiktok-scraper").start()
    store = fake_apify.runs[-1].default_key_value_store_id
    return {key: f"{fake_apify.url}/v2/key-value-stores/{store}/records/{key}" for key in files}


def fake_gemini_analyzer(
    settings: Settings, cache: AnalysisCache, fake_gemini: FakeGemini, **options: Any
) -> GeminiAnalyzer:
    """The live analyzer against the fake Gemini: quotas that never hold a call, two quick
    attempts per call; `options` (keywords of `resources.gemini_analyzer`) change any of it."""
    return gemini_analyzer(
        settings,
        cache,
        **{
            "api_key": GEMINI_KEY,
            "base_url": fake_gemini.url,
            "requests_per_minute": 60_000,
            "tokens_per_minute": 10**9,
            "retry_attempts": 2,
            "initial_retry_delay_seconds": 0.01,
            **options,
        },
    )


def videos(*rows: dict[str, Any]) -> pd.DataFrame:
    """Videos for the analyzer: the columns it reads, each video with a caption of its own."""
    defaults = {
        "dataset": "v1",
        "batch": "b001",
        "account": "meenitech",
        "video_url": None,
        "cover_url": None,
        "is_slideshow": False,
        "hashtags": ["tech"],
        "music_name": "original sound",
        "music_original": True,
        "duration_seconds": 20,
        "language": "en",
    }
    return pd.DataFrame(
        [{**defaults, **row, "caption": f"video {row['video_id']}"} for row in rows]
    )


# --- the bundled sample as the model gets it ----------------------------------------------------

SAMPLE_SCRAPED_AT = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)


def sample_model_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled sample as the model asset gets it: `video_features` and `raw_videos` of the
    videos that pass quality control, analysed offline."""
    return model_inputs_of_items(
        generate_sample_items(scraped_at=SAMPLE_SCRAPED_AT), SAMPLE_SCRAPED_AT
    )


def model_inputs_of_items(
    items: list[dict[str, Any]], scraped_at: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items as the model asset gets them (`video_features`, `raw_videos`), in one partition."""
    scraped = normalize_items(items, dataset="demo", batch="b001", scraped_at=scraped_at).videos
    raw_videos = apply_quality_rules(scraped, QualityThresholds()).accepted
    features = build_features(raw_videos, analyze_offline(raw_videos, analyzed_at=scraped_at))
    return features, raw_videos


def hold_lock(database: Path) -> subprocess.Popen[str]:
    """A process holding the DuckDB file open (as a notebook would) until its stdin gets a line."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(database)!r}); print('held', flush=True); "
            "sys.stdin.readline(); c.close()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder
