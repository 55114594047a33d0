"""How a video's analysis by Gemini fails, and which failures are worth trying again.

Four kinds: for every video (a bad key, no access to the model, a region or billing refusal:
stop), for good for this video (a safety block, output that stays invalid, a request refused for
what it holds: record it), the day's quota (stop; the videos left are not yet analysed, never
given up on), and for now (server errors, network, a minute's quota that outlasts its waits: fail
the partition, for a retry to make the missing calls).

A 429 says which quota it is (seen in real bodies, e.g. github.com/diegosouzapw/OmniRoute issue
9504, 2026-08): `google.rpc.QuotaFailure` violations whose `quotaId` names it
("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "...PerMinute...") and a
`google.rpc.RetryInfo` whose `retryDelay` ("36s") says when to ask again."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
from google.genai import errors as genai_errors

from tiktok_virality.core.errors import ServiceRefusedError

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
# What the SDK retries for the Gemini calls: not 429, whose RetryInfo it would ignore.
SDK_RETRIED_STATUSES = RETRIED_STATUSES - {429}

T = TypeVar("T")


# ErrorInfo reasons of a 400 that concern the key or the project, not the request.
_PROJECT_REASONS = frozenset(
    {"API_KEY_INVALID", "API_KEY_EXPIRED", "SERVICE_DISABLED", "BILLING_DISABLED"}
)
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


class AnalyzerConfigurationError(ServiceRefusedError):
    """Gemini refuses every request (a bad key, no access to the model, a region or billing
    refusal): nothing will succeed."""


class PermanentFailure(Exception):
    """This video cannot be analysed, however often we try."""


class DailyQuotaExhausted(Exception):
    """The project's quota of the day is spent: no call will pass before it resets."""


class DailyQuotaReached(RuntimeError):
    """The analysis stopped for the day; the message says how many videos are left and when to
    run again. The analyses made are kept, and the videos left are not given up on."""


def _details(error: genai_errors.APIError) -> list[dict[str, Any]]:
    body = error.details if isinstance(error.details, dict) else {}
    details = (body.get("error") or body).get("details") or []
    return [detail for detail in details if isinstance(detail, dict)]


def refuses_every_request(error: genai_errors.ClientError) -> bool:
    """A bad key (Gemini answers 400 with ErrorInfo API_KEY_INVALID), no access, a model that does
    not exist, or a 400 FAILED_PRECONDITION about the project (an unsupported region, billing
    required): every video would fail the same way. A file not yet ACTIVE is the one
    FAILED_PRECONDITION about the request itself."""
    if error.code in (401, 403, 404):
        return True
    if error.code != 400:
        return False
    if error.status == "FAILED_PRECONDITION":
        return "ACTIVE" not in (error.message or "")
    return any(detail.get("reason") in _PROJECT_REASONS for detail in _details(error))


@dataclass(frozen=True)
class QuotaRefusal:
    """What a 429 says: whether the day's quota is spent, and how long to wait (None: not said)."""

    per_day: bool
    retry_delay_seconds: float | None


def quota_refusal(error: genai_errors.ClientError) -> QuotaRefusal:
    details = _details(error)
    quota_ids = [
        str(violation.get("quotaId", ""))
        for detail in details
        if detail.get("@type") == _QUOTA_FAILURE
        for violation in detail.get("violations") or []
        if isinstance(violation, dict)
    ]
    delays = [
        _seconds(detail.get("retryDelay"))
        for detail in details
        if detail.get("@type") == _RETRY_INFO
    ]
    return QuotaRefusal(
        per_day=any("PerDay" in quota_id for quota_id in quota_ids),
        retry_delay_seconds=next((delay for delay in delays if delay is not None), None),
    )


def _seconds(duration: Any) -> float | None:
    """A protobuf Duration in JSON ("17s", "0.5s"), in seconds."""
    try:
        return float(str(duration).removesuffix("s"))
    except ValueError:
        return None


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
