"""Asking Gemini for a video's analysis, and reading what it answers.

An answer is an analysis (JSON in the versioned schema), a refusal (for good), or unusable: none,
cut short, or output the SDK could not read into the schema, which is asked for once more."""

from typing import Any

from google.genai import types

from tiktok_virality.defs.analysis.analyzers import TokenUsage
from tiktok_virality.defs.analysis.gemini_controls import AnalysisControls
from tiktok_virality.defs.analysis.gemini_failures import PermanentFailure
from tiktok_virality.defs.analysis.schema import VideoAnalysis

INVALID_OUTPUT_ATTEMPTS = 2
_REFUSALS = {
    types.FinishReason.SAFETY,
    types.FinishReason.PROHIBITED_CONTENT,
    types.FinishReason.BLOCKLIST,
    types.FinishReason.SPII,
    types.FinishReason.RECITATION,
    types.FinishReason.IMAGE_SAFETY,
}


class UnusableAnswer(Exception):
    """An answer without a usable analysis, which asking again may mend; the message says why."""


def analysis_request_config(controls: AnalysisControls, model: str) -> types.GenerateContentConfig:
    """JSON in the analysis schema, which the SDK then reads into `VideoAnalysis`, within the cost
    controls."""
    return controls.request_config(
        model, response_mime_type="application/json", response_schema=VideoAnalysis
    )


def usage_of(response: types.GenerateContentResponse) -> TokenUsage:
    """The tokens an answer was billed for (none reported: none counted)."""
    usage = response.usage_metadata
    if usage is None:
        return TokenUsage()
    return TokenUsage(
        prompt=usage.prompt_token_count or 0,
        output=usage.candidates_token_count or 0,
        thinking=usage.thoughts_token_count or 0,
    )


def analysis_from(response: types.GenerateContentResponse) -> dict[str, Any]:
    """The analysis record Gemini answered with.

    Raises PermanentFailure when Gemini blocked or refused the video, UnusableAnswer otherwise."""
    blocked = response.prompt_feedback and response.prompt_feedback.block_reason
    if blocked:
        raise PermanentFailure(f"blocked by Gemini ({blocked})")
    if not response.candidates:
        raise UnusableAnswer("no answer")
    finish = response.candidates[0].finish_reason
    if finish in _REFUSALS:
        raise PermanentFailure(f"refused by Gemini (finish reason {finish})")
    if finish not in (None, types.FinishReason.STOP):
        raise UnusableAnswer(f"an incomplete answer (finish reason {finish})")
    # The SDK gives None, without an exception, for output that is not valid JSON or does not fit
    # the schema.
    if not isinstance(response.parsed, VideoAnalysis):
        raise UnusableAnswer("output that is not valid JSON for the analysis schema")
    return response.parsed.model_dump(mode="json")
