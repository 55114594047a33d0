"""Gemini watching each video, through google-genai: one `generateContent` call per video.

- **Never pay twice.** Each successful analysis is stored (table `analysis_cache`, keyed by video id,
  model and schema version) as soon as it arrives; a partition's later runs call Gemini only for
  the videos without one. Another model or schema version analyses again, by design.
- **Video in.** The scraped file (Apify's key-value-store record, fetched with the Apify token,
  which is sent to Apify's API only) goes inline when small, else through the Files API, polled
  until ACTIVE and deleted afterwards. Slideshows, and videos whose file is gone, are analysed from
  their metadata and cover image, and recorded as such (`input_kind`).
- **Concurrency.** Up to `concurrency` videos at once, and requests spaced to stay within
  `requests_per_minute`; the asset's Dagster pool keeps concurrent runs within the same quota.
- **Errors.** 429, 5xx and timeouts are retried with backoff by the SDK (`HttpRetryOptions`; it
  does not retry by default); an answer lost on the way (a connection reset mid-answer, a body cut
  short), which the SDK does not retry, and the video downloads are retried here. Every request
  has a timeout: a stalled connection would otherwise hold its video, and the run, for ever. What
  is wrong with one video for good (a safety block, output that stays invalid, a refused request)
  is recorded and does not fail the partition; what may pass (quota, server errors, network) fails
  it once the other videos are done and stored, so a retry makes exactly the missing calls."""

import asyncio
import contextlib
import io
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx2
import pandas as pd
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tiktok_virality.core.errors import RecordedError, describe_error
from tiktok_virality.defs.analysis.analyzers import AnalysisResult, VideoAnalyzer
from tiktok_virality.defs.analysis.cache import AnalysisCache, CachedAnalysis
from tiktok_virality.defs.analysis.columns import analysis_frame, flatten_analyses
from tiktok_virality.defs.analysis.gemini_answers import (
    INVALID_OUTPUT_ATTEMPTS,
    UnusableAnswer,
    analysis_from,
    analysis_request_config,
)
from tiktok_virality.defs.analysis.gemini_failures import (
    TRANSIENT_ERRORS,
    AnalyzerConfigurationError,
    PermanentFailure,
    RetryPolicy,
    answer_lost_on_the_way,
    refused_for_now,
    refuses_every_request,
)
from tiktok_virality.defs.analysis.gemini_media import VIDEO_MIME_TYPE, VideoMedia
from tiktok_virality.defs.analysis.group_writer import GroupWriter
from tiktok_virality.defs.analysis.prompt import build_prompt
from tiktok_virality.defs.analysis.rate_limit import RequestRateLimiter
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION
from tiktok_virality.warehouse.tables import VIDEO_ANALYSES


