"""What Gemini is shown of a video besides its metadata: the scraped video file, or its cover.

The video file is the scrape's record in Apify's key-value store, fetched with the Apify token,
which is sent to Apify's own origin only."""

import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from google.genai import types

from tiktok_virality.defs.analysis.gemini_failures import (
    AnalyzerConfigurationError,
    RetryPolicy,
    download_may_pass,
)

VIDEO_MIME_TYPE = "video/mp4"
# 404 and 410 say gone, and so does 403: it is how CDNs answer an expired link.
_GONE = {403, 404, 410}


def same_origin(url: str, base: str) -> bool:
    first, second = urlsplit(url), urlsplit(base)
    return (first.scheme, first.hostname, first.port) == (
        second.scheme,
        second.hostname,
        second.port,
    )


@dataclass(frozen=True)
class VideoMedia:
    """Fetches a video's file and cover over `http`."""

    http: httpx2.AsyncClient
    apify_api_url: str
    apify_token: str | None
    retry: RetryPolicy

    async def video_file(self, video: dict[str, Any]) -> bytes | None:
        """The scraped video file; None when the scrape has none or it is gone.

        A CDN host that no longer answers means gone too. Anything else may pass: it is tried
        again at once, then fails the video for a later run."""
        url = video.get("video_url")
        if not url:
            return None
        from_apify = same_origin(url, self.apify_api_url)
        headers = {}
        if from_apify and self.apify_token:
            headers["Authorization"] = f"Bearer {self.apify_token}"
        return await self.retry.run(
            lambda: self._download(url, headers, from_apify=from_apify),
            may_pass=download_may_pass,
        )

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
