"""The fixtures that several test modules share, registered once: here, and in the plugin modules
below (a test module takes them as parameters and imports none)."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.config import load_settings
from tiktok_virality.defs.analysis.cache import ANALYSIS_CACHE_SCHEMA, AnalysisCache
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.datasets.sample import generate_sample_items
from tiktok_virality.resources import gemini_analyzer
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.helpers import APIFY_TOKEN, BUILT, GEMINI_KEY, use_folder

pytest_plugins = (
    "tiktok_virality_tests.fake_servers",  # the fake Apify and Gemini, per test or per module
    "tiktok_virality_tests.live_cli",  # real CLI runs on the bundled sample against the fakes
    "tiktok_virality_tests.faults",  # the same with a scraped dataset, for the reliability tests
)

# Real outputs of Apify's scrapers, test data kept beside the tests (see its README.md).
APIFY_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apify"


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
def analyzer(
    fake_gemini: FakeGemini, fake_apify: FakeApify, cache: AnalysisCache
) -> GeminiAnalyzer:
    return gemini_analyzer(
        load_settings({}),
        cache,
        api_key=GEMINI_KEY,
        base_url=fake_gemini.url,
        concurrency=4,
        requests_per_minute=60_000,
        tokens_per_minute=10**9,
        retry_attempts=2,
        initial_retry_delay_seconds=0.01,
        inline_max_bytes=100_000,
        file_poll_seconds=0.01,
        apify_token=APIFY_TOKEN,
        apify_api_url=fake_apify.url,
    )


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
