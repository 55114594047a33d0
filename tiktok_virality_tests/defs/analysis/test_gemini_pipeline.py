"""Gemini in the pipeline: the CLI's live analysis, and a partition retried after injected failures
paying only for the videos that failed."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from apify_client import ApifyClient

from tiktok_virality.cli.main import main
from tiktok_virality.cli.partition_status import partition_states
from tiktok_virality.cli.runner import plan_runs, run_partition
from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.definitions import build_definitions
from tiktok_virality.defs.datasets.operations import import_export_file
from tiktok_virality.resources import STORE_SCHEMAS, build_resources, gemini_analyzer
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import (
    FakeGemini,
    GeminiApiError,
    GenerateScript,
    request_text,
)
from tiktok_virality_tests.helpers import query

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 1_000


@pytest.fixture
def export_file(tmp_path: Path, apify_fixtures: Path, fake_apify: FakeApify) -> Path:
    """The real 2025 items, posted in the last days, their files in a scrape's key-value store."""
    items = json.loads((apify_fixtures / "profile_items_2025.json").read_text(encoding="utf-8"))
    fake_apify.on_run(
        lambda run_input, params: RunScript(
            records={item["id"]: (VIDEO, "video/mp4") for item in items}
        )
    )
    ApifyClient("token", api_url=fake_apify.url).actor("clockworks/tiktok-scraper").start()
    store = fake_apify.runs[-1].default_key_value_store_id
    now = datetime.now(UTC)
    for days, item in enumerate(items, start=1):
        posted = now - timedelta(days=days)
        item.update(
            createTime=int(posted.timestamp()),
            createTimeISO=posted.isoformat(),
            mediaUrls=[f"{fake_apify.url}/v2/key-value-stores/{store}/records/{item['id']}"],
        )
    path = tmp_path / "export.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


@pytest.fixture
def live_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_apify: FakeApify, fake_gemini: FakeGemini
) -> Path:
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


def test_a_run_with_a_gemini_key_has_every_video_watched_once(
    live_env: Path, export_file: Path, fake_gemini: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "import", "--dataset", "meeni", str(export_file)]) == 0
    assert main(["run", "--dataset", "meeni"]) == 0

    accepted = query(live_env, "SELECT count(*) FROM raw_videos")[0][0]
    assert fake_gemini.generate_calls == accepted == 7
    assert query(live_env, "SELECT DISTINCT analyzer, model, input_kind FROM video_analyses") == [
        ("gemini", "gemini-3.5-flash", "video")
    ]
    assert query(live_env, "SELECT count(*) FROM video_features WHERE ai_hook_score IS NULL") == [
        (0,)
    ]
    assert "is not set" not in capsys.readouterr().out
    stored = b"".join(path.read_bytes() for path in live_env.rglob("*") if path.is_file())
    assert b"gemini-key-canary-0c3d" not in stored


def test_a_partition_retried_after_failures_pays_only_for_the_videos_that_failed(
    live_env: Path, export_file: Path, fake_gemini: FakeGemini, fake_apify: FakeApify
) -> None:
    settings = load_settings()
    settings.dagster_home.mkdir(parents=True)
    # Two accepted videos whose every call fails (503) until the service recovers.
    failing_captions = ("Amazing website for mothers", "used to DREAD interviews")

    def overloaded_for_two(request_json: dict) -> Any:
        if any(caption in request_text(request_json) for caption in failing_captions):
            raise GeminiApiError(503, "overloaded")
        return GenerateScript(json_value=fake_gemini.default_json(request_json))

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        resources = build_resources(settings, offline=False)
        migrate(settings.database, STORE_SCHEMAS)
        resources["analyzer"] = gemini_analyzer(
            settings,
            resources["analysis_cache"],
            api_key="gemini-key",
            base_url=fake_gemini.url,
            retry_attempts=2,
            initial_retry_delay_seconds=0.01,
            requests_per_minute=60_000,
            tokens_per_minute=10**9,
            apify_api_url=fake_apify.url,
        )
        import_export_file(instance, resources["registry"], "meeni", export_file)
        partition = VideoPartition("meeni", "b001")
        fake_gemini.on_generate(overloaded_for_two)
        first = plan_runs(
            partition_states(instance, [partition]), retry_failed=False, retry_phase=None
        )
        failed = run_partition(instance, build_definitions(resources), first.runs[0])
        calls_before_retry = fake_gemini.generate_calls
        errors_after_failure = query(live_env, "SELECT phase, permanent FROM errors")

        fake_gemini.on_generate(None)
        retry = plan_runs(
            partition_states(instance, [partition]), retry_failed=True, retry_phase=None
        )
        retried = run_partition(instance, build_definitions(resources), retry.runs[0])

    assert not failed.success and "2 of 7 videos" in (failed.error or "")
    assert calls_before_retry == 5 + 2 * 2  # five answered; two failed twice (the SDK's retry)
    assert errors_after_failure == [("analysis", False), ("analysis", False)]
    assert retry.runs[0].phases == (Phase.ANALYSIS, Phase.FEATURES)
    assert retried.success
    assert fake_gemini.generate_calls - calls_before_retry == 2  # only the two that had failed
    assert query(live_env, "SELECT count(*) FROM video_analyses") == [(7,)]
    assert query(live_env, "SELECT count(*) FROM errors WHERE phase = 'analysis'") == [(0,)]


def test_a_retired_model_stops_a_run_before_any_scrape_is_paid_for(
    live_env: Path,
    fake_gemini: FakeGemini,
    fake_apify: FakeApify,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APIFY_API_TOKEN", "apify-token-canary")
    monkeypatch.setenv("GEMINI_MODEL", "gemini-2.5-flash")
    accounts = live_env.parent / "accounts.txt"
    accounts.write_text("meenitech\nanother\n", encoding="utf-8")

    assert main(["run", "--dataset", "fresh", "--accounts", str(accounts)]) == 2

    error = capsys.readouterr().err
    assert "'gemini-2.5-flash' is retired" in error and "gemini-3.5-flash" in error
    assert fake_apify.requests_to("POST", r"/runs") == []  # no actor run started
    assert fake_gemini.generate_calls == 0
    assert main(["dataset", "list"]) == 0
    assert "fresh" not in capsys.readouterr().out  # nothing written either
