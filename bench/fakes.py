"""The test suite's fake Apify and Gemini servers as the benchmarks use them: scraped video files
to download, a run duration, and the Gemini fake's own record of when requests arrived."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from apify_client import ApifyClient

from tiktok_virality.defs.scraping.apify import DEFAULT_ACTOR
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import FakeGemini, GenerateScript

APIFY_TOKEN = "bench-apify-token"
GEMINI_KEY = "bench-gemini-key"
VIDEO_ID_IN_TEXT = re.compile(r"\b\d{19}\b")
_RUN_READ = re.compile(r"/v2/actor-runs/[^/]+")


class ConcurrentFakeApify(FakeApify):
    """The fake Apify with the listen backlog the fake Gemini has (64).

    With the default backlog of `socketserver` (5), the 8 or 16 video downloads a partition starts
    at once overflow it; the kernel drops the extra connection attempts and the client sends them
    again a second later: a delay of the fake, not of Apify, that would halve the analysis
    throughput measured here."""

    _request_queue_size = 64


def stored_files(fake: FakeApify, files: Mapping[str, bytes]) -> dict[str, str]:
    """The files as records of one scrape run's key-value store, where Apify keeps the videos it
    downloaded; returns each file's URL. The run is one of `fake.runs`; the fake's runs go back to
    its default scenario."""
    fake.on_run(
        lambda run_input, params: RunScript(
            records={key: (content, "video/mp4") for key, content in files.items()}
        )
    )
    ApifyClient(APIFY_TOKEN, api_url=fake.url).actor(DEFAULT_ACTOR).start()
    fake.on_run(None)
    store = fake.runs[-1].default_key_value_store_id
    return {key: f"{fake.url}/v2/key-value-stores/{store}/records/{key}" for key in files}


def run_duration(seconds: float) -> Callable[[str, str], float]:
    """A latency for FakeApify that makes each actor run take `seconds`: the client waits for a run
    with `GET /v2/actor-runs/{id}?waitForFinish=...`, which the API holds until the run ends. The
    fake has no run-duration setting of its own, so its reply to that read is held instead."""

    def latency(method: str, path: str) -> float:
        return seconds if method == "GET" and _RUN_READ.fullmatch(path) else 0.0

    return latency


class GenerateArrivals:
    """When each generateContent request reached the fake Gemini, by the server's clock, recorded
    by a scenario handler that answers as the fake's default does."""

    def __init__(self, fake: FakeGemini) -> None:
        self._fake = fake
        self._lock = threading.Lock()
        self._times: list[float] = []
        fake.on_generate(self._answer)

    def _answer(self, request_json: dict[str, Any]) -> GenerateScript:
        with self._lock:
            self._times.append(time.monotonic())
        return GenerateScript(json_value=self._fake.default_json(request_json))

    def take(self) -> list[float]:
        """The arrival times recorded since the last call."""
        with self._lock:
            times, self._times = self._times, []
        return times
