"""The Apify fake, exercised through the real ``apify-client``: protocol, scenarios, faults."""

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from apify_client import ApifyClient
from apify_client.errors import (
    InvalidResponseBodyError,
    NotFoundError,
    ServerError,
    UnauthorizedError,
)

from tiktok_virality_tests.fakes.apify import (
    MISSING_PROFILE_ERROR,
    FakeApify,
    RunScript,
)

ACTOR = "clockworks/tiktok-scraper"
RUNS_PATH = r"^/v2/actors/clockworks~tiktok-scraper/runs$"
TOKEN = "test-token"


def make_client(fake: FakeApify, max_retries: int = 2) -> ApifyClient:
    return ApifyClient(
        TOKEN,
        api_url=fake.url,
        max_retries=max_retries,
        min_delay_between_retries=timedelta(milliseconds=1),
    )


def videos(n: int, prefix: str = "v") -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": f"video {i}"} for i in range(n)]


def test_call_waits_for_a_run_that_succeeds_after_two_polls(fake_apify: FakeApify) -> None:
    fake_apify.on_run(lambda run_input, params: RunScript(items=videos(3), polls_until_finished=2))

    run = make_client(fake_apify).actor(ACTOR).call(run_input={"profiles": ["alice"]}, logger=None)

    assert run is not None
    assert run.status == "SUCCEEDED"
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.exit_code == 0
    assert [r.path for r in fake_apify.requests_to("POST", "")] == [
        "/v2/actors/clockworks~tiktok-scraper/runs"
    ]
    polls = fake_apify.requests_to("GET", f"^/v2/actor-runs/{run.id}$")
    assert len(polls) == 3  # RUNNING, RUNNING, SUCCEEDED
    assert all("waitForFinish" in p.query for p in polls)
    (fake_run,) = fake_apify.runs
    assert (fake_run.id, fake_run.status, fake_run.polls) == (run.id, "SUCCEEDED", 3)
    assert run.default_dataset_id == fake_run.default_dataset_id
    assert fake_run.input == {"profiles": ["alice"]}


@pytest.mark.parametrize("status", ["FAILED", "TIMED-OUT", "ABORTED"])
def test_a_run_that_does_not_succeed_shows_its_status(fake_apify: FakeApify, status: str) -> None:
    fake_apify.on_run(
        lambda run_input, params: RunScript(items=videos(1), status=status, status_message="boom")
    )

    run = make_client(fake_apify).actor(ACTOR).call(run_input={"profiles": ["alice"]}, logger=None)

    assert run is not None
    assert run.status == status
    assert run.status_message == "boom"
    assert run.finished_at is not None
    assert run.exit_code == 1
    assert fake_apify.runs[0].status == status


def test_start_answers_ready_and_the_run_can_be_aborted(fake_apify: FakeApify) -> None:
    fake_apify.on_run(lambda run_input, params: RunScript(polls_until_finished=5))
    client = make_client(fake_apify)

    started = client.actor(ACTOR).start(run_input={"profiles": []})
    assert started.status == "READY" and started.finished_at is None
    assert client.run(started.id).get().status == "RUNNING"
    assert client.run(started.id).abort().status == "ABORTED"
    assert client.run(started.id).get().status == "ABORTED"


def test_iterate_items_pages_through_2500_items_once_and_in_order(fake_apify: FakeApify) -> None:
    items = videos(2500)
    fake_apify.on_run(lambda run_input, params: RunScript(items=items))
    client = make_client(fake_apify)
    run = client.actor(ACTOR).call(run_input={"profiles": ["alice"]}, logger=None)

    got = list(client.dataset(run.default_dataset_id).iterate_items())

    assert got == items
    pages = fake_apify.requests_to("GET", f"^/v2/datasets/{run.default_dataset_id}/items$")
    assert [(p.query["offset"], p.query["limit"]) for p in pages] == [
        ("0", "1000"),
        ("1000", "1000"),
        ("2000", "1000"),
        ("2500", "1000"),  # the client stops on an empty page
    ]


def test_list_items_sends_and_gets_the_pagination_headers(fake_apify: FakeApify) -> None:
    dataset_id = fake_apify.add_dataset([{"id": str(i), "#debug": i, "n": i} for i in range(10)])
    dataset = make_client(fake_apify).dataset(dataset_id)

    page = dataset.list_items(offset=2, limit=3, desc=True, clean=True, fields=["n", "id"])

    assert (page.total, page.offset, page.count, page.limit, page.desc) == (10, 2, 3, 3, True)
    assert page.items == [{"n": 7, "id": "7"}, {"n": 6, "id": "6"}, {"n": 5, "id": "5"}]
    unlimited = dataset.list_items(offset=8)
    assert unlimited.limit == 999_999_999_999 and [i["id"] for i in unlimited.items] == ["8", "9"]


