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
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
import pandas as pd
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tiktok_virality.config import DEFAULT_GEMINI_MODEL
from tiktok_virality.core.errors import RecordedError, describe_error
from tiktok_virality.defs.analysis.analyzers import AnalysisResult, VideoAnalyzer
from tiktok_virality.defs.analysis.cache import AnalysisCache, CachedAnalysis
from tiktok_virality.defs.analysis.prompt import build_prompt
from tiktok_virality.defs.analysis.rate_limit import RequestRateLimiter
from tiktok_virality.defs.analysis.schema import (
    SCHEMA_VERSION,
    VideoAnalysis,
    analysis_frame,
    flatten_analyses,
)
from tiktok_virality.warehouse.tables import VIDEO_ANALYSES

VIDEO_MIME_TYPE = "video/mp4"
# Gemini takes requests up to 20 MB, and inline data is base64 (4/3 of its size): 14 MB of video
# leaves room for the prompt.
DEFAULT_INLINE_MAX_BYTES = 14 * 1024 * 1024
_GONE = {403, 404, 410}
_REFUSALS = {
    types.FinishReason.SAFETY,
    types.FinishReason.PROHIBITED_CONTENT,
    types.FinishReason.BLOCKLIST,
    types.FinishReason.SPII,
    types.FinishReason.RECITATION,
    types.FinishReason.IMAGE_SAFETY,
}
# What the SDK and the download raise for trouble that may pass; anything else is a bug, not data.
_TRANSIENT_ERRORS = (
    genai_errors.ServerError,
    httpx2.HTTPError,
    TimeoutError,
    OSError,
    json.JSONDecodeError,
)
_INVALID_OUTPUT_ATTEMPTS = 2
# What the SDK's HttpRetryOptions retry by default; the video downloads retry the same.
_RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

T = TypeVar("T")


def _answer_lost_on_the_way(error: BaseException) -> bool:
    """A connection lost mid-answer or a body cut short: worth asking again, and not retried by
    the SDK (it retries error statuses, timeouts and failed connects)."""
    return isinstance(
        error,
        httpx2.ReadError | httpx2.WriteError | httpx2.RemoteProtocolError | json.JSONDecodeError,
    )


def _download_may_pass(error: BaseException) -> bool:
    if isinstance(error, httpx2.HTTPStatusError):
        return error.response.status_code in _RETRIED_STATUSES
    return isinstance(error, httpx2.TransportError)


def _same_origin(url: str, base: str) -> bool:
    first, second = urlsplit(url), urlsplit(base)
    return (first.scheme, first.hostname, first.port) == (
        second.scheme,
        second.hostname,
        second.port,
    )


class AnalyzerConfigurationError(RuntimeError):
    """Gemini refuses every request (a bad key, no access to the model): nothing will succeed."""


@dataclass(frozen=True)
class _Outcome:
    video_id: str
    analysis: CachedAnalysis | None = None
    error: RecordedError | None = None


def _refuses_every_request(error: genai_errors.ClientError) -> bool:
    """A bad key (Gemini answers 400 API_KEY_INVALID), no access, or a model that does not exist:
    every video would fail the same way."""
    return error.code in (401, 403, 404) or "API_KEY_INVALID" in str(error.details)


class _PermanentFailure(Exception):
    """This video cannot be analysed, however often we try."""


