from pathlib import Path

import pytest

# CI clones the repo with shared/ beside it, as on the developers' machines.
APIFY_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "apify"


@pytest.fixture
def apify_fixtures() -> Path:
    if not APIFY_FIXTURES.is_dir():
        pytest.fail(f"the real Apify fixtures are missing: expected them in {APIFY_FIXTURES}")
    return APIFY_FIXTURES
