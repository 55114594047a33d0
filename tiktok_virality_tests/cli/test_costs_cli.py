"""What a run costs, as a user sees it: `run --dry-run` starts nothing and foresees the spend;
`--max-cost-usd` stops a run between paid calls and a higher budget resumes it; `status` and the
report show the spend. Whole CLI runs against the fake Gemini (and Apify's key-value store for
the video files), through the real SDKs."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apify_client import ApifyClient

from tiktok_virality.cli.main import main
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.helpers import accounts_file, query, recent_copies, stored_state

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 1_000
ACCEPTED_VIDEOS = 7  # of the real 2025 items, once quality control has run


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
    monkeypatch.setenv("GEMINI_CONCURRENCY", "1")
    monkeypatch.chdir(tmp_path)
    # Long enough that every video is billed for the seconds its metadata says (up to the cap).
    fake_gemini.video_seconds = 600
    return data


def _posts(fake_apify: FakeApify, fake_gemini: FakeGemini) -> int:
    return len(fake_apify.requests_to("POST", ".*")) + len(fake_gemini.requests_to("POST", ".*"))


def _estimate(output: str) -> float:
    found = re.search(r"total: about \$([0-9.]+)", output)
    assert found, output
    return float(found.group(1))


@pytest.mark.slow
def test_a_dry_run_starts_nothing_and_foresees_what_the_run_then_spends(
    live_env: Path,
    export_file: Path,
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dataset", "import", "--dataset", "meeni", str(export_file)]) == 0
    posts_before, state_before = _posts(fake_apify, fake_gemini), stored_state(live_env)
    capsys.readouterr()

    assert main(["run", "--dataset", "meeni", "--dry-run"]) == 0

    said = capsys.readouterr().out
    assert _posts(fake_apify, fake_gemini) == posts_before
    assert f"{ACCEPTED_VIDEOS} videos for Gemini (0 already analysed)" in said
    assert stored_state(live_env) == state_before
    estimate = _estimate(said)

    assert main(["run", "--dataset", "meeni"]) == 0

    assert fake_gemini.generate_calls == ACCEPTED_VIDEOS
    spent = query(live_env, "SELECT sum(usd) FROM costs WHERE dataset = 'meeni'")[0][0]
    assert abs(estimate - spent) <= 0.10 * spent
    capsys.readouterr()
    assert main(["run", "--dataset", "meeni", "--dry-run"]) == 0
    again = capsys.readouterr().out
    assert "partitions to materialize: 0" in again and "analysis: no Gemini call" in again
    assert _estimate(again) == 0


@pytest.mark.slow
def test_a_budget_stops_the_run_between_calls_and_a_higher_one_resumes_it(
    live_env: Path,
    export_file: Path,
    fake_gemini: FakeGemini,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dataset", "import", "--dataset", "meeni", str(export_file)]) == 0
    budget = 0.025  # about two of the seven videos' calls at gemini-3.5-flash's price

    assert main(["run", "--dataset", "meeni", "--max-cost-usd", str(budget)]) != 0

    said = capsys.readouterr().out
    paid_first = fake_gemini.generate_calls
    assert 0 < paid_first < ACCEPTED_VIDEOS
    assert "budget of dataset 'meeni' reached" in said
    assert f"{ACCEPTED_VIDEOS - paid_first} videos of this batch left to analyse" in said
    assert "--max-cost-usd HIGHER --retry-failed" in said
    spent_first = query(live_env, "SELECT sum(usd) FROM costs")[0][0]
    assert spent_first <= budget

    assert main(["run", "--dataset", "meeni", "--max-cost-usd", "1", "--retry-failed"]) == 0

    assert fake_gemini.generate_calls == ACCEPTED_VIDEOS  # no video paid for twice
    assert query(live_env, "SELECT count(*), count(DISTINCT unit_id) FROM costs") == [
        (ACCEPTED_VIDEOS, ACCEPTED_VIDEOS)
    ]
    assert query(live_env, "SELECT max_cost_usd FROM datasets") == [(1.0,)]
    capsys.readouterr()
    assert main(["status", "--dataset", "meeni"]) == 0
    assert re.search(r"spend: \$0\.0\d+ \(analysis \$0\.0\d+\)", capsys.readouterr().out)


@pytest.fixture
def scraping_env(
    live_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_apify: FakeApify,
    apify_fixtures: Path,
    tmp_path: Path,
) -> Path:
    """An account whose five latest videos all pass quality control and run past the cap on
    seconds watched (so that a dry run, which cannot know their length, counts them right)."""
    monkeypatch.setenv("APIFY_API_TOKEN", "apify-token-canary-3b9f")
    items = json.loads((apify_fixtures / "profile_items_2025.json").read_text(encoding="utf-8"))
    fake_apify.items_by_profile = {
        "meenitech": [
            {**item, "playCount": 100_000, "videoMeta": {**item["videoMeta"], "duration": 90}}
            for item in recent_copies(items, datetime.now(UTC))[:5]
        ]
    }
    return accounts_file(tmp_path, "@meenitech")


@pytest.mark.slow
def test_a_dry_run_of_a_new_dataset_registers_nothing_and_foresees_both_services(
    scraping_env: Path,
    live_env: Path,
    fake_apify: FakeApify,
    fake_gemini: FakeGemini,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = ["run", "--dataset", "fresh", "--accounts", str(scraping_env)]

    assert main([*run, "--videos-per-account", "5", "--dry-run"]) == 0

    said = capsys.readouterr().out
    assert _posts(fake_apify, fake_gemini) == 0
    assert stored_state(live_env) == {}  # not even the database file
    assert "1 Apify actor run, about 5 results and 5 downloads" in said
    assert "5 videos for Gemini" in said
    estimate = _estimate(said)

    assert main([*run, "--videos-per-account", "5"]) == 0

    (actor_run,) = fake_apify.runs
    assert query(live_env, "SELECT units, usd, usd_source FROM costs WHERE service = 'apify'") == [
        (
            json.dumps(
                {
                    "charged_event_counts": actor_run.charges.counts,
                    "usage_total_usd": actor_run.usage_total_usd,
                },
                sort_keys=True,
            ),
            actor_run.usage_total_usd,
            "service",
        )
    ]
    spent = query(live_env, "SELECT sum(usd) FROM costs")[0][0]
    assert abs(estimate - spent) <= 0.10 * spent


@pytest.mark.slow
def test_a_budget_too_small_for_the_actor_run_starts_none_and_a_higher_one_caps_the_run(
    scraping_env: Path,
    live_env: Path,
    fake_apify: FakeApify,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = ["run", "--dataset", "fresh", "--accounts", str(scraping_env)]

    assert main([*run, "--max-cost-usd", "0.001"]) != 0

    said = capsys.readouterr().out
    assert fake_apify.runs == []
    assert "budget of dataset 'fresh' reached: $0.0000 spent of $0.0010" in said
    assert "the Apify run of b001 (1 accounts)" in said

    assert main(["run", "--dataset", "fresh", "--max-cost-usd", "0.5", "--retry-failed"]) == 0

    (actor_run,) = fake_apify.runs
    assert float(actor_run.params["maxTotalChargeUsd"]) == pytest.approx(0.5)
    spent = query(live_env, "SELECT sum(usd) FROM costs")[0][0]
    assert 0 < spent <= 0.5


def test_an_offline_dry_run_of_the_quick_start_estimates_nothing_and_makes_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--dataset", "demo", "--offline", "--dry-run"]) == 0

    said = capsys.readouterr().out
    assert "the run would make it from the bundled sample" in said
    assert "offline: no external calls, so nothing is paid: estimated cost $0" in said
    assert stored_state(data_dir) == {}
