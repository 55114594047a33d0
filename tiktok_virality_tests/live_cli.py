"""Real CLI runs, in their own processes, against the fake Apify and Gemini servers: the bundled
sample as an Apify export whose video files the fake Apify serves, a fake Gemini that answers each
video with values of its own and can hold calls (to stop a run at a chosen point), and the tables
of a run that was never disturbed, to compare with.

Its fixtures are registered in conftest.py and module-scoped: the CLI runs they make are shared by
the tests of a module, which talk to the same `module_fake_apify` and `module_fake_gemini`.
"""

import base64
import json
import os
import subprocess
import sys
import threading
import zlib
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest
from apify_client import ApifyClient

from tiktok_virality.defs.datasets.operations import import_export_file
from tiktok_virality.defs.datasets.registry import REGISTRY_SCHEMA, DatasetRegistry
from tiktok_virality.defs.datasets.sample import generate_sample_items
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality.warehouse.tables import ASSET_TABLES
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import FakeGemini, GenerateScript, request_text

SCRAPED_AT = datetime(2026, 11, 1, 12, tzinfo=UTC)
VIDEO_HEADER = b"\x00\x00\x00\x18ftypmp42"
# Columns that say when the work was done, not what it found.
WHEN_DONE = {"analyzed_at", "trained_at"}


@pytest.fixture(scope="module")
def sample_export(tmp_path_factory: pytest.TempPathFactory, module_fake_apify: FakeApify) -> Path:
    """The bundled sample's items as an Apify export whose video files the fake Apify serves,
    each file naming its video (so the fake Gemini can tell which video it is asked about)."""
    items = generate_sample_items(scraped_at=SCRAPED_AT)
    videos = [item for item in items if "id" in item]
    module_fake_apify.on_run(
        lambda run_input, params: RunScript(
            records={
                item["id"]: (VIDEO_HEADER + f"video:{item['id']}".encode(), "video/mp4")
                for item in videos
            }
        )
    )
    ApifyClient("token", api_url=module_fake_apify.url).actor("clockworks/tiktok-scraper").start()
    store = module_fake_apify.runs[-1].default_key_value_store_id
    for item in videos:
        item["mediaUrls"] = [
            f"{module_fake_apify.url}/v2/key-value-stores/{store}/records/{item['id']}"
        ]
    path = tmp_path_factory.mktemp("export") / "sample_export.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def video_of(request_json: dict[str, Any]) -> str:
    """The video id a request carries in its file; a slideshow (no file) by its prompt."""
    for content in request_json["contents"]:
        for part in content["parts"]:
            data = base64.b64decode(part.get("inlineData", {}).get("data", ""))
            if data.startswith(VIDEO_HEADER):
                return data.removeprefix(VIDEO_HEADER).decode().removeprefix("video:")
    return request_text(request_json)


class WatchingGemini:
    """Answers each video with values of its own (so a mixed-up row would show), counts the calls
    per video, and can hold every call from the `stop_at`-th on until released."""

    def __init__(self, fake: FakeGemini, stop_at: int | None = None) -> None:
        self.fake = fake
        self.stop_at = stop_at
        self.calls: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.reached = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request_json: dict[str, Any]) -> GenerateScript:
        video = video_of(request_json)
        with self._lock:
            self.calls[video] += 1
            held = self.stop_at is not None and sum(self.calls.values()) >= self.stop_at
        if held:
            self.reached.set()
            self.release.wait(timeout=60)
        answer = self.fake.default_json(request_json)
        answer["hook_score"] = zlib.crc32(video.encode()) % 11
        answer["humor_score"] = zlib.crc32(video.encode()) % 7
        with self._lock:
            self.answered[video] += 1
        return GenerateScript(json_value=answer)


def cli_env(data: Path, fake_apify: FakeApify, fake_gemini: FakeGemini) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TIKTOK_VIRALITY_", "APIFY_", "GOOGLE_", "GEMINI_", "DAGSTER_"))
    }
    return env | {
        "TIKTOK_VIRALITY_DATA_DIR": str(data),
        "DAGSTER_HOME": str(data / "dagster_home"),
        "APIFY_API_URL": fake_apify.url,
        "GOOGLE_API_KEY": "gemini-key-for-tests",
        "GOOGLE_GEMINI_BASE_URL": fake_gemini.url,
        "GEMINI_REQUESTS_PER_MINUTE": "60000",
        # The fakes answer at once: the quotas are tested on their own, not waited for here.
        "GEMINI_TOKENS_PER_MINUTE": "1000000000",
        "GEMINI_CONCURRENCY": "4",
    }


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tiktok_virality.cli.main", *args],
        env=env,
        cwd=Path(env["TIKTOK_VIRALITY_DATA_DIR"]).parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=180)
    return process.returncode, output


def import_sample(data: Path, export: Path, datasets: Sequence[str] = ("cut",)) -> None:
    """What `dataset import --dataset NAME EXPORT --scraped-at SCRAPED_AT --batch-size 5` does, for
    each name."""
    (data / "dagster_home").mkdir(parents=True, exist_ok=True)  # or configured (Postgres)
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        database = data / "tiktok_virality.duckdb"
        migrate(database, [REGISTRY_SCHEMA])
        registry = DatasetRegistry(database=str(database))
        for dataset in datasets:
            # Five accounts a batch, as the sample is planned: two partitions, so that a stop
            # falls between them as well as inside one.
            import_export_file(
                instance, registry, dataset, export, scraped_at=SCRAPED_AT, batch_size=5
            )


def tables(data: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    with duckdb.connect(str(data / "tiktok_virality.duckdb"), read_only=True) as connection:
        for contract in ASSET_TABLES:
            columns = ", ".join(c for c in contract.column_names if c not in WHEN_DONE)
            frames[contract.name] = connection.sql(
                f"SELECT {columns} FROM {contract.name} ORDER BY ALL"
            ).df()
    return frames


@pytest.fixture(scope="module")
def uninterrupted_tables(
    tmp_path_factory: pytest.TempPathFactory,
    sample_export: Path,
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> dict[str, pd.DataFrame]:
    data = tmp_path_factory.mktemp("uninterrupted") / "data"
    module_fake_gemini.on_generate(WatchingGemini(module_fake_gemini))
    import_sample(data, sample_export)
    # One batch after the other: the reference that runs side by side are held to.
    code, output = finished(
        cli(
            cli_env(data, module_fake_apify, module_fake_gemini),
            "run",
            "--dataset",
            "cut",
            "--parallel",
            "1",
        )
    )
    assert code == 0, output
    return tables(data)
