"""What Gemini is asked about each video: the task, and the metadata it cannot see in the pixels."""

from collections.abc import Mapping
from typing import Any

import pandas as pd

from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION

_TASK = (
    "You are a short-form video analyst. Analyse this TikTok post for what makes it likely, or "
    "unlikely, to go viral. Fill every field of the response schema from what you see and hear; "
    "scores run from 0 to 10. Judge the post itself: do not guess its view counts."
)
_NO_VIDEO = (
    "The video file is not available: you get the metadata and, when there is one, the cover "
    "image. Judge what they show, and keep scores that would need the video moderate."
)


def _list_text(values: Any) -> str:
    return ", ".join(str(value) for value in values) if values is not None else ""


def _seconds(value: Any) -> str:
    return "unknown" if value is None or pd.isna(value) else f"{value} s"


def build_prompt(video: Mapping[str, Any], *, has_video: bool) -> str:
    """The prompt for one `raw_videos` row; `has_video` says whether the file goes with it."""
    music = video.get("music_name") or "unknown"
    if video.get("music_original"):
        music += " (the creator's original sound)"
    lines = [
        _TASK,
        "" if has_video else _NO_VIDEO,
        f"Analysis schema version: {SCHEMA_VERSION}.",
        "Post metadata:",
        f"- caption: {video.get('caption') or '(none)'}",
        f"- hashtags: {_list_text(video.get('hashtags')) or '(none)'}",
        f"- sound: {music}",
        f"- duration: {_seconds(video.get('duration_seconds'))}",
        f"- format: {'photo slideshow' if video.get('is_slideshow') else 'video'}",
        f"- caption language: {video.get('language') or 'unknown'}",
    ]
    return "\n".join(line for line in lines if line)
