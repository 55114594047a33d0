"""Scraping TikTok accounts with Apify's TikTok scraper actor, through apify-client.

One actor run per batch, with all the batch's accounts in `profiles` (fewer runs, lower cost).

Starting a run is the one request that costs money, so a batch never starts a second run while a
first one may still serve:

- The run id is remembered (in DuckDB) as soon as the run starts. A retry of the partition resumes
  that run while it is running, or reuses its results once it has succeeded (for `reuse_hours`),
  instead of starting another: a failure while polling or paging costs nothing more. That a start
  is under way is remembered before it is sent: an attempt stopped before it heard of its run
  (killed, or Ctrl-C during the start) leaves a run the retry finds by its input and adopts.
- apify-client retries `POST /runs` after a 500, and if the server had started the run before
  failing, that retry starts a second paid run. So the start is sent with the client's retries off
  and retried here: a 429 (refused: no run) is retried as it is; after any other failure of the
  start (5xx, lost connection, unreadable answer), the actor's recent runs are searched — before
  every new attempt — for one started with our input, which is adopted.

Everything after the start (polling, paging the dataset) is idempotent and keeps the client's
retries. Error messages are cut to their first line; neither they nor the items ever carry the
token (an item echoing it is masked, as it is stored, logged and shown)."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from apify_client import ApifyClient
from apify_client.errors import ApifyApiError

from tiktok_virality.core.errors import describe_error
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.scraping.ledger import ScrapeLedger
from tiktok_virality.defs.scraping.normalize import map_strings
from tiktok_virality.defs.scraping.sources import ScrapeRequest, SourceItems, VideoSource

DEFAULT_ACTOR = "clockworks/tiktok-scraper"
SUCCEEDED = "SUCCEEDED"
UNFINISHED = ("READY", "RUNNING")
# How far back a lost start's run may have been recorded, for clock skew between us and Apify.
_START_SKEW = timedelta(seconds=30)
_RECENT_RUNS_SEARCHED = 10
_MAX_RETRY_DELAY_SECONDS = 30.0


class ScrapeRunError(RuntimeError):
    """A scrape that failed (the run failed, timed out, was aborted, or could not be started or
    read): the partition fails, and a retry resumes or repeats it."""


def actor_input(request: ScrapeRequest, *, download_videos: bool) -> dict[str, Any]:
    """The TikTok scraper's input for one batch: its accounts' latest videos, within the max age.

    Each account gets an equal share of the batch's video budget, so that a dataset close to its
    max total videos does not spend it all on the first profiles of the run."""
    share = math.ceil(request.max_videos / len(request.accounts))
    return {
        "profiles": list(request.accounts),
        "profileScrapeSections": ["videos"],
        "profileSorting": "latest",
        "resultsPerPage": min(request.videos_per_account, share),
        "oldestPostDateUnified": f"{request.max_age_days} days",
        "excludePinnedPosts": False,
        "shouldDownloadVideos": download_videos,
        "shouldDownloadCovers": False,
        "shouldDownloadSubtitles": False,
        "shouldDownloadSlideshowImages": False,
    }


def input_fingerprint(run_input: dict[str, Any], refresh: int = 0) -> str:
    """What the ledger knows a batch's run by: its input, and for a refresh its number (not sent
    to the actor), so that a refresh starts a new run and a retry of it reuses that run."""
    keyed = run_input if refresh == 0 else {**run_input, "tiktok_virality_refresh": refresh}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()


class ApifyVideoSource(VideoSource):
    """The batch's accounts scraped live by an Apify actor run."""

    # Passed in by `resources.py`, from `Settings` (which holds the defaults).
    token: str
    ledger: ScrapeLedger
    api_url: str
    # Not read from the environment: their one default is here (tests shorten some).
    actor_id: str = DEFAULT_ACTOR
    download_videos: bool = True
    run_timeout_seconds: int = 3600
    reuse_hours: float = 24.0
    max_retries: int = 4
    min_retry_delay_seconds: float = 0.5

    def _client(self, *, max_retries: int) -> ApifyClient:
        return ApifyClient(
            self.token,
            api_url=self.api_url,
            max_retries=max_retries,
            min_delay_between_retries=timedelta(seconds=self.min_retry_delay_seconds),
        )

    def fetch(self, request: ScrapeRequest, log: logging.Logger) -> SourceItems:
        try:
            return self._fetch(request, log)
        except ScrapeRunError:
            raise
        except Exception as error:  # whatever the client raised, told without the token
            raise ScrapeRunError(
                f"scraping {request.dataset}/{request.batch} with {self.actor_id} failed: "
                f"{describe_error(error, secrets=[self.token])}"
            ) from None

    def _fetch(self, request: ScrapeRequest, log: logging.Logger) -> SourceItems:
        run_input = actor_input(request, download_videos=self.download_videos)
        partition = VideoPartition(request.dataset, request.batch)
        fingerprint = input_fingerprint(run_input, request.refresh)
        client = self._client(max_retries=self.max_retries)
        run_id = self._reusable_run(client, partition, fingerprint, run_input, log)
        if run_id is None:
            self.ledger.record_scrape_start(partition, fingerprint)
            run_id = self._start_run(client, run_input, request, log)
        self.ledger.remember_scrape_run(partition, fingerprint, run_id)
        # The server holds each poll up to a minute; give the run its own timeout and a margin.
        finished = client.run(run_id).wait_for_finish(
            wait_duration=timedelta(seconds=self.run_timeout_seconds + 120)
        )
        status = finished.status if finished else "UNKNOWN"
        if finished is None or status != SUCCEEDED:
            raise ScrapeRunError(
                f"Apify run {run_id} of {self.actor_id} for {partition} ended {status}; retry the "
                "partition to scrape it again"
            )
        items = [
            # Items are stored, logged and shown as they come: none may echo the token.
            map_strings(item, self._without_token)
            for item in client.dataset(finished.default_dataset_id).iterate_items()
        ]
        return SourceItems(items=items, scraped_at=finished.finished_at or datetime.now(UTC))

    def _without_token(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def _reusable_run(
        self,
        client: ApifyClient,
        partition: VideoPartition,
        fingerprint: str,
        run_input: dict[str, Any],
        log: logging.Logger,
    ) -> str | None:
        """The batch's remembered run for this input, if it is running or recently succeeded."""
        remembered = self.ledger.remembered_scrape_run(partition, fingerprint)
        if remembered is None:
            return None
        run_id = remembered.run_id
        if run_id is None:  # an attempt stopped during the start: did the start reach Apify?
            run_id = self._run_started_with(
                client, run_input, since=remembered.started_at - _START_SKEW
            )
            if run_id is None:
                return None
            log.warning(
                f"adopting Apify run {run_id} of {partition}: an earlier attempt started it but "
                "stopped before remembering it"
            )
        run = client.run(run_id).get()
        if run is None:
            return None
        fresh = run.finished_at is None or datetime.now(UTC) - run.finished_at < timedelta(
            hours=self.reuse_hours
        )
        if run.status in UNFINISHED or (run.status == SUCCEEDED and fresh):
            log.info(f"resuming Apify run {run.id} ({run.status}) of {partition}")
            return run.id
        return None

    def _start_run(
        self,
        client: ApifyClient,
        run_input: dict[str, Any],
        request: ScrapeRequest,
        log: logging.Logger,
    ) -> str:
        starter = self._client(max_retries=0).actor(self.actor_id)
        first_attempt_at = datetime.now(UTC)
        may_have_started = False
        last_error: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(
                    min(self.min_retry_delay_seconds * 2 ** (attempt - 1), _MAX_RETRY_DELAY_SECONDS)
                )
            if may_have_started:
                adopted = self._run_started_with(
                    client, run_input, since=first_attempt_at - _START_SKEW
                )
                if adopted is not None:
                    log.warning(
                        f"starting the Apify run failed ({describe_error(last_error, secrets=[self.token])})"
                        f" after run {adopted} had started: using that run"
                    )
                    return adopted
            try:
                run = starter.start(
                    run_input=run_input,
                    # Error items (missing accounts) count as items too: leave room for one each.
                    max_items=run_input["resultsPerPage"] * len(request.accounts)
                    + len(request.accounts),
                    run_timeout=timedelta(seconds=self.run_timeout_seconds),
                )
                return run.id
            except ApifyApiError as error:
                if error.status_code != 429 and error.status_code < 500:
                    raise  # refused for good (bad token, no credit, bad input): no run
                last_error = error
                may_have_started |= error.status_code != 429
            except Exception as error:  # lost connection, unreadable answer: it may have started
                last_error = error
                may_have_started = True
        raise ScrapeRunError(
            f"could not start {self.actor_id} for {request.dataset}/{request.batch} after "
            f"{self.max_retries + 1} attempts: {describe_error(last_error, secrets=[self.token])}"
        )

    def _run_started_with(
        self, client: ApifyClient, run_input: dict[str, Any], *, since: datetime
    ) -> str | None:
        """A run of the actor started since `since` with our input and not failed, if any.

        Apify stores the input with the actor's defaults filled in, so every key we sent must match,
        not the whole record."""
        recent = client.actor(self.actor_id).runs().list(desc=True, limit=_RECENT_RUNS_SEARCHED)
        for run in recent.items:
            if run.started_at < since:
                break
            if run.status not in (*UNFINISHED, SUCCEEDED):
                continue
            record = client.key_value_store(run.default_key_value_store_id).get_record("INPUT")
            stored = record.get("value") if record else None
            if isinstance(stored, dict) and all(stored.get(k) == v for k, v in run_input.items()):
                return run.id
        return None
