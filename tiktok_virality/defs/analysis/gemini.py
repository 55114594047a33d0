"""Gemini watching each video, through google-genai: one `generateContent` call per video.

- **Never pay twice.** Each successful analysis is stored (table `analysis_cache`, keyed by video id,
  model, schema version and the cost controls' fingerprint) as soon as it arrives; a partition's
  later runs call Gemini only for the videos without one. Another model, schema version or
  control analyses again, by design.
- **Nothing paid for a model that cannot answer.** The model is checked with `models.get` before
  the first call (and by the CLI before the first scrape: `preflight`).
- **Cost controls on every call** (`gemini_controls.py`): media resolution, frames a second, the
  seconds watched, the thinking level.
- **Video in** (`gemini_watch.py`, `gemini_media.py`): the scraped file (Apify's key-value-store
  record, fetched with the Apify token, which is sent to Apify's API only) goes inline up to
  64 MB, else through the Files API. Slideshows, and videos whose file is gone, are analysed from
  their metadata and cover image, and recorded as such (`input_kind`).
- **Quotas.** Up to `concurrency` videos at once, within the requests and input tokens a minute
  (`rate_limit.py`), waiting what a 429's RetryInfo says; a day's quota stops the analysis, keeps
  what was paid for and fails the partition saying how many videos are left.
- **Errors.** 5xx and timeouts are retried with backoff by the SDK (`HttpRetryOptions`, without
  429); an answer lost on the way and the video downloads are retried here. The SDK is pinned to
  httpx2 (it would switch to aiohttp whenever aiohttp is importable), so that its transport
  errors are the ones classified here whatever else is installed. What is wrong with one video
  for good (a safety block, output that stays invalid, a refused request) is recorded and does not
  fail the partition; what may pass (server errors, network) fails it once the other videos are
  done and stored, and a video failing so three runs in a row is given up on; quota refusals
  never count towards that."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import pandas as pd
from google import genai
from google.genai import errors as genai_errors

from tiktok_virality.core.errors import RecordedError, describe_error
from tiktok_virality.core.event_loop import run_until_complete
from tiktok_virality.defs.analysis.analyzers import (
    NO_BUDGET,
    AnalysisResult,
    BudgetReached,
    SpendingGate,
    TokenUsage,
    VideoAnalyzer,
)
from tiktok_virality.defs.analysis.cache import AnalysisCache, CachedAnalysis
from tiktok_virality.defs.analysis.columns import analysis_frame, flatten_analyses
from tiktok_virality.defs.analysis.gemini_controls import AnalysisControls
from tiktok_virality.defs.analysis.gemini_failures import (
    TRANSIENT_ERRORS,
    AnalyzerConfigurationError,
    DailyQuotaExhausted,
    DailyQuotaReached,
    PermanentFailure,
    RetryPolicy,
    refused_for_now,
    refuses_every_request,
)
from tiktok_virality.defs.analysis.gemini_media import VideoMedia
from tiktok_virality.defs.analysis.gemini_models import check_model, gemini_client
from tiktok_virality.defs.analysis.gemini_watch import INLINE_MAX_BYTES, VideoWatcher
from tiktok_virality.defs.analysis.group_writer import GroupWriter
from tiktok_virality.defs.analysis.rate_limit import GeminiQuota
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION
from tiktok_virality.defs.media.cache import MediaCache
from tiktok_virality.warehouse.tables import VIDEO_ANALYSES

_Stop = AnalyzerConfigurationError | DailyQuotaExhausted | BudgetReached


@dataclass(frozen=True)
class _Outcome:
    video_id: str
    analysis: CachedAnalysis | None = None
    error: RecordedError | None = None
    usage: TokenUsage | None = None
    # Refused by the quota: not yet analysed, and not counted towards giving the video up.
    quota: bool = False


def _analysis_rows(
    videos: pd.DataFrame, analyses: dict[str, CachedAnalysis], model: str
) -> pd.DataFrame:
    analysed = videos[videos["video_id"].isin(list(analyses))]
    if analysed.empty:
        return VIDEO_ANALYSES.empty_frame()
    made = [analyses[video_id] for video_id in analysed["video_id"]]
    rows = analysis_frame(
        analysed,
        flatten_analyses([analysis.record for analysis in made]),
        analyzer="gemini",
        model=model,
        input_kind="video",
        analyzed_at=datetime.now(UTC),
    )
    # Each analysis keeps what it was made from and when (a cached one: its first run).
    rows["input_kind"] = [analysis.input_kind for analysis in made]
    rows["analyzed_at"] = pd.to_datetime([analysis.analyzed_at for analysis in made], utc=True)
    return rows


def _raise_stop(model: str, stopped: list[_Stop], todo: int, done: list[_Outcome]) -> None:
    """The error that stopped the analysis: a refusal of every request first, else the budget or
    the day's quota, with the videos left (neither analysed nor given up on)."""
    refused = [error for error in stopped if isinstance(error, AnalyzerConfigurationError)]
    if refused:
        raise refused[0]
    settled = sum(1 for o in done if o.analysis is not None or (o.error and o.error.permanent))
    budget = [error for error in stopped if isinstance(error, BudgetReached)]
    if budget:
        raise BudgetReached(
            f"{budget[0].reason}; {todo - settled} videos of this batch left to analyse",
            budget[0].resume,
        )
    raise DailyQuotaReached(
        f"daily quota of {model} reached: {todo - settled} videos left; run the same "
        "command after the quota resets, with --retry-failed (in the UI: re-execute the "
        "failed partition)"
    )


