"""Reliability, part 4: secrets. With canary values for `APIFY_API_TOKEN` and `GOOGLE_API_KEY`,
runs that succeed and runs that fail — with the fakes echoing the credentials back in error items,
error bodies and URLs — leave the canaries nowhere: not in the logs, the DuckDB tables, the Dagster
event logs, run configs and tags, the compute logs, the error messages, nor `status`."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tiktok_virality.cli.main import main
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import (
    FakeGemini,
    GeminiApiError,
    GenerateScript,
    request_text,
)
from tiktok_virality_tests.helpers import SMALL, accounts_file, real_items, video_urls

APIFY_CANARY = "apify_api_CANARY0a1b2c3d4e5f"
GEMINI_CANARY = "AIzaCANARY9z8y7x6w5v4u3t"
CANARIES = (APIFY_CANARY, GEMINI_CANARY)
ECHOED_CAPTION = "a caption Gemini answers with an echo"


def stored_texts(root: Path) -> Iterator[tuple[str, str]]:
    """(where, text) for everything under `root`: each file's bytes, each DuckDB table's values
    cast to text, and each SQLite table's rows (Dagster's runs, run configs, tags and event logs),
    so that compressed or binary storage cannot hide a value from a plain byte search."""
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        yield str(path), path.read_bytes().decode("utf-8", "replace")
        if path.suffix == ".duckdb":
            yield from _duckdb_texts(path)
        elif path.suffix == ".db":
            yield from _sqlite_texts(path)


def _duckdb_texts(path: Path) -> Iterator[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute("SELECT table_name FROM information_schema.tables").fetchall()
        for (table,) in tables:
            rows = connection.execute(f'SELECT CAST(COLUMNS(*) AS VARCHAR) FROM "{table}"')
            yield f"{path}:{table}", repr(rows.fetchall())


def _sqlite_texts(path: Path) -> Iterator[tuple[str, str]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in tables.fetchall():
            rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
            yield f"{path}:{table}", "\n".join(_sqlite_value_text(v) for row in rows for v in row)
    finally:
        connection.close()


def _sqlite_value_text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def assert_no_canary(root: Path, outputs: str, logged: str) -> dict[str, str]:
    """Fails naming every place a canary is found; returns the texts searched, by place."""
    texts = dict(stored_texts(root))
    texts["stdout and stderr"] = outputs
    texts["Python logging"] = logged
    leaks = [
        (where, canary) for where, text in texts.items() for canary in CANARIES if canary in text
    ]
    assert leaks == []
    return texts


@pytest.fixture
def live(
    data_dir: Path,
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """The CLI with canary credentials, scraping on the fake Apify and analysing on the fake
    Gemini; returns the folder holding its data folder and logs."""
    monkeypatch.setenv("APIFY_API_URL", fake_apify.url)
    monkeypatch.setenv("APIFY_API_TOKEN", APIFY_CANARY)
    monkeypatch.setenv("GOOGLE_API_KEY", GEMINI_CANARY)
    monkeypatch.setenv("GEMINI_API_URL", fake_gemini.url)
    monkeypatch.setenv("GEMINI_REQUESTS_PER_MINUTE", "60000")
    monkeypatch.setenv("GEMINI_TOKENS_PER_MINUTE", "1000000000")
    return data_dir.parent


def scrape_with_echoes(fake_apify: FakeApify, apify_fixtures: Path) -> None:
    """Runs return the real items, their files in a key-value store (downloaded with the token),
    one caption to be answered with an echo, and an error item echoing the token."""
    items = real_items(apify_fixtures)
    urls = video_urls(fake_apify, {item["id"]: SMALL for item in items})
    items = [{**item, "mediaUrls": [urls[item["id"]]]} for item in items]
    items[0]["text"] = ECHOED_CAPTION
    missing = {
        "url": "https://www.tiktok.com/@vanished_one",
        "input": "vanished_one",
        "error": f"Profile not found (requested with token {APIFY_CANARY})",
    }
    fake_apify.on_run(lambda run_input, params: RunScript(items=[*items, missing]))


def echo_the_key_for_one_caption(fake_gemini: FakeGemini) -> None:
    """Gemini refuses one video with an error whose body carries the key, in words and in a URL."""

    def answer(request_json: dict[str, Any]) -> GenerateScript:
        if ECHOED_CAPTION in request_text(request_json):
            raise GeminiApiError(
                400,
                f"Request contains an invalid argument: key={GEMINI_CANARY}, see "
                f"{fake_gemini.url}/v1beta/models/gemini-3.5-flash:generateContent?key="
                f"{GEMINI_CANARY}",
            )
        return GenerateScript(json_value=fake_gemini.default_json(request_json))

    fake_gemini.on_generate(answer)


def test_a_run_that_succeeds_and_its_status_leave_the_credentials_nowhere(
    live: Path,
    apify_fixtures: Path,
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    scrape_with_echoes(fake_apify, apify_fixtures)
    echo_the_key_for_one_caption(fake_gemini)
    accounts = accounts_file(live, "meenitech", "vanished_one")

    assert main(["run", "--dataset", "live", "--accounts", str(accounts)]) == 0
    assert main(["status", "--dataset", "live", "--export", str(live / "tracking")]) == 0
    assert main(["status", "--dataset", "live", "--json"]) == 0

    # The credentials went where they belong: to the APIs, for the scrape and every download (the
    # run's files, copied into the media cache right after the scrape).
    downloads = fake_apify.requests_to("GET", r"/records/[^/]+$")
    assert downloads
    assert {r.headers["authorization"] for r in downloads} == {f"Bearer {APIFY_CANARY}"}
    assert {r.headers["x-goog-api-key"] for r in fake_gemini.generate_requests} == {GEMINI_CANARY}
    texts = assert_no_canary(live, "".join(capsys.readouterr()), caplog.text)
    # The echoes reached the tables and the status files, masked: the search read them.
    assert "Profile not found (requested with token ***)" in texts["stdout and stderr"]
    errors_table = next(text for where, text in texts.items() if where.endswith(":errors"))
    assert "key=***" in errors_table and "token ***" in errors_table
    assert "key=***" in (live / "tracking" / "errors.txt").read_text(encoding="utf-8")


def test_runs_that_fail_leave_the_credentials_nowhere(
    live: Path,
    apify_fixtures: Path,
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    scrape_with_echoes(fake_apify, apify_fixtures)

    def refuse_the_key(request_json: dict[str, Any]) -> GenerateScript:
        raise GeminiApiError(
            400,
            f"API key not valid: {GEMINI_CANARY}. Please pass a valid API key.",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "metadata": {"key": GEMINI_CANARY},
                }
            ],
        )

    fake_gemini.on_generate(refuse_the_key)
    assert (
        main(["run", "--dataset", "key", "--accounts", str(accounts_file(live, "meenitech"))]) == 1
    )
    fake_apify.required_token = "another-token"  # Apify answers 401 to ours from now on
    assert (
        main(["run", "--dataset", "token", "--accounts", str(accounts_file(live, "meenitech"))])
        == 1
    )
    assert main(["status", "--dataset", "key"]) == 0
    assert main(["status", "--dataset", "token", "--json"]) == 0

    texts = assert_no_canary(live, "".join(capsys.readouterr()), caplog.text)
    # Both failures were recorded — with the echoed key masked — where the search looked.
    event_logs = "".join(text for where, text in texts.items() if where.endswith(":event_logs"))
    for failure in ("API key not valid: ***", "Authentication token is not valid"):
        assert failure in event_logs and failure in texts["stdout and stderr"], failure
