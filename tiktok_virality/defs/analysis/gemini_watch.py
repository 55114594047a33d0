"""One video watched by Gemini: its file inline or uploaded, the call within the cost controls and
the quotas, and what the answers cost.

- **Video in.** Inline when the request stays within Gemini's limit (100 MB since 2026-01-12;
  inline data is base64, 4/3 of its size, so 64 MB of video leaves room for the prompt), else
  through the Files API, polled until ACTIVE and deleted afterwards.
- **Quotas.** Each call waits for its place in the requests and tokens of the minute
  (`GeminiQuota`), estimated from the video's duration and the controls, and corrected by the
  answer's `usage_metadata`. A 429 is not retried by the SDK (it would ignore the `RetryInfo`):
  here every call waits the delay it names; a 429 naming a per-day quota stops at once."""

import asyncio
import contextlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tiktok_virality.defs.analysis.analyzers import SpendingGate, TokenUsage
from tiktok_virality.defs.analysis.cache import CachedAnalysis
from tiktok_virality.defs.analysis.gemini_answers import (
    INVALID_OUTPUT_ATTEMPTS,
    UnusableAnswer,
    analysis_from,
    analysis_request_config,
    usage_of,
)
from tiktok_virality.defs.analysis.gemini_controls import AnalysisControls
from tiktok_virality.defs.analysis.gemini_failures import (
    DailyQuotaExhausted,
    PermanentFailure,
    RetryPolicy,
    answer_lost_on_the_way,
    quota_refusal,
)
from tiktok_virality.defs.analysis.gemini_media import VIDEO_MIME_TYPE, VideoMedia
from tiktok_virality.defs.analysis.prompt import build_prompt
from tiktok_virality.defs.analysis.rate_limit import GeminiQuota
from tiktok_virality.defs.costs.pricing import expected_usage

# Gemini takes requests up to 100 MB; base64 makes inline data 4/3 of its size.
INLINE_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Watched:
    """A video's analysis, and the tokens paid for it (every attempt's)."""

    analysis: CachedAnalysis
    usage: TokenUsage


@dataclass(frozen=True)
class VideoWatcher:
    client: genai.Client
    media: VideoMedia
    quota: GeminiQuota
    # Admits each call within the dataset's budget, and learns what each answer was billed.
    spending: SpendingGate
    controls: AnalysisControls
    model: str
    retry: RetryPolicy
    # A minute's quota refused this many times in a row fails the video for a later run.
    quota_attempts: int
    inline_max_bytes: int
    file_poll_seconds: float
    file_poll_attempts: int

    async def watch(self, video: dict[str, Any]) -> Watched:
        video_bytes = None if video.get("is_slideshow") else await self.media.video_file(video)
        uploaded: types.File | None = None
        try:
            if video_bytes is None:
                parts = await self.media.cover_parts(video)
                input_kind = "metadata_and_cover" if parts else "metadata"
            else:
                input_kind = "video"
                metadata = self.controls.video_metadata(video.get("duration_seconds"))
                if len(video_bytes) <= self.inline_max_bytes:
                    blob = types.Blob(data=video_bytes, mime_type=VIDEO_MIME_TYPE)
                    parts = [types.Part(inline_data=blob, video_metadata=metadata)]
                else:
                    uploaded = await self._upload(video_bytes)
                    file = types.FileData(file_uri=uploaded.uri, mime_type=VIDEO_MIME_TYPE)
                    parts = [types.Part(file_data=file, video_metadata=metadata)]
            prompt = build_prompt(video, has_video=input_kind == "video")
            estimate = self.controls.estimated_input_tokens(
                self.model,
                prompt,
                duration_seconds=video.get("duration_seconds"),
                video=input_kind == "video",
                images=len(parts) if input_kind == "metadata_and_cover" else 0,
            )
            record, usage = await self._generate([*parts, prompt], estimate)
        finally:
            if uploaded is not None and uploaded.name:
                with contextlib.suppress(Exception):  # it expires in 48 h anyway
                    await self.client.aio.files.delete(name=uploaded.name)
        return Watched(CachedAnalysis(input_kind, record, datetime.now(UTC)), usage)

    async def _generate(
        self, contents: list[Any], estimate: int
    ) -> tuple[dict[str, Any], TokenUsage]:
        """The analysis; an unusable answer is asked for once more, then given up on."""
        config = analysis_request_config(self.controls, self.model)
        problem = "no answer"
        usage = TokenUsage()
        expected = expected_usage(estimate, self.controls.thinking_level)
        for _ in range(INVALID_OUTPUT_ATTEMPTS):
            with self.spending.call(self.model, expected) as billed:
                response = await self._call(contents, config, estimate)
                billed(usage_of(response))
            usage += usage_of(response)
            try:
                return analysis_from(response), usage
            except UnusableAnswer as unusable:
                problem = str(unusable)
        raise PermanentFailure(f"{problem}, {INVALID_OUTPUT_ATTEMPTS} times")

    async def _call(
        self, contents: list[Any], config: types.GenerateContentConfig, estimate: int
    ) -> types.GenerateContentResponse:
        """One answer, within the quotas: a minute's 429 waits what it says (or the retry
        policy's backoff) and asks again; a day's raises DailyQuotaExhausted."""
        for attempt in range(1, self.quota_attempts + 1):
            reservation = await self.quota.acquire(estimate)
            try:
                response = await self.retry.run(
                    lambda: self.client.aio.models.generate_content(
                        model=self.model, contents=contents, config=config
                    ),
                    may_pass=answer_lost_on_the_way,
                )
            except genai_errors.ClientError as error:
                self.quota.settle(reservation, 0)
                if error.code != 429:
                    raise
                refusal = quota_refusal(error)
                if refusal.per_day:
                    raise DailyQuotaExhausted(str(error)) from error
                if attempt == self.quota_attempts:
                    raise
                backoff = self.retry.initial_delay_seconds * 2 ** (attempt - 1)
                self.quota.pause(refusal.retry_delay_seconds or backoff)
                continue
            self.quota.settle(reservation, usage_of(response).prompt or estimate)
            return response
        raise ValueError(f"quota_attempts must be at least 1, not {self.quota_attempts}")

    async def _upload(self, video_bytes: bytes) -> types.File:
        uploaded = await self.client.aio.files.upload(
            file=io.BytesIO(video_bytes), config=types.UploadFileConfig(mime_type=VIDEO_MIME_TYPE)
        )
        try:
            for _ in range(self.file_poll_attempts):
                if uploaded.state == types.FileState.ACTIVE:
                    return uploaded
                if uploaded.state == types.FileState.FAILED:
                    raise PermanentFailure("Gemini could not process the uploaded video")
                await asyncio.sleep(self.file_poll_seconds)
                uploaded = await self.client.aio.files.get(name=uploaded.name or "")
            raise TimeoutError(f"the uploaded video stayed {uploaded.state} too long")
        except BaseException:
            with contextlib.suppress(Exception):  # it would expire in 48 h anyway
                await self.client.aio.files.delete(name=uploaded.name or "")
            raise