def test_a_429_then_success_is_retried_by_the_client(fake_apify: FakeApify) -> None:
    fake_apify.fail_next("POST", RUNS_PATH, 429)

    run = make_client(fake_apify).actor(ACTOR).call(run_input={"profiles": ["alice"]}, logger=None)

    assert run is not None and run.status == "SUCCEEDED"
    assert len(fake_apify.requests_to("POST", RUNS_PATH)) == 2
    assert len(fake_apify.runs) == 1
    assert fake_apify.pending_faults == 0


def test_a_500_after_the_run_started_makes_the_retry_start_a_second_run(
    fake_apify: FakeApify,
) -> None:
    """The hazard: the client retries POST .../runs on a 5xx, so a lost response costs a second run."""
    fake_apify.fail_next("POST", RUNS_PATH, 500, after_handling=True)

    run = make_client(fake_apify, max_retries=2).actor(ACTOR).start(run_input={"profiles": ["a"]})

    assert len(fake_apify.requests_to("POST", RUNS_PATH)) == 2
    assert len(fake_apify.runs) == 2
    assert run.id == fake_apify.runs[1].id


def test_without_retries_the_start_raises_and_the_run_can_be_found_in_the_list(
    fake_apify: FakeApify,
) -> None:
    fake_apify.fail_next("POST", RUNS_PATH, 500, after_handling=True)
    client = make_client(fake_apify, max_retries=0)

    with pytest.raises(ServerError) as raised:
        client.actor(ACTOR).start(run_input={"profiles": ["a"]})

    assert raised.value.status_code == 500
    assert raised.value.type == "internal-server-error"
    (created,) = fake_apify.runs
    latest = client.actor(ACTOR).runs().list(desc=True, limit=1)
    assert [r.id for r in latest.items] == [created.id]


def test_a_reset_after_the_run_started_also_makes_the_retry_start_a_second_run(
    fake_apify: FakeApify,
) -> None:
    fake_apify.reset_connection_next(RUNS_PATH, method="POST", after_handling=True)

    make_client(fake_apify).actor(ACTOR).start(run_input={"profiles": ["a"]})

    assert len(fake_apify.requests_to("POST", RUNS_PATH)) == 2
    assert len(fake_apify.runs) == 2


def test_the_runs_list_and_the_input_record_return_what_was_posted(fake_apify: FakeApify) -> None:
    client = make_client(fake_apify)
    small = {"profiles": ["alice"], "resultsPerPage": 5}
    big = {"profiles": [f"user{i:04d}" for i in range(200)], "resultsPerPage": 1}  # > 1 KB: gzipped
    first = client.actor(ACTOR).start(
        run_input=small, max_items=50, memory_mbytes=512, run_timeout=timedelta(seconds=300)
    )
    second = client.actor(ACTOR).start(run_input=big)

    assert fake_apify.runs[0].params == {"maxItems": "50", "memory": "512", "timeout": "300"}
    assert (first.options.max_items, first.options.memory_mbytes, first.options.timeout_secs) == (
        50,
        512,
        300,
    )
    posts = fake_apify.requests_to("POST", RUNS_PATH)
    assert posts[1].headers.get("content-encoding") == "gzip"
    assert [p.json for p in posts] == [small, big]

    listed = client.actor(ACTOR).runs().list()
    assert (listed.total, listed.count, listed.desc) == (2, 2, False)
    assert [r.id for r in listed.items] == [first.id, second.id]
    newest = client.actor(ACTOR).runs().list(desc=True, limit=1)
    assert [r.id for r in newest.items] == [second.id] and newest.total == 2
    assert [r.id for r in client.actor(ACTOR).runs().list(offset=1).items] == [second.id]
    assert client.actor("someone/other-actor").runs().list().total == 0

    for run, posted in ((first, small), (second, big)):
        record = client.key_value_store(run.default_key_value_store_id).get_record("INPUT")
        assert record is not None
        assert record["value"] == posted
        assert record["content_type"].startswith("application/json")
    assert client.run(first.id).key_value_store().get_record("INPUT")["value"] == small
    assert client.key_value_store(first.default_key_value_store_id).get_record("OUTPUT") is None


