"""The Apify video source on the real apify-client, against the local fake Apify API."""

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apify_client import ApifyClient

from tiktok_virality.config import load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.scraping.apify import (
    ApifyVideoSource,
    ScrapeRunError,
    input_fingerprint,
)
from tiktok_virality.defs.scraping.apify_actor import ActorOptions, actor_input
from tiktok_virality.defs.scraping.ledger import SCRAPE_LEDGER_SCHEMA, ScrapeLedger
from tiktok_virality.defs.scraping.sources import ScrapeRequest
from tiktok_virality.resources import apify_video_source
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript

TOKEN = "apify-canary-token-3f9c"
LOG = logging.getLogger("test")
ACTOR = "clockworks/tiktok-scraper"
RUNS = r"^/v2/actors/clockworks~tiktok-scraper/runs$"
REQUEST = ScrapeRequest(
    dataset="v1",
    batch="b001",
    accounts=("meenitech", "vanished"),
    videos_per_account=15,
    max_videos=500,
    max_age_days=180,
)


@pytest.fixture
def ledger(tmp_path: Path) -> ScrapeLedger:
    database = tmp_path / "ledger.duckdb"
    migrate(database, [SCRAPE_LEDGER_SCHEMA])
    return ScrapeLedger(database=str(database))


@pytest.fixture
def source(fake_apify: FakeApify, ledger: ScrapeLedger) -> ApifyVideoSource:
    return apify_video_source(
        load_settings({}),
        ledger,
        token=TOKEN,
        api_url=fake_apify.url,
        max_retries=3,
        min_retry_delay_seconds=0.001,
    )


@pytest.fixture
def meenitech_items(apify_fixtures: Path) -> list[dict]:
    return json.loads((apify_fixtures / "profile_items_2025.json").read_text(encoding="utf-8"))


def test_one_run_per_batch_with_every_account_and_our_options(
    fake_apify: FakeApify, source: ApifyVideoSource, meenitech_items: list[dict]
) -> None:
    fake_apify.items_by_profile = {"meenitech": meenitech_items}

    fetched = source.fetch(REQUEST, LOG)

    [run] = fake_apify.runs
    assert run.input == actor_input(REQUEST, source.actor_options)
    assert run.input["profiles"] == ["meenitech", "vanished"]
    assert run.input["resultsPerPage"] == 15
    # No paid add-on by default: no Gemini key (no download), no date filter; pinned posts,
    # free to exclude, excluded.
    assert run.input["shouldDownloadVideos"] is False
    assert "oldestPostDateUnified" not in run.input
    assert run.input["excludePinnedPosts"] is True
    # 15 videos for each account, plus room for one error item each (a cap for pay-per-result
    # actors only); no cost cap asked for, none sent.
    assert run.params["maxItems"] == "32"
    assert "maxTotalChargeUsd" not in run.params
    assert len(fake_apify.requests_to("POST", RUNS)) == 1
    assert [item.get("id") for item in fetched.items[:10]] == [i["id"] for i in meenitech_items]
    assert fetched.items[-1]["error"] == "This profile/hashtag does not exist."
    # The API gives times to the millisecond.
    assert abs(fetched.scraped_at - run.finished_at) < timedelta(milliseconds=1)
    assert all(
        request.headers["authorization"] == f"Bearer {TOKEN}" for request in fake_apify.requests
    )


@pytest.mark.parametrize("status", ["FAILED", "TIMED-OUT", "ABORTED"])
def test_a_run_that_does_not_succeed_fails_the_batch(
    fake_apify: FakeApify, source: ApifyVideoSource, status: str
) -> None:
    fake_apify.on_run(lambda run_input, params: RunScript(items=[], status=status))

    with pytest.raises(ScrapeRunError, match=f"ended {status}"):
        source.fetch(REQUEST, LOG)


def test_a_refused_start_is_retried(fake_apify: FakeApify, source: ApifyVideoSource) -> None:
    fake_apify.fail_next("POST", RUNS, 429, times=2)

    source.fetch(REQUEST, LOG)

    assert len(fake_apify.requests_to("POST", RUNS)) == 3
    assert len(fake_apify.runs) == 1


def test_a_start_lost_after_the_run_began_never_starts_a_second_paid_run(
    fake_apify: FakeApify,
    source: ApifyVideoSource,
) -> None:
    fake_apify.fail_next("POST", RUNS, 500, after_handling=True)

    fetched = source.fetch(REQUEST, LOG)

    assert len(fake_apify.requests_to("POST", RUNS)) == 1
    assert len(fake_apify.runs) == 1
    assert fetched.items  # the adopted run's items


def test_a_start_that_failed_before_any_run_is_retried_once_checked(
    fake_apify: FakeApify, source: ApifyVideoSource
) -> None:
    fake_apify.fail_next("POST", RUNS, 503)

    source.fetch(REQUEST, LOG)

    assert len(fake_apify.requests_to("POST", RUNS)) == 2
    assert len(fake_apify.runs) == 1


