from pathlib import Path

import pytest

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
    monkeypatch.chdir(tmp_path)
    return data
