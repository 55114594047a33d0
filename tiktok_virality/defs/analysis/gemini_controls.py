"""What each Gemini call is allowed to cost, and what a video is expected to cost in tokens.

The controls (media resolution, frames a second, seconds of video, thinking) go with every call
and are part of what an analysis is: the cache keys analyses by their fingerprint, so changing a
control analyses the videos again, as a new model or schema version does.

Token figures (Gemini API docs, "Media resolution" → "Token counts", and "Video understanding",
read 2026-12-07; the forum answer at discuss.ai.google.dev/t/109808 confirms 70 a frame at MEDIUM):
- Gemini 3 and later: a video frame is 70 tokens at LOW and MEDIUM, 280 at HIGH; an image 280 at
  LOW, 560 at MEDIUM, 1120 at HIGH.
- Gemini 2.x: a video frame is 66 tokens at LOW, 258 at MEDIUM and HIGH (and by default); an
  image 258.
- Audio: 32 tokens a second, whatever the resolution.
So one second at 1 frame a second is about 102 tokens at LOW on Gemini 3 (312 at HIGH), and about
100 (LOW) or 290 (default) on 2.5: the issue's "about 300/s default, about 100/s at LOW"."""

from dataclasses import dataclass
from typing import Any

import pandas as pd
from google.genai import types

AUDIO_TOKENS_PER_SECOND = 32
_LEGACY_FAMILIES = ("gemini-1", "gemini-2")
_FRAME_TOKENS = {
    "current": {"low": 70, "medium": 70, "high": 280},
    "legacy": {"low": 66, "medium": 258, "high": 258},
}
_IMAGE_TOKENS = {
    "current": {"low": 280, "medium": 560, "high": 1120},
    "legacy": {"low": 258, "medium": 258, "high": 258},
}
# About 4 characters a token (Gemini API docs, "Understand and count tokens"). The response
# schema counts as input ("Structured output"): the SDK sends `VideoAnalysis` as about 9,000
# characters (measured on schema version 1 with google-genai 3.6.1).
_CHARACTERS_PER_TOKEN = 4
_SCHEMA_TOKENS = 2_240
_RESOLUTIONS = {
    "low": types.MediaResolution.MEDIA_RESOLUTION_LOW,
    "medium": types.MediaResolution.MEDIA_RESOLUTION_MEDIUM,
    "high": types.MediaResolution.MEDIA_RESOLUTION_HIGH,
}
# Gemini 2.x models take a token budget instead of a level (2.5 Pro at least 128, 2.5 Flash-Lite
# at least 512 unless 0): the level's nearest budget that all of them accept.
_THINKING_BUDGETS = {"minimal": 512, "low": 1_024, "medium": 8_192, "high": 24_576}


def _family(model: str) -> str:
    return "legacy" if model.removeprefix("models/").startswith(_LEGACY_FAMILIES) else "current"


@dataclass(frozen=True)
class AnalysisControls:
    """The cost controls every call carries (their defaults are in `config.Settings`)."""

    media_resolution: str
    frames_per_second: float
    max_video_seconds: float
    thinking_level: str

    @property
    def fingerprint(self) -> str:
        """What the analyses made with these controls are keyed by in the cache."""
        return (
            f"resolution={self.media_resolution};fps={self.frames_per_second:g};"
            f"max_seconds={self.max_video_seconds:g};thinking={self.thinking_level}"
        )

    def thinking_config(self, model: str) -> types.ThinkingConfig:
        """`thinking_level` from Gemini 3 on (3.5 refuses `thinking_budget`), a budget before."""
        if _family(model) == "legacy":
            return types.ThinkingConfig(thinking_budget=_THINKING_BUDGETS[self.thinking_level])
        return types.ThinkingConfig(thinking_level=types.ThinkingLevel(self.thinking_level.upper()))

    def request_config(self, model: str, **config: Any) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            media_resolution=_RESOLUTIONS[self.media_resolution],
            thinking_config=self.thinking_config(model),
            **config,
        )

    def seconds_watched(self, duration_seconds: Any) -> float:
        """The seconds of a video Gemini is shown: its duration, at most the cap (the cap when the
        duration is unknown)."""
        if duration_seconds is None or pd.isna(duration_seconds) or duration_seconds <= 0:
            return self.max_video_seconds
        return min(float(duration_seconds), self.max_video_seconds)

    def video_metadata(self, duration_seconds: Any) -> types.VideoMetadata:
        return types.VideoMetadata(
            fps=self.frames_per_second,
            end_offset=f"{self.seconds_watched(duration_seconds):g}s",
        )

    def estimated_input_tokens(
        self, model: str, prompt: str, *, duration_seconds: Any, video: bool, images: int = 0
    ) -> int:
        """The input tokens of a call: the prompt and schema, the seconds of video watched (frames
        and audio), and any images."""
        family = _family(model)
        tokens = len(prompt) // _CHARACTERS_PER_TOKEN + _SCHEMA_TOKENS
        tokens += images * _IMAGE_TOKENS[family][self.media_resolution]
        if video:
            seconds = self.seconds_watched(duration_seconds)
            frame_tokens = _FRAME_TOKENS[family][self.media_resolution]
            tokens += round(seconds * (self.frames_per_second * frame_tokens))
            tokens += round(seconds * AUDIO_TOKENS_PER_SECOND)
        return tokens
