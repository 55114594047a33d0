"""Gemini in the pipeline: the CLI's live analysis, and a partition retried after injected failures
paying only for the videos that failed."""

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.cli.partition_status import partition_states
from tiktok_virality.cli.runner import plan_runs, run_partition
from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.definitions import build_definitions
from tiktok_virality.defs.datasets.operations import import_export_file
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import (
    FakeGemini,
    GeminiApiError,
    GenerateScript,
    request_text,
)
from tiktok_virality_tests.helpers import fake_gemini_analyzer, query


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
        resources["analyzer"] = fake_gemini_analyzer(
            settings, resources["analysis_cache"], fake_gemini, apify_api_url=fake_apify.url
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
