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
- **Errors.** 429 and 5xx are retried with backoff by the SDK (`HttpRetryOptions`; it does not
  retry by default). What is wrong with one video for good (a safety block, output that stays
  invalid, a refused request) is recorded and does not fail the partition; what may pass (quota,
  server errors, network) fails it once the other videos are done and stored, so a retry makes
  exactly the missing calls."""

import asyncio
import contextlib
import logging
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pandas as pd
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tiktok_virality.analysis.prompt import build_prompt
from tiktok_virality.analysis.rate_limit import RequestRateLimiter
from tiktok_virality.analysis.schema import (
    SCHEMA_VERSION,
    VideoAnalysis,
    analysis_frame,
    flatten_analyses,
)
from tiktok_virality.catalog import CachedAnalysis, DatasetCatalog, RecordedError
from tiktok_virality.errors import describe_error
from tiktok_virality.resources.analyzers import AnalysisResult, VideoAnalyzer
from tiktok_virality.settings import DEFAULT_GEMINI_MODEL
from tiktok_virality.tables import VIDEO_ANALYSES

VIDEO_MIME_TYPE = "video/mp4"
# Gemini takes inline data up to 20 MB per request; leave room for the prompt.
DEFAULT_INLINE_MAX_BYTES = 18 * 1024 * 1024
_GONE = {403, 404, 410}
_INVALID_OUTPUT_ATTEMPTS = 2


class AnalyzerConfigurationError(RuntimeError):
    """Gemini refuses every request (a bad key, no access to the model): nothing will succeed."""


@dataclass(frozen=True)
class _Outcome:
    video_id: str
    analysis: CachedAnalysis | None = None
    error: RecordedError | None = None


def _refuses_every_request(error: genai_errors.ClientError) -> bool:
    """A bad key (Gemini answers 400 API_KEY_INVALID), or no access to the API or model."""
    return error.code in (401, 403) or "API_KEY_INVALID" in str(error.details)


class _PermanentFailure(Exception):
    """This video cannot be analysed, however often we try."""


class GeminiAnalyzer(VideoAnalyzer):
    """Each video watched by Gemini and described in the versioned analysis schema."""

    api_key: str
    catalog: DatasetCatalog
    model: str = DEFAULT_GEMINI_MODEL
    # None: the SDK's own default, or GOOGLE_GEMINI_BASE_URL when set.
    base_url: str | None = None
    api_version: str = "v1beta"
    concurrency: int = 8
    requests_per_minute: float = 60.0
    retry_attempts: int = 5
    initial_retry_delay_seconds: float = 1.0
    inline_max_bytes: int = DEFAULT_INLINE_MAX_BYTES
    file_poll_seconds: float = 2.0
    file_poll_attempts: int = 150
    apify_token: str | None = None
    apify_api_url: str = "https://api.apify.com"

    def analyze(self, videos: pd.DataFrame, log: logging.Logger) -> AnalysisResult:
        rows = videos.to_dict("records")
        cached = self.catalog.cached_analyses(
            [row["video_id"] for row in rows], model=self.model, schema_version=SCHEMA_VERSION
        )
        todo = [row for row in rows if row["video_id"] not in cached]
        log.info(
            f"{len(rows)} videos: {len(cached)} already analysed by {self.model}, "
            f"{len(todo)} to analyse"
        )
        outcomes = asyncio.run(self._analyze_all(todo, log)) if todo else []
        analyses = dict(cached)
        analyses.update({o.video_id: o.analysis for o in outcomes if o.analysis is not None})
        return AnalysisResult(
            analyses=self._rows(videos, analyses),
            errors=[o.error for o in outcomes if o.error is not None],
        )

    def _rows(self, videos: pd.DataFrame, analyses: dict[str, CachedAnalysis]) -> pd.DataFrame:
        frames = []
        analysed = videos[videos["video_id"].isin(list(analyses))]
        for (input_kind, analyzed_at), group in analysed.groupby(
            [
                analysed["video_id"].map(lambda v: analyses[v].input_kind),
                analysed["video_id"].map(lambda v: analyses[v].analyzed_at),
            ],
            sort=False,
        ):
            flattened = flatten_analyses([analyses[v].record for v in group["video_id"]])
            frames.append(
                analysis_frame(
                    group,
                    flattened,
                    analyzer="gemini",
                    model=self.model,
                    input_kind=input_kind,
                    analyzed_at=analyzed_at,
                )
            )
        if not frames:
            return VIDEO_ANALYSES.empty_frame()
        order = {video_id: i for i, video_id in enumerate(videos["video_id"])}
        combined = pd.concat(frames, ignore_index=True)
        return combined.sort_values("video_id", key=lambda ids: ids.map(order)).reset_index(
            drop=True
        )

    def _client(self) -> genai.Client:
        retry = types.HttpRetryOptions(
            attempts=self.retry_attempts, initial_delay=self.initial_retry_delay_seconds
        )
        options = types.HttpOptions(api_version=self.api_version, retry_options=retry)
        if self.base_url:
            options.base_url = self.base_url
        return genai.Client(api_key=self.api_key, http_options=options)

    async def _analyze_all(
        self, videos: list[dict[str, Any]], log: logging.Logger
    ) -> list[_Outcome]:
        client = self._client()
        limiter = RequestRateLimiter(self.requests_per_minute)
        slots = asyncio.Semaphore(self.concurrency)
        async with httpx2.AsyncClient(follow_redirects=True, timeout=120) as http:

            async def one(video: dict[str, Any]) -> _Outcome:
                async with slots:
                    return await self._analyze_one(client, http, limiter, video, log)

            return await asyncio.gather(*(one(video) for video in videos))

    async def _analyze_one(
        self,
        client: genai.Client,
        http: httpx2.AsyncClient,
        limiter: RequestRateLimiter,
        video: dict[str, Any],
        log: logging.Logger,
    ) -> _Outcome:
        video_id, account = video["video_id"], video.get("account")
        try:
            analysis = await self._watch(client, http, limiter, video)
        except _PermanentFailure as failure:
            return _Outcome(video_id, error=RecordedError(account, f"{video_id}: {failure}", True))
        except genai_errors.ClientError as error:
            if _refuses_every_request(error):
                raise AnalyzerConfigurationError(
                    describe_error(error, secrets=self._secrets())
                ) from None
            permanent = error.code not in (408, 429)
            message = f"{video_id}: {describe_error(error, secrets=self._secrets())}"
            return _Outcome(video_id, error=RecordedError(account, message, permanent))
        except Exception as error:  # server errors, network: a later retry may succeed
            message = f"{video_id}: {describe_error(error, secrets=self._secrets())}"
            return _Outcome(video_id, error=RecordedError(account, message, permanent=False))
        self.catalog.store_analysis(
            video_id, model=self.model, schema_version=SCHEMA_VERSION, analysis=analysis
        )
        log.debug(f"analysed {video_id} ({analysis.input_kind})")
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
            response = await client.aio.models.generate_content(
                model=self.model, contents=contents, config=config
            )
            blocked = response.prompt_feedback and response.prompt_feedback.block_reason
            if blocked:
                raise _PermanentFailure(f"blocked by Gemini ({blocked})")
            finish = response.candidates[0].finish_reason if response.candidates else None
            if finish is not None and finish not in (types.FinishReason.STOP, "STOP"):
                problem = f"no complete answer (finish reason {finish})"
                if "SAFETY" in str(finish) or "PROHIBITED" in str(finish):
                    raise _PermanentFailure(f"blocked by Gemini ({finish})")
                continue
            # The SDK gives None, without an exception, for output that is not valid JSON or does
            # not fit the schema: asked once more, then given up on.
            if isinstance(response.parsed, VideoAnalysis):
                return response.parsed.model_dump(mode="json")
            problem = "output that is not valid JSON for the analysis schema"
        raise _PermanentFailure(f"{problem}, {_INVALID_OUTPUT_ATTEMPTS} times")

    async def _download_video(
        self, http: httpx2.AsyncClient, video: dict[str, Any]
    ) -> bytes | None:
        """The scraped video file; None when the scrape has none or it is gone.

        A file in Apify's key-value store is fetched with the token, and only a 403/404/410 means
        gone (anything else may pass). Other links (CDN addresses from exports) expire: any failure
        means the file is not to be had."""
        url = video.get("video_url")
        if not url:
            return None
        from_apify = url.startswith(self.apify_api_url)
        headers = {}
        if from_apify and self.apify_token:
            headers["Authorization"] = f"Bearer {self.apify_token}"
        try:
            response = await http.get(url, headers=headers)
        except httpx2.HTTPError:
            if from_apify:
                raise
            return None
        if response.status_code in _GONE or (not response.is_success and not from_apify):
            return None
        response.raise_for_status()
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
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "video.mp4"
            path.write_bytes(video_bytes)
            uploaded = await client.aio.files.upload(
                file=str(path), config=types.UploadFileConfig(mime_type=VIDEO_MIME_TYPE)
            )
        for _ in range(self.file_poll_attempts):
            if uploaded.state == types.FileState.ACTIVE:
                return uploaded
            if uploaded.state == types.FileState.FAILED:
                raise _PermanentFailure("Gemini could not process the uploaded video")
            await asyncio.sleep(self.file_poll_seconds)
            uploaded = await client.aio.files.get(name=uploaded.name or "")
        raise TimeoutError(f"the uploaded video stayed {uploaded.state} too long")