def test_a_start_failing_every_time_fails_the_batch_without_extra_runs(
    fake_apify: FakeApify,
    source: ApifyVideoSource,
) -> None:
    fake_apify.fail_next("POST", RUNS, 500, times=10)

    with pytest.raises(ScrapeRunError, match="after 4 attempts: ServerError"):
        source.fetch(REQUEST, LOG)

    assert fake_apify.runs == []


def test_a_rejected_token_is_not_retried_and_never_shown(
    fake_apify: FakeApify, source: ApifyVideoSource
) -> None:
    fake_apify.required_token = "the-real-token"

    with pytest.raises(ScrapeRunError, match="UnauthorizedError") as raised:
        source.fetch(REQUEST, LOG)

    assert len(fake_apify.requests_to("POST", RUNS)) == 1
    assert TOKEN not in str(raised.value)
    # Dagster records an error's cause and context: the client's error is left out of both.
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_large_datasets_are_paged(fake_apify: FakeApify, source: ApifyVideoSource) -> None:
    items = [{"id": str(7_000_000_000_000_000_000 + n), "input": "meenitech"} for n in range(2500)]
    fake_apify.on_run(lambda run_input, params: RunScript(items=items))

    fetched = source.fetch(REQUEST, LOG)

    assert [item["id"] for item in fetched.items] == [item["id"] for item in items]
    assert len(fake_apify.requests_to("GET", r"/items$")) >= 3


def test_the_scrape_time_is_the_runs_finish(
    fake_apify: FakeApify, source: ApifyVideoSource
) -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)

    fetched = source.fetch(REQUEST, LOG)

    assert before <= fetched.scraped_at <= datetime.now(UTC)


def test_a_retry_resumes_the_batchs_run_instead_of_paying_for_another(
    fake_apify: FakeApify, source: ApifyVideoSource
) -> None:
    # The run succeeds, but reading its items fails for good: the partition fails.
    fake_apify.fail_next("GET", r"/items$", 500, times=4)
    with pytest.raises(ScrapeRunError, match="ServerError"):
        source.fetch(REQUEST, LOG)

    fetched = source.fetch(REQUEST, LOG)

    assert len(fake_apify.runs) == 1
    assert fetched.items


def test_a_run_started_by_an_attempt_killed_before_remembering_it_is_adopted(
    fake_apify: FakeApify, source: ApifyVideoSource, ledger: ScrapeLedger
) -> None:
    # The killed attempt: the start is recorded as under way, the run starts, nothing more.
    run_input = actor_input(REQUEST, source.actor_options)
    ledger.record_scrape_start(VideoPartition("v1", "b001"), input_fingerprint(run_input))
    ApifyClient(TOKEN, api_url=fake_apify.url).actor(ACTOR).start(run_input=run_input)

    fetched = source.fetch(REQUEST, LOG)

    assert len(fake_apify.runs) == 1
    assert fetched.items


def test_a_lost_start_never_adopts_a_failed_run(
    fake_apify: FakeApify, source: ApifyVideoSource
) -> None:
    outcomes = iter(["FAILED", "SUCCEEDED"])
    fake_apify.on_run(lambda run_input, params: RunScript(items=[], status=next(outcomes)))
    with pytest.raises(ScrapeRunError, match="ended FAILED"):
        source.fetch(REQUEST, LOG)
    fake_apify.fail_next("POST", RUNS, 503)

    source.fetch(REQUEST, LOG)

    assert [run.status for run in fake_apify.runs] == ["FAILED", "SUCCEEDED"]


def test_an_adopted_run_may_hold_the_actors_defaults_besides_our_input(
    fake_apify: FakeApify, source: ApifyVideoSource
) -> None:
    fake_apify.fail_next("POST", RUNS, 500, after_handling=True)
    original_handler = fake_apify.default_run_handler

    def with_defaults(run_input: dict, params: dict) -> RunScript:
        run_input["proxyCountryCode"] = "None"  # as Apify stores it: our input plus the defaults
        return original_handler(run_input, params)

    fake_apify.on_run(with_defaults)

    source.fetch(REQUEST, LOG)

    assert len(fake_apify.runs) == 1


def test_each_account_gets_a_share_of_a_small_budget() -> None:
    small = ScrapeRequest(
        dataset="v1",
        batch="b002",
        accounts=("a", "b", "c"),
        videos_per_account=15,
        max_videos=10,
        max_age_days=30,
    )

    run_input = actor_input(small, ActorOptions(download_videos=False, date_filter=True))

    assert run_input["resultsPerPage"] == 4
    assert run_input["oldestPostDateUnified"] == "30 days"
    assert run_input["shouldDownloadVideos"] is False
