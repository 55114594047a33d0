"""What a run costs, as a user sees it: `run --dry-run` starts nothing and foresees the spend;
`--max-cost-usd` stops a run between paid calls and a higher budget resumes it; `status` and the
report show the spend. Whole CLI runs against the fake Gemini (and Apify's key-value store for
the video files), through the real SDKs."""

import json
import re
from pathlib import Path

import pytest

from tiktok_virality.cli.main import main
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.helpers import accounts_file, query, real_items, stored_state

ACCEPTED_VIDEOS = 7  # of the real 2025 items, once quality control has run


@pytest.fixture
def live_env(live_env: Path, monkeypatch: pytest.MonkeyPatch, fake_gemini: FakeGemini) -> Path:
    """conftest's live folder, with one Gemini call at a time (a budget stops at a known video)."""
    monkeypatch.setenv("GEMINI_CONCURRENCY", "1")
    # Long enough that every video is billed for the seconds its metadata says (up to the cap).
    fake_gemini.video_seconds = 600
    return live_env


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
    fake_apify.items_by_profile = {
        "meenitech": [
            {**item, "playCount": 100_000, "videoMeta": {**item["videoMeta"], "duration": 90}}
            for item in real_items(apify_fixtures)[:5]
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
