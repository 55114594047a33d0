"""generateContent on the fake Gemini API (see :mod:`.gemini`): what a scenario says a call answers
(:class:`GenerateScript`), how the API checks a request before any model sees it, and the reply's
body (candidates or prompt feedback, safety ratings, usage).

It also reads a request body for scenario handlers (:func:`request_schema`, :func:`request_text`).
The default answer, a value valid against the schema, is in :mod:`.gemini_schema_values`; the fake
(:class:`.gemini.FakeGemini`) keeps only the order of the steps and the handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .gemini_protocol import GeminiApiError, api_field
from .gemini_usage import prompt_tokens, thinking_tokens

_DEFAULT_SAFETY_RATINGS = (
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
)


@dataclass
class GenerateScript:
    """What one generateContent call answers, as returned by a scenario handler.

    Attributes:
        text: The text of the candidate's only part, sent as is: malformed JSON, JSON violating the
            schema, a cut-off answer, plain prose. Wins over ``json_value``.
        json_value: Anything JSON-serializable, sent as the part's text (``json.dumps``). Use
            ``text="null"`` for a JSON null. With neither ``text`` nor ``json_value`` the
            candidate has no content (``response.text`` is ``None``), e.g. with
            ``finish_reason="SAFETY"``.
        finish_reason: The candidate's ``finishReason`` (``STOP``, ``MAX_TOKENS``, ``SAFETY``,
            ``RECITATION``, ``OTHER``, ...); ``None`` leaves it out.
        block_reason: If set, the prompt is blocked: the reply has ``promptFeedback.blockReason``
            (``SAFETY``, ``OTHER``, ``BLOCKLIST``, ``PROHIBITED_CONTENT``, ...) and no candidates.
        safety_ratings: The candidate's (or the prompt feedback's) ``safetyRatings``. ``None``:
            left out, except for a ``SAFETY`` finish or block, which gets a rating with
            ``blocked: true``.
        usage: The ``usageMetadata``. ``None``: what the request costs by the documented
            figures (:mod:`.gemini_usage`: its media resolution, video frames and offsets,
            thinking).
        no_candidates: Reply without candidates (and without prompt feedback): the API leaves an
            empty ``candidates`` out of the JSON, so ``response.candidates`` is ``None``.
        model_version: The ``modelVersion``; ``None``: the model named in the path.
    """

    text: str | None = None
    json_value: Any = None
    finish_reason: str | None = "STOP"
    block_reason: str | None = None
    safety_ratings: list[dict[str, Any]] | None = None
    usage: dict[str, Any] | None = None
    no_candidates: bool = False
    model_version: str | None = None

    @property
    def response_text(self) -> str | None:
        """The text the candidate's part carries, if any."""
        if self.text is not None:
            return self.text
        if self.json_value is not None:
            return json.dumps(self.json_value, ensure_ascii=False)
        return None


GenerateHandler = Callable[[dict[str, Any]], "GenerateScript | dict[str, Any]"]
"""A scenario: ``handler(request_json) -> GenerateScript``.

``request_json`` is the posted body as the SDK sent it (``contents`` with ``text``,
``inlineData`` and ``fileData`` parts, ``generationConfig`` with ``responseMimeType`` and
``responseSchema`` or ``responseJsonSchema``, ``systemInstruction``, ...). A returned ``dict`` is
sent verbatim as the response body (200), for shapes :class:`GenerateScript` does not cover.
"""


def request_schema(request_json: dict[str, Any]) -> dict[str, Any] | None:
    """The response schema of a generateContent body: ``generationConfig.responseSchema`` or
    ``responseJsonSchema`` (either spelling, camelCase or snake_case), or ``None``."""
    config = api_field(request_json, "generationConfig") or {}
    schema = api_field(config, "responseSchema")
    if schema is None:
        schema = api_field(config, "responseJsonSchema")
    return schema if isinstance(schema, dict) else None


def request_text(request_json: dict[str, Any]) -> str:
    """The text parts of a generateContent body's ``contents``, joined by newlines (a handler can
    tell the videos of concurrent requests apart by their prompt)."""
    return "\n".join(
        part["text"]
        for part in parts(request_json, system=False)
        if isinstance(part.get("text"), str)
    )


def wants_json(request_json: dict[str, Any]) -> bool:
    config = api_field(request_json, "generationConfig") or {}
    return api_field(config, "responseMimeType") == "application/json"


