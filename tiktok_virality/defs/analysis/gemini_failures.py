"""How a video's analysis by Gemini fails, and which failures are worth trying again.

Three kinds: for every video (a bad key, no access to the model: stop), for good for this video (a
safety block, output that stays invalid, a refused request: record it), and for now (quota, server
errors, network: fail the partition, for a retry to make the missing calls)."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx2
from google.genai import errors as genai_errors

# What the SDK and the download raise for trouble that may pass; anything else is a bug, not data.
TRANSIENT_ERRORS = (
    genai_errors.ServerError,
    httpx2.HTTPError,
    TimeoutError,
    OSError,
    json.JSONDecodeError,
)
# What the SDK's HttpRetryOptions retry by default; the video downloads retry the same.
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

T = TypeVar("T")


class AnalyzerConfigurationError(RuntimeError):
    """Gemini refuses every request (a bad key, no access to the model): nothing will succeed."""


class PermanentFailure(Exception):
    """This video cannot be analysed, however often we try."""


def refuses_every_request(error: genai_errors.ClientError) -> bool:
    """A bad key (Gemini answers 400 API_KEY_INVALID), no access, or a model that does not exist:
    every video would fail the same way."""
    return error.code in (401, 403, 404) or "API_KEY_INVALID" in str(error.details)


def refused_for_now(error: genai_errors.ClientError) -> bool:
    """A request refused for the moment (a timeout, the quota), not for what it asks."""
    return error.code in (408, 429)


def answer_lost_on_the_way(error: BaseException) -> bool:
    """A connection lost mid-answer or a body cut short: worth asking again, and not retried by
    the SDK (it retries error statuses, timeouts and failed connects)."""
    return isinstance(
        error,
        httpx2.ReadError | httpx2.WriteError | httpx2.RemoteProtocolError | json.JSONDecodeError,
    )


def download_may_pass(error: BaseException) -> bool:
    if isinstance(error, httpx2.HTTPStatusError):
        return error.response.status_code in RETRIED_STATUSES
    return isinstance(error, httpx2.TransportError)


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `attempts` tries in all, waiting `initial_delay_seconds` after the first, doubling."""

    attempts: int
    initial_delay_seconds: float

    async def run(
        self, attempt: Callable[[], Awaitable[T]], *, may_pass: Callable[[BaseException], bool]
    ) -> T:
        """`attempt()`, made again while it fails with trouble that `may_pass`."""
        for number in range(1, self.attempts + 1):
            try:
                return await attempt()
            except Exception as error:
                if number == self.attempts or not may_pass(error):
                    raise
            await asyncio.sleep(self.initial_delay_seconds * 2 ** (number - 1))
        raise ValueError(f"retry_attempts must be at least 1, not {self.attempts}")
