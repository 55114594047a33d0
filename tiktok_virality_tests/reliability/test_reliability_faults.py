"""Faults: the fake Apify and Gemini answer 20% of their requests with a 429, a 500, a 503, a stall
past the client's timeout, a reset connection or a body cut short. A run of a dataset scraped
through Apify and analysed by Gemini, then `--retry-failed` rounds until none fails, ends with
every partition materialized and the tables equal, value for value, to those of a fault-free run:
no duplicate, no gap, one actor run per batch, and no Gemini call repeated except for answers the
faults lost. A harsher 50% exhausts the clients' retries, so that partitions fail and the
`--retry-failed` rounds are what completes them.

The runs are slow (a few CLI runs per seed): `pytest -m reliability`. The fakes' fault drawing
itself is checked fast, in the normal suite.
"""

import http.client
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.faults import (
    SCRAPED_DATASET,
    Undisturbed,
    all_tables,
    assert_tables_equal,
    scrape_env,
    video_key,
)
from tiktok_virality_tests.live_cli import (
    WatchingGemini,
    cli,
    finished,
)

# (fault rate, seed) of each scenario.
SCENARIOS = [(0.2, seed) for seed in (1, 2, 3, 4, 5)] + [(0.5, 1)]
MAX_RETRY_ROUNDS = 8
# The runs give a request to Gemini (or a video download for it) this long; a stall outlasts it.
REQUEST_TIMEOUT_SECONDS = 2
STALL_SECONDS = 3.0
# The first wait before the runs retry a request to Gemini or a download (it doubles each time).
RETRY_DELAY_SECONDS = 0.1
# apify-client gives a read of a run 5 s (its shortest timeout); an API stall outlasts that.
APIFY_API_STALL_SECONDS = 6.0
DOWNLOADS = r"/key-value-stores/[^/]+/records/"


@contextmanager
def faults_at_rate(
    fake_apify: FakeApify, fake_gemini: FakeGemini, rate: float, seed: int
) -> Iterator[None]:
    fake_apify.fail_at_rate(rate, seed=seed, path_pattern=DOWNLOADS, stall_seconds=STALL_SECONDS)
    fake_apify.fail_at_rate(
        rate, seed=seed, path_pattern=rf"^(?!.*{DOWNLOADS})", stall_seconds=APIFY_API_STALL_SECONDS
    )
    fake_gemini.fail_at_rate(rate, seed=seed, key=video_key, stall_seconds=STALL_SECONDS)
    try:
        yield
    finally:
        fake_apify.clear_faults()
        fake_gemini.clear_faults()


