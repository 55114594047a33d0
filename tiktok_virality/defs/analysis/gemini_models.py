"""The Gemini client, and whether the configured model can be called, asked before anything is
paid for.

Models are retired on a schedule (gemini-2.5-flash's end of life on the Gemini API moved to
2026-10-16); a retired or misspelt model answers 404 NOT_FOUND ("models/X is not found for API
version v1beta, or is not supported for generateContent") to `models.get` and to every call. Asked
once with `models.get`, it stops a run before the scrape is paid for, naming the models the key
can use (`models.list`, those whose `supportedGenerationMethods` hold generateContent)."""

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tiktok_virality.config import GEMINI_MODEL_VARIABLE
from tiktok_virality.defs.analysis.gemini_failures import (
    SDK_RETRIED_STATUSES,
    AnalyzerConfigurationError,
)

GENERATE_CONTENT = "generateContent"
_LISTED_AT_MOST = 20


def gemini_client(
    api_key: str,
    *,
    base_url: str | None,
    api_version: str,
    retry_attempts: int,
    initial_retry_delay_seconds: float,
    timeout_seconds: float,
) -> genai.Client:
    """A client whose SDK retries server errors and timeouts, not 429 (its retry would ignore the
    RetryInfo: `gemini_watch` waits it out), pinned to httpx2."""
    retry = types.HttpRetryOptions(
        attempts=retry_attempts,
        initial_delay=initial_retry_delay_seconds,
        http_status_codes=sorted(SDK_RETRIED_STATUSES),
    )
    options = types.HttpOptions(
        api_version=api_version,
        retry_options=retry,
        timeout=round(timeout_seconds * 1000),  # milliseconds
        # The SDK's async client uses aiohttp whenever aiohttp is importable, unless given an
        # httpx transport (google-genai 3.6.1, `_api_client._use_aiohttp`): a transport of our
        # own pins it to httpx2, whose errors `gemini_failures` classifies, whatever else is
        # installed.
        async_client_args={"transport": httpx2.AsyncHTTPTransport()},
    )
    if base_url:
        options.base_url = base_url
    return genai.Client(api_key=api_key, http_options=options)


def generates_content(model: types.Model) -> bool:
    return GENERATE_CONTENT in (model.supported_actions or [])


async def usable_models(client: genai.Client) -> list[str]:
    """The models this key can call generateContent on, by name (without `models/`)."""
    names = [
        (model.name or "").removeprefix("models/")
        async for model in await client.aio.models.list(config={"page_size": 100})
        if generates_content(model)
    ]
    return sorted(name for name in names if name)


async def check_model(client: genai.Client, model: str) -> None:
    """Nothing when `model` exists and answers generateContent; else AnalyzerConfigurationError
    naming the models the key can use. Other refusals (a bad key) raise the SDK's error."""
    try:
        found: types.Model | None = await client.aio.models.get(model=model)
    except genai_errors.ClientError as error:
        if error.code != 404:
            raise
        found = None
    if found is not None and generates_content(found):
        return
    usable = await usable_models(client)
    listed = ", ".join(usable[:_LISTED_AT_MOST]) + (
        ", ..." if len(usable) > _LISTED_AT_MOST else ""
    )
    raise AnalyzerConfigurationError(
        f"the Gemini model {model!r} is retired, misspelt or cannot generate content: set "
        f"{GEMINI_MODEL_VARIABLE} to one this key can use: {listed or '(none listed)'}"
    )
