"""Scraping TikTok accounts with Apify's TikTok scraper actor, through apify-client.

One actor run per batch, with all the batch's accounts in `profiles` (fewer runs, lower cost).
The actor is paid per event: each run carries the batch's cap (`max_total_charge_usd`) and asks
only for the paid add-ons worth their price (`apify_actor.py`); the finished run's charges are
returned with its items. Right after the run, the video files it downloaded are copied from its
key-value store into the media cache (`defs/media/`): Apify deletes that store after its
retention period. When the cache holds some of the batch's videos already (a refresh), the batch's
run goes without downloads and a second run downloads only the new videos (`new_downloads.py`).

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
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from apify_client import ApifyClient
from apify_client.errors import ApifyApiError

from tiktok_virality.core.errors import describe_error
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.media.cache import MediaCache
from tiktok_virality.defs.media.copy import copy_videos
from tiktok_virality.defs.scraping.apify_actor import (
    ActorOptions,
    actor_input,
    current_event_prices,
    downloaded_videos,
    key_value_record,
    run_charges,
)
from tiktok_virality.defs.scraping.ledger import ScrapeLedger
from tiktok_virality.defs.scraping.new_downloads import (
    FinishedRun,
    RunLimits,
    download_new_videos,
    plan_downloads,
    with_downloads,
)
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
    # Where the downloaded video files are copied right after the scrape; None: not copied.
    media_cache: MediaCache | None = None
    # The paid add-ons (see `ActorOptions`): chosen in `resources.py`.
    download_videos: bool = True
    date_filter: bool = False
    exclude_pinned_posts: bool = True
    # Not read from the environment: their one default is here (tests shorten some).
    actor_id: str = DEFAULT_ACTOR
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
        partition = VideoPartition(request.dataset, request.batch)
        plan = plan_downloads(request, self.actor_options, self.media_cache)
        run_input = actor_input(request, plan.batch_options)
        fingerprint = input_fingerprint(run_input, request.refresh)
        client = self._client(max_retries=self.max_retries)
        limits = RunLimits(
            request.max_charge_usd,
            # Error and note items count as items too: room for one per account.
            run_input["resultsPerPage"] * len(request.accounts) + len(request.accounts),
        )
        batch_run = self.completed_run(client, partition, fingerprint, run_input, limits, log)
        assert batch_run is not None  # started when not reused
        if plan.batch_options.download_videos:
            self.copy_downloads(client, batch_run.items, log)
        items, charges = batch_run.items, [run_charges(self.actor_id, batch_run.run)]
        if plan.split:
            downloads = download_new_videos(
                self, client, partition, fingerprint, items, limits, charges[0], log
            )
            if downloads is not None:
                charges.append(run_charges(self.actor_id, downloads.run))
                items = with_downloads(items, downloads.items)
        return SourceItems(
            items=items,
            scraped_at=batch_run.run.finished_at or datetime.now(UTC),
            charges=tuple(charges),
        )

    def completed_run(
        self,
        client: ApifyClient,
        partition: VideoPartition,
        fingerprint: str,
        run_input: dict[str, Any],
        limits: RunLimits | None,
        log: logging.Logger,
    ) -> FinishedRun | None:
        """The finished run of this input and its items (masked): the remembered one resumed or
        reused, else one started within `limits` (None: none is started, and None returned)."""
        run_id = self._reusable_run(client, partition, fingerprint, run_input, log)
        if run_id is None:
            if limits is None:
                return None
            self.ledger.record_scrape_start(partition, fingerprint)
            run_id = self._start_run(client, run_input, partition, limits, log)
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
        if finished.status_message:  # e.g. that the run stopped at its max cost
            log.info(f"Apify run {run_id} says: {finished.status_message}")
        items = [
            # Items are stored, logged and shown as they come: none may echo the token.
            map_strings(item, self._without_token)
            for item in client.dataset(finished.default_dataset_id).iterate_items()
        ]
        return FinishedRun(finished, items)

    def copy_downloads(
        self, client: ApifyClient, items: list[dict[str, Any]], log: logging.Logger
    ) -> None:
        """The video files the run downloaded, copied into the media cache (if there is one)."""
        if self.media_cache is None:
            return
        copied = copy_videos(
            downloaded_videos(items, self.api_url),
            self.media_cache,
            lambda url: self._video_file(client, url),
            log,
        )
        log.info(copied.describe())

    @property
    def actor_options(self) -> ActorOptions:
        return ActorOptions(
            download_videos=self.download_videos,
            date_filter=self.date_filter,
            exclude_pinned_posts=self.exclude_pinned_posts,
        )

    def event_prices(self) -> dict[str, float]:
        """The actor's current price of each event, in US dollars (its `pricingInfos`), for
        estimates before a run; empty if the actor is not paid per event."""
        try:
            actor = self._client(max_retries=self.max_retries).actor(self.actor_id).get()
        except Exception as error:  # told without the token
            raise ScrapeRunError(
                f"reading the prices of {self.actor_id} failed: "
                f"{describe_error(error, secrets=[self.token])}"
            ) from None
        if actor is None:
            raise ScrapeRunError(f"Apify knows no actor {self.actor_id}")
        return current_event_prices(actor.pricing_infos, datetime.now(UTC))

    def _video_file(self, client: ApifyClient, url: str) -> bytes | None:
        """The record's bytes, through the client (its retries; the token never in a URL)."""
        location = key_value_record(url, self.api_url)
        if location is None:
            return None
        store, key = location
        record = client.key_value_store(store).get_record_as_bytes(key)
        return record["value"] if record else None

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
            run_id = run_started_with(
                client, self.actor_id, run_input, since=remembered.started_at - _START_SKEW
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
        partition: VideoPartition,
        limits: RunLimits,
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
                adopted = run_started_with(
                    client, self.actor_id, run_input, since=first_attempt_at - _START_SKEW
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
                    # The cap of a pay-per-event actor (this one): nothing past it is charged.
                    max_total_charge_usd=None
                    if limits.max_charge_usd is None
                    else Decimal(str(limits.max_charge_usd)),
                    # No cost cap here (Apify applies it to pay-per-result actors only), but
                    # harmless, and a cap again should the actor go back to pricing per result.
                    max_items=limits.max_items,
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
            f"could not start {self.actor_id} for {partition} after "
            f"{self.max_retries + 1} attempts: {describe_error(last_error, secrets=[self.token])}"
        )


def run_started_with(
    client: ApifyClient, actor_id: str, run_input: dict[str, Any], *, since: datetime
) -> str | None:
    """A run of the actor started since `since` with our input and not failed, if any.

    Apify stores the input with the actor's defaults filled in, so every key we sent must match,
    not the whole record."""
    recent = client.actor(actor_id).runs().list(desc=True, limit=_RECENT_RUNS_SEARCHED)
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