def test_missing_profiles_yield_the_scrapers_error_items(fake_apify: FakeApify) -> None:
    fake_apify.items_by_profile = {"alice": videos(4, "a"), "Bob": videos(1, "b")}
    client = make_client(fake_apify)

    run = client.actor(ACTOR).call(
        run_input={"profiles": ["alice", "ghost", "@bob"], "resultsPerPage": 2}, logger=None
    )
    items = list(client.dataset(run.default_dataset_id).iterate_items())

    assert items == [
        *videos(2, "a"),
        {"url": "https://www.tiktok.com/@ghost", "input": "ghost", "error": MISSING_PROFILE_ERROR},
        *videos(1, "b"),
    ]
    # maxItems caps nothing on a pay-per-event actor; it caps an actor priced per result.
    uncapped = client.actor(ACTOR).call(run_input={"profiles": ["alice"]}, max_items=3, logger=None)
    assert len(fake_apify.run(uncapped.id).items) == 4
    fake_apify.pay_per_event = None
    capped = client.actor(ACTOR).call(run_input={"profiles": ["alice"]}, max_items=3, logger=None)
    assert len(fake_apify.run(capped.id).items) == 3


def test_the_authorization_header_is_recorded_but_never_shown(fake_apify: FakeApify) -> None:
    client = make_client(fake_apify)
    client.actor(ACTOR).call(run_input={"profiles": []}, logger=None)

    requests = fake_apify.requests
    assert len(requests) == 2
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in requests)
    assert TOKEN not in repr(requests)
    method, path, query, body, headers = requests[0]
    assert (method, path, body) == (
        "POST",
        "/v2/actors/clockworks~tiktok-scraper/runs",
        {"profiles": []},
    )
    assert query == {} and "authorization" in headers


def test_a_required_token_rejects_other_tokens(fake_apify: FakeApify) -> None:
    fake_apify.required_token = "right-token"

    with pytest.raises(UnauthorizedError):
        make_client(fake_apify).actor(ACTOR).start(run_input={})

    assert len(fake_apify.requests) == 1  # a 401 is not retried
    assert fake_apify.runs == []


def test_anything_else_is_a_404_with_an_apify_error_envelope(fake_apify: FakeApify) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{fake_apify.url}/v2/users/me", timeout=5)
    assert raised.value.code == 404
    error = json.loads(raised.value.read())["error"]
    assert error["type"] == "record-not-found" and error["message"]

    with pytest.raises(NotFoundError):
        make_client(fake_apify).dataset("no-such-dataset").list_items()


def test_a_reset_connection_and_a_truncated_body_are_retried(fake_apify: FakeApify) -> None:
    dataset_id = fake_apify.add_dataset(videos(10))
    items_path = f"/datasets/{dataset_id}/items$"
    dataset = make_client(fake_apify).dataset(dataset_id)

    fake_apify.reset_connection_next(items_path)
    assert dataset.list_items().items == videos(10)
    fake_apify.truncate_next(items_path)
    assert dataset.list_items().items == videos(10)

    assert len(fake_apify.requests_to("GET", items_path)) == 4
    assert fake_apify.pending_faults == 0


def test_a_cut_body_with_a_matching_length_is_not_retried(fake_apify: FakeApify) -> None:
    dataset_id = fake_apify.add_dataset(videos(10))
    fake_apify.truncate_next(f"/datasets/{dataset_id}/items$", declare_full_length=False)

    with pytest.raises(InvalidResponseBodyError):
        make_client(fake_apify).dataset(dataset_id).list_items()
    assert len(fake_apify.requests) == 1


def test_repeated_faults_exhaust_the_retries(fake_apify: FakeApify) -> None:
    dataset_id = fake_apify.add_dataset(videos(1))
    fake_apify.fail_next("GET", "/items$", 503, times=3)

    with pytest.raises(ServerError) as raised:
        make_client(fake_apify, max_retries=2).dataset(dataset_id).list_items()

    assert raised.value.status_code == 503
    assert len(fake_apify.requests) == 3


def test_latency_is_added_to_every_response(fake_apify: FakeApify) -> None:
    dataset_id = fake_apify.add_dataset(videos(1))
    dataset = make_client(fake_apify).dataset(dataset_id)
    dataset.list_items()  # connect first

    fake_apify.latency_seconds = 0.05
    began = time.perf_counter()
    dataset.list_items()
    assert time.perf_counter() - began >= 0.05

    asked: list[str] = []

    def items_only(method: str, path: str) -> float:
        asked.append(path)
        return 0.05 if path.endswith("/items") else 0.0

    fake_apify.latency_seconds = items_only
    began = time.perf_counter()
    dataset.list_items()
    assert time.perf_counter() - began >= 0.05
    dataset.get()
    assert asked == [f"/v2/datasets/{dataset_id}/items", f"/v2/datasets/{dataset_id}"]


def test_a_failing_scenario_answers_500_and_is_reported() -> None:
    with FakeApify() as fake:

        @fake.on_run
        def broken(run_input: dict, params: dict) -> RunScript:
            raise KeyError("profiles")

        with pytest.raises(ServerError, match="FakeApify handler error"):
            make_client(fake, max_retries=0).actor(ACTOR).start(run_input={})

    assert [type(e) for e in fake.handler_errors] == [KeyError]
    assert fake.runs == []
