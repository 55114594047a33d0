"""The fixtures that several test modules share, registered once: here, and in the plugin modules
below (a test module takes them as parameters and imports none)."""

import functools
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apify_client import ApifyClient

from tiktok_virality.cli.main import main
from tiktok_virality.config import load_settings
from tiktok_virality.defs.analysis.cache import ANALYSIS_CACHE_SCHEMA, AnalysisCache
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.datasets.sample import generate_sample_items
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.helpers import (
    APIFY_TOKEN,
    BUILT,
    fake_gemini_analyzer,
    real_items,
    use_folder,
)

pytest_plugins = (
    "tiktok_virality_tests.fake_servers",  # the fake Apify and Gemini, per test or per module
    "tiktok_virality_tests.live_cli",  # real CLI runs on the bundled sample against the fakes
    "tiktok_virality_tests.faults",  # the same with a scraped dataset, for the reliability tests
)

# Real outputs of Apify's scrapers, test data kept beside the tests (see its README.md).
APIFY_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apify"
# What the fake Apify serves as every video file of `export_file`.
EXPORT_VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 1_000


@pytest.fixture(scope="session")
def apify_fixtures() -> Path:
    return APIFY_FIXTURES


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder and Dagster home of the test's own, no credentials, and no stray `.env` from
    the developer's checkout (the working directory is the test's)."""
    data = tmp_path / "data"
    monkeypatch.setenv("TIKTOK_VIRALITY_DATA_DIR", str(data))
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    monkeypatch.delenv("TIKTOK_VIRALITY_DATABASE", raising=False)
    monkeypatch.delenv("APIFY_API_TOKEN", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    return data


@pytest.fixture
def cache(tmp_path: Path) -> AnalysisCache:
    database = tmp_path / "cache.duckdb"
    migrate(database, [ANALYSIS_CACHE_SCHEMA])
    return AnalysisCache(database=str(database))


@pytest.fixture
def analyzer_against_fakes(
    fake_gemini: FakeGemini, fake_apify: FakeApify, cache: AnalysisCache
) -> Callable[..., GeminiAnalyzer]:
    """Makes the live analyzer against the fake Gemini and Apify (with an Apify token, the cache
    fixture's database); its keywords (of `resources.gemini_analyzer`) are what a test varies."""
    return functools.partial(
        fake_gemini_analyzer,
        load_settings({}),
        cache,
        fake_gemini,
        apify_token=APIFY_TOKEN,
        apify_api_url=fake_apify.url,
    )


@pytest.fixture
def analyzer(analyzer_against_fakes: Callable[..., GeminiAnalyzer]) -> GeminiAnalyzer:
    return analyzer_against_fakes(concurrency=4, inline_max_bytes=100_000, file_poll_seconds=0.01)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose data folder holds a dataset run to the end, to compare with after a command
    that must write nothing. Built once per session (the modules using this fixture share it):
    tests only run refused commands against it, or copy it."""
    root = tmp_path_factory.getbasetemp() / "populated"
    if (root / BUILT).exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    items = generate_sample_items(scraped_at=datetime.now(UTC))
    first_account = items[0]["input"]
    export = root / "export.json"
    export.write_text(
        json.dumps([item for item in items if item["input"] == first_account]), encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_folder(monkeypatch, root)
        assert main(["dataset", "import", "--dataset", "existing", str(export)]) == 0
        assert main(["run", "--dataset", "existing", "--offline"]) == 0
    (root / BUILT).touch()
    return root


@pytest.fixture
def existing_data(
    populated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """The populated folder, as the CLI's folder for this test."""
    use_folder(monkeypatch, populated)
    capsys.readouterr()
    return populated


@pytest.fixture
def export_file(tmp_path: Path, apify_fixtures: Path, fake_apify: FakeApify) -> Path:
    """The real 2025 items, posted in the last days, their files in a scrape's key-value store."""
    items = real_items(apify_fixtures)
    fake_apify.on_run(
        lambda run_input, params: RunScript(
            records={item["id"]: (EXPORT_VIDEO, "video/mp4") for item in items}
        )
    )
    ApifyClient("token", api_url=fake_apify.url).actor("clockworks/tiktok-scraper").start()
    store = fake_apify.runs[-1].default_key_value_store_id
    for item in items:
        item["mediaUrls"] = [f"{fake_apify.url}/v2/key-value-stores/{store}/records/{item['id']}"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


@pytest.fixture
def live_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_apify: FakeApify, fake_gemini: FakeGemini
) -> Path:
    """A data folder for live CLI runs against the fake Apify and Gemini, with a Gemini key that
    must reach no stored file, and quotas that never hold a call."""
    data = tmp_path / "data"
    monkeypatch.setenv("TIKTOK_VIRALITY_DATA_DIR", str(data))
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    monkeypatch.delenv("TIKTOK_VIRALITY_DATABASE", raising=False)
    monkeypatch.delenv("APIFY_API_TOKEN", raising=False)
    monkeypatch.setenv("APIFY_API_URL", fake_apify.url)
    monkeypatch.setenv("GOOGLE_API_KEY", "gemini-key-canary-0c3d")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_gemini.url)
    monkeypatch.setenv("GEMINI_REQUESTS_PER_MINUTE", "60000")
    monkeypatch.setenv("GEMINI_TOKENS_PER_MINUTE", "1000000000")
    monkeypatch.chdir(tmp_path)
    return data