def parts(request_json: dict[str, Any], *, system: bool = True) -> Iterator[dict[str, Any]]:
    """The parts of ``contents`` (a list of contents, as the SDK sends it), then those of
    ``systemInstruction`` if ``system``."""
    contents = request_json.get("contents") or []
    instruction = api_field(request_json, "systemInstruction") if system else None
    if isinstance(contents, dict):
        contents = [contents]
    for content in [*contents, *([instruction] if isinstance(instruction, dict) else [])]:
        if isinstance(content, dict):
            for part in content.get("parts") or []:
                if isinstance(part, dict):
                    yield part


def _usage(
    model: str, payload: dict[str, Any], text: str | None, video_seconds: float
) -> dict[str, Any]:
    config = api_field(payload, "generationConfig") or {}
    resolution = api_field(config, "mediaResolution")
    if resolution == "MEDIA_RESOLUTION_UNSPECIFIED":
        resolution = None
    prompt = prompt_tokens(list(parts(payload)), model, resolution, video_seconds)
    schema = request_schema(payload)
    prompt += 0 if schema is None else len(json.dumps(schema)) // 4
    thoughts = thinking_tokens(model, config)
    output = 0 if text is None else max(1, len(text) // 4)
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if text is not None:
        usage["candidatesTokenCount"] = output
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    usage["totalTokenCount"] = prompt + output + thoughts
    return usage


def check_generate_request(payload: Any, body_size: int, max_request_bytes: int | None) -> None:
    """Refuse, as the API does (400), a body over ``max_request_bytes``, one that is not JSON or
    has no ``contents``, both schema kinds, or a schema without a JSON mime type."""
    if max_request_bytes is not None and body_size > max_request_bytes:
        raise GeminiApiError(
            400, f"Request payload size exceeds the limit: {max_request_bytes} bytes."
        )
    if not isinstance(payload, dict):
        raise GeminiApiError(400, "Invalid JSON payload received.")
    if not payload.get("contents"):
        raise GeminiApiError(400, "* GenerateContentRequest.contents: contents is not specified\n")
    config = payload.get("generationConfig") or {}
    has_schema = api_field(config, "responseSchema") is not None
    has_json_schema = api_field(config, "responseJsonSchema") is not None
    if has_schema and has_json_schema:
        raise GeminiApiError(400, "response_schema and response_json_schema cannot both be set.")
    mime_type = api_field(config, "responseMimeType") or "text/plain"
    if (has_schema or has_json_schema) and mime_type not in (
        "application/json",
        "text/x.enum",
    ):
        raise GeminiApiError(
            400,
            "* GenerateContentRequest.generation_config.response_mime_type: "
            "allowed mimetypes are `application/json` and `text/x.enum`.\n",
        )


def file_uris(payload: dict[str, Any]) -> Iterator[str]:
    """The ``fileData.fileUri`` of each part that has one (see
    :meth:`.gemini_file_store.GeminiFiles.check_refs`)."""
    for part in parts(payload):
        file_data = api_field(part, "fileData")
        uri = api_field(file_data, "fileUri") if isinstance(file_data, dict) else None
        if isinstance(uri, str):
            yield uri


def generate_response(
    model: str, payload: dict[str, Any], script: GenerateScript, video_seconds: float
) -> dict[str, Any]:
    """The body of the reply to ``payload``: the candidate ``script`` says, or the prompt
    feedback of a blocked prompt, with the usage and the model version; the fake adds the
    ``responseId`` last, from its own counter."""
    text = script.response_text
    ratings = script.safety_ratings
    usage = script.usage or _usage(model, payload, text, video_seconds)
    response: dict[str, Any] = {}
    if script.block_reason is not None:
        if ratings is None and script.block_reason == "SAFETY":
            ratings = [dict(r) for r in _DEFAULT_SAFETY_RATINGS]
        feedback: dict[str, Any] = {"blockReason": script.block_reason}
        if ratings is not None:
            feedback["safetyRatings"] = ratings
        response["promptFeedback"] = feedback
        usage = script.usage or {k: v for k, v in usage.items() if not k.startswith("candidates")}
    elif not script.no_candidates:
        if ratings is None and script.finish_reason == "SAFETY":
            ratings = [dict(r) for r in _DEFAULT_SAFETY_RATINGS]
        candidate: dict[str, Any] = {}
        if text is not None:
            candidate["content"] = {"parts": [{"text": text}], "role": "model"}
        if script.finish_reason is not None:
            candidate["finishReason"] = script.finish_reason
        if ratings is not None:
            candidate["safetyRatings"] = ratings
        candidate["index"] = 0
        response["candidates"] = [candidate]
    response["usageMetadata"] = usage
    response["modelVersion"] = script.model_version or model
    return response
