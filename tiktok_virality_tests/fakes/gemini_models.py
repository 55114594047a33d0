"""The fake Gemini API's models and quotas (see :mod:`.gemini`): ``models.get``, ``models.list``,
retired models, and the 429s of the per-minute and per-day quotas. A base of
:class:`.gemini.FakeGemini`.

Facts, with their sources (read 2026-12-07):

- Model lifecycle: ``gemini-2.5-flash`` reached end of life on the Gemini API on 2026-10-16
  (Google's deprecation notices, via the design brief); a retired or unknown model answers
  404 ``NOT_FOUND`` "models/X is not found for API version v1beta, or is not supported for
  generateContent. Call ListModels to see the list of available models and their supported
  methods." on ``models.get`` and generateContent alike.
- ``GET /{ver}/models`` answers ``{"models": [...], "nextPageToken": ...}`` (``pageSize``,
  ``pageToken``); each model has ``name`` ("models/gemini-3.5-flash") and
  ``supportedGenerationMethods`` (the SDK's ``Model.supported_actions``).
- Current models: google-genai 3.6.1's own tables (``_local_tokenizer_loader.py``,
  ``_gaos/types/interactions/model.py``) name gemini-3.5-flash, gemini-3.1-flash-lite,
  gemini-3-flash-preview and later Flash models.
- Quotas: a 429 ``RESOURCE_EXHAUSTED`` whose details hold a ``google.rpc.QuotaFailure`` (a
  violation's ``quotaId`` such as "GenerateRequestsPerDayPerProjectPerModel-FreeTier" or
  "GenerateRequestsPerMinutePerProjectPerModel-FreeTier") and a ``google.rpc.RetryInfo``
  (``retryDelay`` "36s"), as real bodies show (github.com/diegosouzapw/OmniRoute issue 9504).
  The free tier allows as few as 20 requests a day.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .gemini_protocol import GENERATE_PATH, GeminiApiError, GeminiResponse, json_response

LIVE_MODELS = (
    "gemini-3.5-flash",
    "gemini-3.1-flash-lite",
    "gemini-3-flash-preview",
    "gemini-3.1-pro-preview",
    "gemini-embedding-001",  # listed, but not for generateContent
)
RETIRED_MODELS = ("gemini-2.5-flash", "gemini-2.0-flash", "gemini-1.5-flash")
PER_DAY_QUOTA_ID = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
PER_MINUTE_QUOTA_ID = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)


def quota_details(quota_id: str, retry_delay_seconds: float) -> list[dict[str, Any]]:
    """The ``details`` of a quota's 429: which quota, and when to ask again."""
    return [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                    "quotaId": quota_id,
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": f"{retry_delay_seconds:g}s",
        },
    ]


def not_found(model: str, api_version: str) -> GeminiApiError:
    return GeminiApiError(
        404,
        f"models/{model} is not found for API version {api_version}, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


def model_resource(name: str) -> dict[str, Any]:
    methods = ["embedContent"] if "embedding" in name else ["generateContent", "countTokens"]
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name,
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": methods,
    }


class GeminiModelsAndQuotas:
    """``models``, ``requests_per_day``, ``video_seconds`` and what they answer (a base of the
    fake, which provides the lock and the fault queue).

    Attributes:
        models: The models the key can use (``models.list``); any other model, the retired ones
            included, answers 404.
        requests_per_day: Successful generateContent calls allowed until
            :meth:`reset_day`; then every call answers a per-day 429. ``None``: no limit.
        video_seconds: How long the fake takes every video to be (it does not decode them).
    """

    _lock: threading.RLock
    fail_next: Callable[..., None]  # the fault base's

    def __init__(self, **server_options: Any) -> None:
        super().__init__(**server_options)
        self.models: list[str] = list(LIVE_MODELS)
        self.requests_per_day: int | None = None
        self.day_retry_delay_seconds = 3_600.0
        self.video_seconds = 30.0
        self._answered_today = 0

    def exhaust_minute_quota_next(self, times: int = 1, retry_delay_seconds: float = 17) -> None:
        """Answer the next ``times`` generateContent calls with a per-minute 429 whose RetryInfo
        says ``retry_delay_seconds``."""
        self.fail_next(
            "POST",
            GENERATE_PATH,
            429,
            times,
            message=_QUOTA_MESSAGE,
            details=quota_details(PER_MINUTE_QUOTA_ID, retry_delay_seconds),
        )

    def reset_day(self) -> None:
        """A new day: the per-day quota is whole again."""
        with self._lock:
            self._answered_today = 0

    def _check_generate(self, model: str, api_version: str) -> None:
        """Refuse a call to a model the key cannot use (404) or past the day's quota (429)."""
        if model not in self.models or "embedding" in model:
            raise not_found(model, api_version)
        with self._lock:
            if self.requests_per_day is not None and self._answered_today >= self.requests_per_day:
                raise GeminiApiError(
                    429,
                    _QUOTA_MESSAGE,
                    details=quota_details(PER_DAY_QUOTA_ID, self.day_retry_delay_seconds),
                )

    def _count_answer(self) -> None:
        with self._lock:
            self._answered_today += 1

    def _models_route(
        self, rest: list[str], query: dict[str, str], api_version: str
    ) -> GeminiResponse:
        """``GET models/{name}`` (``models.get``) or ``GET models`` (``models.list``)."""
        if len(rest) == 2:
            if rest[1] not in self.models:
                raise not_found(rest[1], api_version)
            return json_response(200, model_resource(rest[1]))
        size = int(query.get("pageSize") or 50)
        start = int(query.get("pageToken") or 0)
        page = self.models[start : start + size]
        body: dict[str, Any] = {"models": [model_resource(name) for name in page]}
        if start + size < len(self.models):
            body["nextPageToken"] = str(start + size)
        return json_response(200, body)
