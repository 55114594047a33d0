"""What Gemini is shown of a video besides its metadata: the scraped video file, or its cover.

The video file is read from the media cache, where the scrape copied it (`defs/media/`). A video
not cached there (scraped before the cache existed, or its copy pruned) is fetched from its
record in the scrape run's key-value store, with the Apify token, which is sent to Apify's own
origin only; once Apify has deleted that store (its retention period), the video is analysed from
its metadata, and the analysis says so."""

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx2
from google.genai import types

from tiktok_virality.core.urls import same_origin
from tiktok_virality.defs.analysis.gemini_failures import (
    AnalyzerConfigurationError,
    RetryPolicy,
    download_may_pass,
)
from tiktok_virality.defs.media.cache import MediaCache

VIDEO_MIME_TYPE = "video/mp4"
# 404 and 410 say gone, and so does 403: it is how CDNs answer an expired link.
_GONE = {403, 404, 410}


@dataclass(frozen=True)
class VideoMedia:
    """Fetches a video's file and cover over `http`."""

    http: httpx2.AsyncClient
    apify_api_url: str
    apify_token: str | None
    retry: RetryPolicy
    media_cache: MediaCache | None = None
    # The videos whose file Apify no longer has and the cache never got: told once, after.
    gone_from_apify: list[str] = field(default_factory=list)

    async def video_file(self, video: dict[str, Any]) -> bytes | None:
        """The scraped video file, from the media cache first; None when the scrape has none or
        it is gone.

        A CDN host that no longer answers means gone too. Anything else may pass: it is tried
        again at once, then fails the video for a later run."""
        cached = self.media_cache.path_for(video["video_id"]) if self.media_cache else None
        if cached is not None:
            return await asyncio.to_thread(cached.read_bytes)
        url = video.get("video_url")
        if not url:
            return None
        from_apify = same_origin(url, self.apify_api_url)
        headers = {}
        if from_apify and self.apify_token:
            headers["Authorization"] = f"Bearer {self.apify_token}"
        data = await self.retry.run(
            lambda: self._download(url, headers, from_apify=from_apify),
            may_pass=download_may_pass,
        )
        if data is None and from_apify:
            self.gone_from_apify.append(video["video_id"])
        return data

    async def _download(
        self, url: str, headers: dict[str, str], *, from_apify: bool
    ) -> bytes | None:
        try:
            response = await self.http.get(url, headers=headers)
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

    async def cover_parts(self, video: dict[str, Any]) -> list[types.Part]:
        """The cover image, as the part of a request; none when it cannot be had."""
        url = video.get("cover_url")
        if not url:
            return []
        with contextlib.suppress(httpx2.HTTPError):
            response = await self.http.get(url)
            if response.is_success and response.headers.get("content-type", "").startswith(
                "image/"
            ):
                mime_type = response.headers["content-type"].split(";")[0]
                return [types.Part.from_bytes(data=response.content, mime_type=mime_type)]
        return []
