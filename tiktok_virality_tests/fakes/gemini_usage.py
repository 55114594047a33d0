"""The tokens the fake Gemini API bills a generateContent call (see :mod:`.gemini`), from what the
request asks for: the media resolution, each video's frames a second and offsets, the thinking
level or budget.

Facts, as the Gemini API documents them (read 2026-12-07):

- Video frames: Gemini 3 and later count 70 tokens a frame at LOW and MEDIUM (and by default),
  280 at HIGH; Gemini 2.x counts 66 at LOW, 258 otherwise ("Media resolution" → "Token counts";
  discuss.ai.google.dev/t/109808 on 70 a frame at MEDIUM). Frames are sampled at
  ``videoMetadata.fps`` (default 1, valid (0, 24]) between ``startOffset`` and ``endOffset``.
- Audio: 32 tokens a second at any resolution ("Video understanding").
- Images: 280 / 560 / 1120 tokens at LOW / MEDIUM / HIGH on Gemini 3 (1120 by default); 258 on
  2.x.
- Thinking tokens are reported as ``thoughtsTokenCount`` and billed at the output price
  ("Pricing": "Output price (including thinking tokens)"). Gemini 3.5 and later take
  ``thinkingLevel`` and refuse ``thinkingBudget`` (SDK 3.6.1 notes; design brief 2026-12-07);
  2.x takes a budget. The fake thinks a fixed amount per level (the real amount varies).
- Text: about 4 characters a token; the response schema counts as input too ("Structured
  output": its size counts towards the input token limit).

The fake does not decode videos: each is :attr:`.gemini.FakeGemini.video_seconds` long.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .gemini_protocol import GeminiApiError, api_field

AUDIO_TOKENS_PER_SECOND = 32
_FRAME_TOKENS = {
    "current": {
        "MEDIA_RESOLUTION_LOW": 70,
        "MEDIA_RESOLUTION_MEDIUM": 70,
        "default": 70,
        "MEDIA_RESOLUTION_HIGH": 280,
    },
    "legacy": {
        "MEDIA_RESOLUTION_LOW": 66,
        "MEDIA_RESOLUTION_MEDIUM": 258,
        "default": 258,
        "MEDIA_RESOLUTION_HIGH": 258,
    },
}
_IMAGE_TOKENS = {
    "current": {
        "MEDIA_RESOLUTION_LOW": 280,
        "MEDIA_RESOLUTION_MEDIUM": 560,
        "default": 1120,
        "MEDIA_RESOLUTION_HIGH": 1120,
    },
    "legacy": {
        "MEDIA_RESOLUTION_LOW": 258,
        "MEDIA_RESOLUTION_MEDIUM": 258,
        "default": 258,
        "MEDIA_RESOLUTION_HIGH": 258,
    },
}
THINKING_TOKENS = {"MINIMAL": 0, "LOW": 200, "MEDIUM": 800, "HIGH": 3_000, "XHIGH": 6_000}
# Without a thinking config: Gemini 3.5 thinks at MEDIUM by default, 2.5 dynamically.
_DEFAULT_THINKING = THINKING_TOKENS["MEDIUM"]


def model_version(model: str) -> float:
    """``gemini-3.5-flash`` → 3.5; a name without a version → 0."""
    found = re.match(r"(?:models/)?gemini-(\d+(?:\.\d+)?)", model)
    return float(found.group(1)) if found else 0.0


def _family(model: str) -> str:
    return "legacy" if model_version(model) < 3 else "current"


def _seconds(offset: Any) -> float | None:
    if offset is None:
        return None
    try:
        return float(str(offset).removesuffix("s"))
    except ValueError:
        raise GeminiApiError(400, f"Invalid video offset: {offset!r}") from None


def video_seconds_seen(part: dict[str, Any], video_seconds: float) -> tuple[float, float]:
    """The seconds of a video part Gemini watches, and the frames a second it samples."""
    metadata = api_field(part, "videoMetadata") or {}
    fps = api_field(metadata, "fps")
    fps = 1.0 if fps is None else float(fps)
    if not 0 < fps <= 24:
        raise GeminiApiError(400, f"Invalid fps {fps}: it must be in (0, 24].")
    start = _seconds(api_field(metadata, "startOffset")) or 0.0
    end = _seconds(api_field(metadata, "endOffset"))
    end = video_seconds if end is None else min(end, video_seconds)
    return max(0.0, end - start), fps


def _media(part: dict[str, Any]) -> str | None:
    """The mime type of an inline or file part, None for text."""
    for key in ("inlineData", "fileData"):
        data = api_field(part, key)
        if isinstance(data, dict):
            return str(api_field(data, "mimeType") or "")
    return None


def prompt_tokens(
    parts: list[dict[str, Any]], model: str, resolution: str | None, video_seconds: float
) -> int:
    family = _family(model)
    frame_tokens = _FRAME_TOKENS[family][resolution or "default"]
    tokens = 0
    for part in parts:
        mime = _media(part)
        if mime is None:
            text = part.get("text")
            tokens += max(1, len(text) // 4) if isinstance(text, str) else 0
        elif mime.startswith("video/"):
            seconds, fps = video_seconds_seen(part, video_seconds)
            frames = math.ceil(seconds * fps)
            tokens += frames * frame_tokens + math.ceil(seconds * AUDIO_TOKENS_PER_SECOND)
        else:
            tokens += _IMAGE_TOKENS[family][resolution or "default"]
    return tokens


def thinking_tokens(model: str, generation_config: dict[str, Any]) -> int:
    """What the model thinks for the request's thinking config; a budget on Gemini 3.5 or later
    is refused (400), as the API does."""
    thinking = api_field(generation_config, "thinkingConfig") or {}
    level = api_field(thinking, "thinkingLevel")
    budget = api_field(thinking, "thinkingBudget")
    if budget is not None and model_version(model) >= 3.5:
        raise GeminiApiError(
            400, f"Thinking budget is not supported for {model}; use thinking level instead."
        )
    if level is not None:
        if _family(model) == "legacy":
            raise GeminiApiError(400, f"Thinking level is not supported for {model}.")
        return THINKING_TOKENS[str(level).upper()]
    if budget is not None:
        return 0 if int(budget) == 0 else min(int(budget), _DEFAULT_THINKING)
    return _DEFAULT_THINKING