class GeminiAnalyzer(VideoAnalyzer):
    """Each video watched by Gemini and described in the versioned analysis schema."""

    # Passed in by `resources.py`, from `Settings` (which holds the defaults).
    api_key: str
    cache: AnalysisCache
    model: str
    # None: the SDK's own default, or GOOGLE_GEMINI_BASE_URL when set.
    base_url: str | None
    concurrency: int
    requests_per_minute: float
    tokens_per_minute: float
    media_resolution: str
    frames_per_second: float
    max_video_seconds: float
    thinking_level: str
    initial_retry_delay_seconds: float
    # Each request (a Gemini call, a video download) gives up after this long, and is retried.
    request_timeout_seconds: float
    # The scraped video files are records of Apify's key-value stores, fetched with its token.
    apify_token: str | None
    apify_api_url: str
    # Where the scrape copied those files: read first (Apify deletes them after its retention).
    media_cache: MediaCache | None = None
    # Not read from the environment: their one default is here (tests shorten some).
    api_version: str = "v1beta"
    retry_attempts: int = 5
    # A minute's quota refusing a call this many times in a row fails the video for a later run.
    quota_attempts: int = 5
    inline_max_bytes: int = INLINE_MAX_BYTES
    file_poll_seconds: float = 2.0
    file_poll_attempts: int = 150
    # A video failing this many runs in a row (not for quota) is given up on (recorded, not
    # retried).
    give_up_after_attempts: int = 3
    # The record of the quota shared by every process on the data folder (rate_limit.py); None:
    # this analysis's own, as a test's analyzer has.
    quota_file: str | None = None

    @property
    def controls(self) -> AnalysisControls:
        return AnalysisControls(
            self.media_resolution,
            self.frames_per_second,
            self.max_video_seconds,
            self.thinking_level,
        )

    def preflight(self) -> None:
        """Stop before anything is paid for when the key or the model cannot be used."""
        run_until_complete(self._preflight())

    async def _preflight(self) -> None:
        client = self._client()
        try:
            await self._check_model(client)
        finally:
            await client.aio.aclose()

    async def _check_model(self, client: genai.Client) -> None:
        try:
            # A lost answer or a 5xx says nothing about the model: asked again, as any call is.
            await self._retry_policy().run(
                lambda: check_model(client, self.model),
                may_pass=lambda error: isinstance(error, TRANSIENT_ERRORS),
            )
        except genai_errors.ClientError as error:
            if refuses_every_request(error):
                raise AnalyzerConfigurationError(
                    describe_error(error, secrets=self._secrets())
                ) from None
            raise

    def analyze(
        self,
        videos: pd.DataFrame,
        log: logging.Logger,
        *,
        spending: SpendingGate = NO_BUDGET,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> AnalysisResult:
        """Analyse the videos not analysed yet with this model, schema and controls; `clock` and
        `sleep` time the quota's waits (a test's own make them instant)."""
        rows = videos.to_dict("records")
        video_ids = [row["video_id"] for row in rows]
        settings = self.controls.fingerprint
        cached = self.cache.cached_analyses(
            video_ids, model=self.model, schema_version=SCHEMA_VERSION, settings=settings
        )
        given_up = {
            video_id: failure
            for video_id, failure in self.cache.analysis_failures(
                video_ids, model=self.model, schema_version=SCHEMA_VERSION
            ).items()
            if failure.permanent
        }
        todo = [row for row in rows if row["video_id"] not in cached | given_up.keys()]
        log.info(
            f"{len(rows)} videos: {len(cached)} already analysed by {self.model} ({settings}), "
            f"{len(given_up)} given up on, {len(todo)} to analyse"
        )
        quota = GeminiQuota(
            self.requests_per_minute,
            self.tokens_per_minute,
            clock=clock,
            sleep=sleep,
            shared_file=Path(self.quota_file) if self.quota_file else None,
        )
        outcomes = run_until_complete(self._analyze_all(todo, quota, log, spending)) if todo else []
        analyses = dict(cached)
        analyses.update({o.video_id: o.analysis for o in outcomes if o.analysis is not None})
        accounts = dict(zip(video_ids, (row.get("account") for row in rows), strict=True))
        return AnalysisResult(
            analyses=_analysis_rows(videos, analyses, self.model),
            errors=[o.error for o in outcomes if o.error is not None]
            + [
                RecordedError(accounts[video_id], failure.error, permanent=True)
                for video_id, failure in given_up.items()
            ],
            usage={o.video_id: o.usage for o in outcomes if o.usage is not None},
        )

    def _client(self) -> genai.Client:
        return gemini_client(
            self.api_key,
            base_url=self.base_url,
            api_version=self.api_version,
            retry_attempts=self.retry_attempts,
            initial_retry_delay_seconds=self.initial_retry_delay_seconds,
            timeout_seconds=self.request_timeout_seconds,
        )

    async def _analyze_all(
        self,
        videos: list[dict[str, Any]],
        quota: GeminiQuota,
        log: logging.Logger,
        spending: SpendingGate,
    ) -> list[_Outcome]:
        """Every video's outcome. A key or model Gemini refuses, or the day's quota, stops the
        videos not yet started; those in flight finish, and their paid-for answers are stored
        before the error is raised."""
        client = self._client()
        slots = asyncio.Semaphore(self.concurrency)
        stopped: list[_Stop] = []
        writer = GroupWriter(partial(self._store, spending=spending))

        async def one(watcher: VideoWatcher, video: dict[str, Any]) -> _Outcome | None:
            async with slots:
                if stopped:
                    return None
                try:
                    outcome = await self._analyze_one(watcher, video)
                except (AnalyzerConfigurationError, DailyQuotaExhausted, BudgetReached) as error:
                    stopped.append(error)
                    return None
                return await writer.store(outcome)

        try:
            await self._check_model(client)
            async with httpx2.AsyncClient(
                follow_redirects=True, timeout=self.request_timeout_seconds
            ) as http:
                media = VideoMedia(
                    http,
                    self.apify_api_url,
                    self.apify_token,
                    self._retry_policy(),
                    self.media_cache,
                )
                watcher = self._watcher(client, media, quota, spending)
                outcomes = await asyncio.gather(*(one(watcher, video) for video in videos))
        finally:
            await client.aio.aclose()
        if media.gone_from_apify:
            log.warning(
                f"{len(media.gone_from_apify)} videos analysed from their metadata: their files "
                "are gone from Apify (past its retention period) and were never copied to the "
                f"media cache ({', '.join(media.gone_from_apify[:5])}"
                f"{', ...' if len(media.gone_from_apify) > 5 else ''})"
            )
        done = [outcome for outcome in outcomes if outcome is not None]
        if stopped:
            _raise_stop(self.model, stopped, len(videos), done)
        return done

    def _watcher(
        self, client: genai.Client, media: VideoMedia, quota: GeminiQuota, spending: SpendingGate
    ) -> VideoWatcher:
        return VideoWatcher(
            client=client,
            media=media,
            quota=quota,
            spending=spending,
            controls=self.controls,
            model=self.model,
            retry=self._retry_policy(),
            quota_attempts=self.quota_attempts,
            inline_max_bytes=self.inline_max_bytes,
            file_poll_seconds=self.file_poll_seconds,
            file_poll_attempts=self.file_poll_attempts,
        )

    def _store(self, outcomes: list[_Outcome], spending: SpendingGate) -> list[_Outcome]:
        """Store answers, and what they cost, and count failures; the failures come back marked
        permanent once given up on. A quota refusal is not a failure of the video: not counted."""
        answered = {o.video_id: o.analysis for o in outcomes if o.analysis is not None}
        if answered:
            self.cache.store_analyses(
                answered,
                model=self.model,
                schema_version=SCHEMA_VERSION,
                settings=self.controls.fingerprint,
            )
            spending.paid(
                self.model,
                f"schema={SCHEMA_VERSION};{self.controls.fingerprint}",
                {o.video_id: o.usage for o in outcomes if o.usage is not None},
            )
        return [
            outcome
            if outcome.analysis is not None or outcome.quota
            else self._count_failure(outcome)
            for outcome in outcomes
        ]

    def _count_failure(self, outcome: _Outcome) -> _Outcome:
        assert outcome.error is not None
        failure = self.cache.record_analysis_failure(
            outcome.video_id,
            model=self.model,
            schema_version=SCHEMA_VERSION,
            error=outcome.error.error,
            permanent=outcome.error.permanent,
            give_up_after=self.give_up_after_attempts,
        )
        return replace(outcome, error=replace(outcome.error, permanent=failure.permanent))

    async def _analyze_one(self, watcher: VideoWatcher, video: dict[str, Any]) -> _Outcome:
        video_id, account = video["video_id"], video.get("account")
        try:
            watched = await watcher.watch(video)
        except PermanentFailure as failure:
            return _Outcome(video_id, error=RecordedError(account, f"{video_id}: {failure}", True))
        except genai_errors.ClientError as error:
            message = describe_error(error, secrets=self._secrets())
            if refuses_every_request(error):
                raise AnalyzerConfigurationError(message) from None
            permanent = not refused_for_now(error)
            return _Outcome(
                video_id,
                error=RecordedError(account, f"{video_id}: {message}", permanent),
                quota=error.code == 429,
            )
        except TRANSIENT_ERRORS as error:  # a later retry may succeed
            message = f"{video_id}: {describe_error(error, secrets=self._secrets())}"
            return _Outcome(video_id, error=RecordedError(account, message, permanent=False))
        return _Outcome(video_id, analysis=watched.analysis, usage=watched.usage)

    def _secrets(self) -> list[str]:
        return [secret for secret in (self.api_key, self.apify_token) if secret]

    def _retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.retry_attempts, self.initial_retry_delay_seconds)
