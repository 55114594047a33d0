"""Scraping TikTok accounts with Apify's TikTok scraper actor, through apify-client.

One actor run per batch, with all the batch's accounts in `profiles` (fewer runs, lower cost).

Starting a run is the one request that costs money, and the client retries `POST /runs` on a 500:
if the server had started the run before failing, a retry starts a second paid run. So the start is
sent with the client's retries off, and retried here: a 429 means the request was refused (retried
as it is); after a 5xx or a lost connection the actor's recent runs are searched for one started with
exactly our input, which is adopted instead of starting another. Everything after the start (polling,
paging the dataset) is idempotent and keeps the client's retries."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from apify_client import ApifyClient
from apify_client.errors import ApifyApiError, ApifyClientError

from tiktok_virality.resources.sources import ScrapeRequest, SourceItems, VideoSource

DEFAULT_API_URL = "https://api.apify.com"
DEFAULT_ACTOR = "clockworks/tiktok-scraper"
SUCCEEDED = "SUCCEEDED"
# How far back a lost start's run may have been recorded, for clock skew between us and Apify.
_START_SKEW = timedelta(seconds=30)
_RECENT_RUNS_SEARCHED = 10

logger = logging.getLogger(__name__)


class ScrapeRunError(RuntimeError):
    """A transient scrape failure (the run failed, timed out, was aborted, or could not be started):
    the partition fails, and a retry runs it again."""


def actor_input(request: ScrapeRequest, *, download_videos: bool) -> dict[str, Any]:
    """The TikTok scraper's input for one batch: its accounts' latest videos, within the max age."""
    return {
        "profiles": list(request.accounts),
        "profileScrapeSections": ["videos"],
        "profileSorting": "latest",
        "resultsPerPage": request.videos_per_account,
        "oldestPostDateUnified": f"{request.max_age_days} days",
        "excludePinnedPosts": False,
        "shouldDownloadVideos": download_videos,
        "shouldDownloadCovers": False,
        "shouldDownloadSubtitles": False,
        "shouldDownloadSlideshowImages": False,
    }


class ApifyVideoSource(VideoSource):
    """The batch's accounts scraped live by an Apify actor run."""

    token: str
    api_url: str = DEFAULT_API_URL
    actor_id: str = DEFAULT_ACTOR
    download_videos: bool = True
    run_timeout_seconds: int = 3600
    max_retries: int = 4
    min_retry_delay_seconds: float = 0.5

    def _client(self, *, max_retries: int) -> ApifyClient:
        return ApifyClient(
            self.token,
            api_url=self.api_url,
            max_retries=max_retries,
            min_delay_between_retries=timedelta(seconds=self.min_retry_delay_seconds),
        )

    def fetch(self, request: ScrapeRequest) -> SourceItems:
        run_input = actor_input(request, download_videos=self.download_videos)
        client = self._client(max_retries=self.max_retries)
        run_id = self._start_run(client, run_input, request)
        # The server holds each poll up to a minute; give the run its own timeout and a margin.
        finished = client.run(run_id).wait_for_finish(
            wait_duration=timedelta(seconds=self.run_timeout_seconds + 120)
        )
        status = finished.status if finished else "UNKNOWN"
        if finished is None or status != SUCCEEDED:
            raise ScrapeRunError(
                f"Apify run {run_id} of {self.actor_id} for {request.dataset}/{request.batch} "
                f"ended {status}; retry the partition to scrape it again"
            )
        items = list(client.dataset(finished.default_dataset_id).iterate_items())
        return SourceItems(items=items, scraped_at=finished.finished_at or datetime.now(UTC))

    def _start_run(
        self, client: ApifyClient, run_input: dict[str, Any], request: ScrapeRequest
    ) -> str:
        starter = self._client(max_retries=0).actor(self.actor_id)
        last_error: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.min_retry_delay_seconds * 2 ** (attempt - 1))
            requested_at = datetime.now(UTC)
            try:
                run = starter.start(
                    run_input=run_input,
                    # Error items (missing accounts) count as items too: leave room for one each.
                    max_items=request.max_videos + len(request.accounts),
                    run_timeout=timedelta(seconds=self.run_timeout_seconds),
                )
                return run.id
            except ApifyApiError as error:
                if error.status_code != 429 and error.status_code < 500:
                    raise
                last_error = error
                if error.status_code == 429:
                    continue  # refused: no run was started
            except ApifyClientError:
                raise
            except Exception as error:  # the transport's own errors: the run may have started
                last_error = error
            adopted = self._run_started_with(client, run_input, since=requested_at - _START_SKEW)
            if adopted is not None:
                logger.warning(
                    "starting the Apify run failed (%s) after the run %s had started: using it",
                    last_error,
                    adopted,
                )
                return adopted
        raise ScrapeRunError(
            f"could not start {self.actor_id} for {request.dataset}/{request.batch} after "
            f"{self.max_retries + 1} attempts: {last_error}"
        )

    def _run_started_with(
        self, client: ApifyClient, run_input: dict[str, Any], *, since: datetime
    ) -> str | None:
        """The id of a run of the actor started since `since` with exactly this input, if any."""
        recent = client.actor(self.actor_id).runs().list(desc=True, limit=_RECENT_RUNS_SEARCHED)
        for run in recent.items:
            if run.started_at < since:
                break
            record = client.key_value_store(run.default_key_value_store_id).get_record("INPUT")
            if record is not None and record.get("value") == run_input:
                return run.id
        return None