class GeminiAnalyzer(VideoAnalyzer):
    """Each video watched by Gemini and described in the versioned analysis schema."""

    api_key: str
    cache: AnalysisCache
    model: str = DEFAULT_GEMINI_MODEL
    # None: the SDK's own default, or GOOGLE_GEMINI_BASE_URL when set.
    base_url: str | None = None
    api_version: str = "v1beta"
    concurrency: int = 8
    requests_per_minute: float = 60.0
    retry_attempts: int = 5
    initial_retry_delay_seconds: float = 1.0
    # Each request (a Gemini call, a video download) gives up after this long, and is retried.
    request_timeout_seconds: float = 600.0
    inline_max_bytes: int = DEFAULT_INLINE_MAX_BYTES
    file_poll_seconds: float = 2.0
    file_poll_attempts: int = 150
    # A video failing this many runs in a row is given up on (recorded, not retried).
    give_up_after_attempts: int = 3
    apify_token: str | None = None
    apify_api_url: str = "https://api.apify.com"

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
        writer = _GroupWriter(self._store)

        async def one(http: httpx2.AsyncClient, video: dict[str, Any]) -> _Outcome | None:
            async with slots:
                if refused:
                    return None
                try:
                    outcome = await self._analyze_one(client, http, limiter, video)
                except AnalyzerConfigurationError as error:
                    refused.append(error)
                    return None
                return await writer.store(outcome)

        try:
            async with httpx2.AsyncClient(
                follow_redirects=True, timeout=self.request_timeout_seconds
            ) as http:
                outcomes = await asyncio.gather(*(one(http, video) for video in videos))
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
        http: httpx2.AsyncClient,
        limiter: RequestRateLimiter,
        video: dict[str, Any],
    ) -> _Outcome:
        video_id, account = video["video_id"], video.get("account")
        try:
            analysis = await self._watch(client, http, limiter, video)
        except _PermanentFailure as failure:
            return _Outcome(video_id, error=RecordedError(account, f"{video_id}: {failure}", True))
        except genai_errors.ClientError as error:
            message = describe_error(error, secrets=self._secrets())
            if _refuses_every_request(error):
                raise AnalyzerConfigurationError(message) from None
            permanent = error.code not in (408, 429)
            return _Outcome(
                video_id, error=RecordedError(account, f"{video_id}: {message}", permanent)
            )
        except _TRANSIENT_ERRORS as error:  # a later retry may succeed
            message = f"{video_id}: {describe_error(error, secrets=self._secrets())}"
            return _Outcome(video_id, error=RecordedError(account, message, permanent=False))
        return _Outcome(video_id, analysis=analysis)

    def _secrets(self) -> list[str]:
        return [secret for secret in (self.api_key, self.apify_token) if secret]

    async def _watch(
        self,
        client: genai.Client,
        http: httpx2.AsyncClient,
        limiter: RequestRateLimiter,
        video: dict[str, Any],
    ) -> CachedAnalysis:
        video_bytes = None if video.get("is_slideshow") else await self._download_video(http, video)
        uploaded: types.File | None = None
        try:
            if video_bytes is None:
                media = await self._cover_parts(http, video)
                input_kind = "metadata_and_cover" if media else "metadata"
            elif len(video_bytes) <= self.inline_max_bytes:
                input_kind = "video"
                media = [types.Part.from_bytes(data=video_bytes, mime_type=VIDEO_MIME_TYPE)]
            else:
                input_kind = "video"
                uploaded = await self._upload(client, video_bytes)
                media = [types.Part.from_uri(file_uri=uploaded.uri, mime_type=VIDEO_MIME_TYPE)]
            prompt = build_prompt(video, has_video=input_kind == "video")
            record = await self._generate(client, limiter, [*media, prompt])
        finally:
            if uploaded is not None and uploaded.name:
                with contextlib.suppress(Exception):  # it expires in 48 h anyway
                    await client.aio.files.delete(name=uploaded.name)
        return CachedAnalysis(input_kind, record, datetime.now(UTC))

    async def _generate(
        self, client: genai.Client, limiter: RequestRateLimiter, contents: list[Any]
    ) -> dict[str, Any]:
        config = types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=VideoAnalysis
        )
        problem = "no answer"
        for _ in range(_INVALID_OUTPUT_ATTEMPTS):
            await limiter.acquire()
            response = await self._retrying(
                lambda: client.aio.models.generate_content(
                    model=self.model, contents=contents, config=config
                ),
                may_pass=_answer_lost_on_the_way,
            )
            blocked = response.prompt_feedback and response.prompt_feedback.block_reason
            if blocked:
                raise _PermanentFailure(f"blocked by Gemini ({blocked})")
            if not response.candidates:
                problem = "no answer"
                continue
            finish = response.candidates[0].finish_reason
            if finish in _REFUSALS:
                raise _PermanentFailure(f"refused by Gemini (finish reason {finish})")
            if finish not in (None, types.FinishReason.STOP):
                problem = f"an incomplete answer (finish reason {finish})"
                continue
            # The SDK gives None, without an exception, for output that is not valid JSON or does
            # not fit the schema: asked once more, then given up on.
            if isinstance(response.parsed, VideoAnalysis):
                return response.parsed.model_dump(mode="json")
            problem = "output that is not valid JSON for the analysis schema"
        raise _PermanentFailure(f"{problem}, {_INVALID_OUTPUT_ATTEMPTS} times")

    async def _retrying(
        self, attempt: Callable[[], Awaitable[T]], *, may_pass: Callable[[BaseException], bool]
    ) -> T:
        """`attempt()`, made again while it fails with trouble that `may_pass`: up to
        `retry_attempts` times in all, waiting `initial_retry_delay_seconds`, doubling."""
        for number in range(1, self.retry_attempts + 1):
            try:
                return await attempt()
            except Exception as error:
                if number == self.retry_attempts or not may_pass(error):
                    raise
            await asyncio.sleep(self.initial_retry_delay_seconds * 2 ** (number - 1))
        raise ValueError(f"retry_attempts must be at least 1, not {self.retry_attempts}")

    async def _download_video(
        self, http: httpx2.AsyncClient, video: dict[str, Any]
    ) -> bytes | None:
        """The scraped video file; None when the scrape has none or it is gone.

        The token goes to Apify's own origin only. 404 and 410 mean gone (and 403, which is how
        CDNs answer an expired link); a CDN host that no longer answers too. Anything else may
        pass: it is tried again at once, then fails the video for a later run."""
        url = video.get("video_url")
        if not url:
            return None
        from_apify = _same_origin(url, self.apify_api_url)
        headers = {}
        if from_apify and self.apify_token:
            headers["Authorization"] = f"Bearer {self.apify_token}"
        return await self._retrying(
            lambda: self._download(http, url, headers, from_apify=from_apify),
            may_pass=_download_may_pass,
        )

    async def _download(
        self, http: httpx2.AsyncClient, url: str, headers: dict[str, str], *, from_apify: bool
    ) -> bytes | None:
        try:
            response = await http.get(url, headers=headers)
        except httpx2.ConnectError:
            if from_apify:
                raise
            return None  # an export's CDN host that no longer answers
        if from_apify and response.status_code in (401, 403):
            raise AnalyzerConfigurationError(
                f"Apify refused the scraped video files (HTTP {response.status_code}): check "
                "APIFY_API_TOKEN"
            )
        if response.status_code in _GONE:
            return None
        response.raise_for_status()  # anything else (5xx, 429) may pass: retried
        return response.content

    async def _cover_parts(self, http: httpx2.AsyncClient, video: dict[str, Any]) -> list[Any]:
        url = video.get("cover_url")
        if not url:
            return []
        with contextlib.suppress(httpx2.HTTPError):
            response = await http.get(url)
            if response.is_success and response.headers.get("content-type", "").startswith(
                "image/"
            ):
                mime_type = response.headers["content-type"].split(";")[0]
                return [types.Part.from_bytes(data=response.content, mime_type=mime_type)]
        return []

    async def _upload(self, client: genai.Client, video_bytes: bytes) -> types.File:
        uploaded = await client.aio.files.upload(
            file=io.BytesIO(video_bytes), config=types.UploadFileConfig(mime_type=VIDEO_MIME_TYPE)
        )
        try:
            for _ in range(self.file_poll_attempts):
                if uploaded.state == types.FileState.ACTIVE:
                    return uploaded
                if uploaded.state == types.FileState.FAILED:
                    raise _PermanentFailure("Gemini could not process the uploaded video")
                await asyncio.sleep(self.file_poll_seconds)
                uploaded = await client.aio.files.get(name=uploaded.name or "")
            raise TimeoutError(f"the uploaded video stayed {uploaded.state} too long")
        except BaseException:
            with contextlib.suppress(Exception):  # it would expire in 48 h anyway
                await client.aio.files.delete(name=uploaded.name or "")
            raise


class _GroupWriter:
    """Stores outcomes off the event loop, one write at a time, each write taking every outcome
    that arrived while the previous one ran (a group commit): an answer is kept as soon as the
    database can take it, and at high concurrency the writes do not queue up one per answer."""

    def __init__(self, write: Callable[[list[_Outcome]], list[_Outcome]]) -> None:
        self._write = write
        self._pending: list[tuple[_Outcome, asyncio.Future[_Outcome]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def store(self, outcome: _Outcome) -> _Outcome:
        stored: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, stored))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_pending())
        return await stored

    async def _write_pending(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            try:
                written = await asyncio.to_thread(self._write, [outcome for outcome, _ in group])
            except Exception as error:
                for _, stored in group:
                    stored.set_exception(error)
                continue
            for (_, stored), outcome in zip(group, written, strict=True):
                stored.set_result(outcome)