@pytest.mark.reliability
@pytest.mark.parametrize(
    ("rate", "seed"), SCENARIOS, ids=[f"rate{r * 100:.0f}-seed{s}" for r, s in SCENARIOS]
)
def test_runs_under_faults_retried_until_done_store_the_tables_of_a_fault_free_run(
    rate: float,
    seed: int,
    tmp_path: Path,
    sample_accounts: Path,
    undisturbed_scrape: Undisturbed,
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> None:
    data = tmp_path / "data"
    env = scrape_env(data, module_fake_apify, module_fake_gemini) | {
        "GEMINI_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT_SECONDS),
        "GEMINI_RETRY_DELAY_SECONDS": str(RETRY_DELAY_SECONDS),
    }
    gemini = WatchingGemini(module_fake_gemini)
    module_fake_gemini.on_generate(gemini)
    runs_before = len(module_fake_apify.runs)
    apify_faults_before = module_fake_apify.injected_faults
    gemini_faults_before = module_fake_gemini.injected_faults

    with faults_at_rate(module_fake_apify, module_fake_gemini, rate, seed):
        rounds = [
            finished(
                cli(
                    env,
                    "run",
                    "--dataset",
                    SCRAPED_DATASET,
                    "--accounts",
                    str(sample_accounts),
                    # The sample has 15 videos an account, so any number from 15 stores the same
                    # rows; a number of its own gives the scenario's actor runs an input of their
                    # own. A start lost to a fault is looked for among the actor's recent runs by
                    # its input, and must not find the run of a scenario just before.
                    "--videos-per-account",
                    str(16 + SCENARIOS.index((rate, seed))),
                )
            )
        ]
        while rounds[-1][0] != 0 and len(rounds) <= MAX_RETRY_ROUNDS:
            rounds.append(finished(cli(env, "run", "--dataset", SCRAPED_DATASET, "--retry-failed")))

    apify_faults = module_fake_apify.injected_faults - apify_faults_before
    gemini_faults = module_fake_gemini.injected_faults - gemini_faults_before
    extra_calls = sum(gemini.calls.values()) - undisturbed_scrape.gemini_calls
    print(
        f"{rate:.0%} seed {seed}: {len(rounds)} runs (exit {[code for code, _ in rounds]}), "
        f"Apify faults {sum(apify_faults.values())} {dict(apify_faults)}, Gemini faults "
        f"{sum(gemini_faults.values())} {dict(gemini_faults)}, {extra_calls} Gemini calls more "
        "than the fault-free run"
    )
    assert rounds[-1][0] == 0, "\n\n".join(output for _, output in rounds)
    assert sum(apify_faults.values()) > 0 and sum(gemini_faults.values()) > 0
    assert_tables_equal(all_tables(data), undisturbed_scrape.tables)
    # One paid actor run per batch, whatever the faults; Gemini asked again only for answers that
    # a fault lost (a 429 is refused before any work).
    assert len(module_fake_apify.runs) - runs_before == undisturbed_scrape.actor_runs
    assert 0 <= extra_calls <= sum(gemini_faults.values()) - gemini_faults["429"]


# ----------------------------------------------------------------------------- the fakes' drawing


def faulted_records(fake: FakeApify, keys: list[str]) -> set[str]:
    """The records whose plain GET, without retries, met a fault."""
    store = fake.runs[-1].default_key_value_store_id
    faulted = set()
    for key in keys:
        try:
            with urllib.request.urlopen(
                f"{fake.url}/v2/key-value-stores/{store}/records/{key}", timeout=10
            ) as response:
                assert response.read() == key.encode()
        except (OSError, http.client.HTTPException, AssertionError):  # HTTPError is an OSError
            faulted.add(key)
    return faulted


def started_with_records(fake: FakeApify, keys: list[str]) -> None:
    fake.on_run(lambda run_input, params: RunScript(records={key: key for key in keys}))
    urllib.request.urlopen(
        urllib.request.Request(f"{fake.url}/v2/actors/a~b/runs", data=b"{}", method="POST"),
        timeout=10,
    ).close()


def test_faults_at_a_rate_hit_the_same_requests_whatever_their_order() -> None:
    keys = [f"video-{n}" for n in range(200)]
    with FakeApify() as fake:  # not the module's: this one's scenario is changed
        started_with_records(fake, keys)

        fake.fail_at_rate(0.2, seed=7, path_pattern="/records/", stall_seconds=0)
        in_order = faulted_records(fake, keys)
        drawn = fake.injected_faults
        fake.clear_faults()
        fake.fail_at_rate(0.2, seed=7, path_pattern="/records/", stall_seconds=0)
        reversed_order = faulted_records(fake, keys[::-1])
        fake.clear_faults()
        fake.fail_at_rate(0.2, seed=8, path_pattern="/records/", stall_seconds=0)
        other_seed = faulted_records(fake, keys)

    assert in_order == reversed_order != other_seed
    assert 20 <= len(in_order) <= 60  # 20% of 200, give or take
    assert sum(drawn.values()) == len(in_order)
    assert set(drawn) == {"429", "500", "503", "stall", "reset", "truncate"}


def test_an_unknown_fault_kind_or_rate_is_refused() -> None:
    fake = FakeGemini()  # refused before it serves anything: never started
    with pytest.raises(ValueError, match="unknown fault kind 'slow'"):
        fake.fail_at_rate(0.2, seed=1, kinds=["503", "slow"])
    with pytest.raises(ValueError, match="rate must be between 0 and 1"):
        fake.fail_at_rate(1.5, seed=1)