@dataclass(frozen=True)
class _Outcome:
    video_id: str
    analysis: CachedAnalysis | None = None
    error: RecordedError | None = None


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
    initial_retry_delay_seconds: float
    # Each request (a Gemini call, a video download) gives up after this long, and is retried.
    request_timeout_seconds: float
    # The scraped video files are records of Apify's key-value stores, fetched with its token.
    apify_token: str | None
    apify_api_url: str
    # Not read from the environment: their one default is here (tests shorten some).
    api_version: str = "v1beta"
    retry_attempts: int = 5
    # Gemini takes requests up to 20 MB, and inline data is base64 (4/3 of its size): 14 MB of
    # video leaves room for the prompt.
    inline_max_bytes: int = 14 * 1024 * 1024
    file_poll_seconds: float = 2.0
    file_poll_attempts: int = 150
    # A video failing this many runs in a row is given up on (recorded, not retried).
    give_up_after_attempts: int = 3

    def analyze(self, videos: pd.DataFrame, log: logging.Logger) -> AnalysisResult:
        rows = videos.to_dict("records")
        video_ids = [row["video_id"] for row in rows]
        cached = self.cache.cached_analyses(
            video_ids, model=self.model, schema_version=SCHEMA_VERSION
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
            f"{len(rows)} videos: {len(cached)} already analysed by {self.model}, "
            f"{len(given_up)} given up on, {len(todo)} to analyse"
        )
        outcomes = asyncio.run(self._analyze_all(todo, log)) if todo else []
        analyses = dict(cached)
        analyses.update({o.video_id: o.analysis for o in outcomes if o.analysis is not None})
        accounts = dict(zip(video_ids, (row.get("account") for row in rows), strict=True))
        return AnalysisResult(
            analyses=self._rows(videos, analyses),
            errors=[o.error for o in outcomes if o.error is not None]
            + [
                RecordedError(accounts[video_id], failure.error, permanent=True)
                for video_id, failure in given_up.items()
            ],
        )

    def _rows(self, videos: pd.DataFrame, analyses: dict[str, CachedAnalysis]) -> pd.DataFrame:
        analysed = videos[videos["video_id"].isin(list(analyses))]
        if analysed.empty:
            return VIDEO_ANALYSES.empty_frame()
        made = [analyses[video_id] for video_id in analysed["video_id"]]
        rows = analysis_frame(
            analysed,
            flatten_analyses([analysis.record for analysis in made]),
            analyzer="gemini",
            model=self.model,
            input_kind="video",
            analyzed_at=datetime.now(UTC),
        )
        # Each analysis keeps what it was made from and when (a cached one: its first run).
        rows["input_kind"] = [analysis.input_kind for analysis in made]
        rows["analyzed_at"] = pd.to_datetime([analysis.analyzed_at for analysis in made], utc=True)
        return rows

    def _client(self) -> genai.Client:
        retry = types.HttpRetryOptions(
            attempts=self.retry_attempts, initial_delay=self.initial_retry_delay_seconds
        )
        options = types.HttpOptions(
            api_version=self.api_version,
            retry_options=retry,
            timeout=round(self.request_timeout_seconds * 1000),  # milliseconds
        )
        if self.base_url:
            options.base_url = self.base_url
        return genai.Client(api_key=self.api_key, http_options=options)

    async def _analyze_all(
        self, videos: list[dict[str, Any]], log: logging.Logger
    ) -> list[_Outcome]:
        """Every video's outcome. A key or model Gemini refuses stops the videos not yet started;
        those in flight finish, and their paid-for answers are stored before the error is raised."""
        client = self._client()
        limiter = RequestRateLimiter(self.requests_per_minute)
        slots = asyncio.Semaphore(self.concurrency)
        refused: list[AnalyzerConfigurationError] = []
        writer = GroupWriter(self._store)

        async def one(media: VideoMedia, video: dict[str, Any]) -> _Outcome | None:
            async with slots:
                if refused:
                    return None
                try:
                    outcome = await self._analyze_one(client, media, limiter, video)
                except AnalyzerConfigurationError as error:
                    refused.append(error)
                    return None
                return await writer.store(outcome)

        try:
            async with httpx2.AsyncClient(
                follow_redirects=True, timeout=self.request_timeout_seconds
            ) as http:
                media = VideoMedia(http, self.apify_api_url, self.apify_token, self._retry_policy())
                outcomes = await asyncio.gather(*(one(media, video) for video in videos))
        finally:
            await client.aio.aclose()
        if refused:
            raise refused[0]
        return [outcome for outcome in outcomes if outcome is not None]

    def _store(self, outcomes: list[_Outcome]) -> list[_Outcome]:
        """Store answers and count failures; the failures come back marked permanent once given
        up on."""
        answered = {o.video_id: o.analysis for o in outcomes if o.analysis is not None}
        if answered:
            self.cache.store_analyses(answered, model=self.model, schema_version=SCHEMA_VERSION)
        return [
            outcome if outcome.analysis is not None else self._count_failure(outcome)
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

    async def _analyze_one(
        self,
        client: genai.Client,
        media: VideoMedia,
        limiter: RequestRateLimiter,
        video: dict[str, Any],
    ) -> _Outcome:
        video_id, account = video["video_id"], video.get("account")
        try:
            analysis = await self._watch(client, media, limiter, video)
        except PermanentFailure as failure:
            return _Outcome(video_id, error=RecordedError(account, f"{video_id}: {failure}", True))
        except genai_errors.ClientError as error:
            message = describe_error(error, secrets=self._secrets())
            if refuses_every_request(error):
                raise AnalyzerConfigurationError(message) from None
            permanent = not refused_for_now(error)
            return _Outcome(
                video_id, error=RecordedError(account, f"{video_id}: {message}", permanent)
            )
        except TRANSIENT_ERRORS as error:  # a later retry may succeed
            message = f"{video_id}: {describe_error(error, secrets=self._secrets())}"
            return _Outcome(video_id, error=RecordedError(account, message, permanent=False))
        return _Outcome(video_id, analysis=analysis)

    def _secrets(self) -> list[str]:
        return [secret for secret in (self.api_key, self.apify_token) if secret]

    def _retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.retry_attempts, self.initial_retry_delay_seconds)

    async def _watch(
        self,
        client: genai.Client,
        media: VideoMedia,
        limiter: RequestRateLimiter,
        video: dict[str, Any],
    ) -> CachedAnalysis:
        video_bytes = None if video.get("is_slideshow") else await media.video_file(video)
        uploaded: types.File | None = None
        try:
            if video_bytes is None:
                parts = await media.cover_parts(video)
                input_kind = "metadata_and_cover" if parts else "metadata"
            elif len(video_bytes) <= self.inline_max_bytes:
                input_kind = "video"
                parts = [types.Part.from_bytes(data=video_bytes, mime_type=VIDEO_MIME_TYPE)]
            else:
                input_kind = "video"
                uploaded = await self._upload(client, video_bytes)
                parts = [types.Part.from_uri(file_uri=uploaded.uri, mime_type=VIDEO_MIME_TYPE)]
            prompt = build_prompt(video, has_video=input_kind == "video")
            record = await self._generate(client, limiter, [*parts, prompt])
        finally:
            if uploaded is not None and uploaded.name:
                with contextlib.suppress(Exception):  # it expires in 48 h anyway
                    await client.aio.files.delete(name=uploaded.name)
        return CachedAnalysis(input_kind, record, datetime.now(UTC))

    async def _generate(
        self, client: genai.Client, limiter: RequestRateLimiter, contents: list[Any]
    ) -> dict[str, Any]:
        """The analysis; an unusable answer is asked for once more, then given up on."""
        config = analysis_request_config()
        problem = "no answer"
        for _ in range(INVALID_OUTPUT_ATTEMPTS):
            await limiter.acquire()
            response = await self._retry_policy().run(
                lambda: client.aio.models.generate_content(
                    model=self.model, contents=contents, config=config
                ),
                may_pass=answer_lost_on_the_way,
            )
            try:
                return analysis_from(response)
            except UnusableAnswer as unusable:
                problem = str(unusable)
        raise PermanentFailure(f"{problem}, {INVALID_OUTPUT_ATTEMPTS} times")

    async def _upload(self, client: genai.Client, video_bytes: bytes) -> types.File:
        uploaded = await client.aio.files.upload(
            file=io.BytesIO(video_bytes), config=types.UploadFileConfig(mime_type=VIDEO_MIME_TYPE)
        )
        try:
            for _ in range(self.file_poll_attempts):
                if uploaded.state == types.FileState.ACTIVE:
                    return uploaded
                if uploaded.state == types.FileState.FAILED:
                    raise PermanentFailure("Gemini could not process the uploaded video")
                await asyncio.sleep(self.file_poll_seconds)
                uploaded = await client.aio.files.get(name=uploaded.name or "")
            raise TimeoutError(f"the uploaded video stayed {uploaded.state} too long")
        except BaseException:
            with contextlib.suppress(Exception):  # it would expire in 48 h anyway
                await client.aio.files.delete(name=uploaded.name or "")
            raise
