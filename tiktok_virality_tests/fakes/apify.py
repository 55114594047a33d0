"""A local fake of the Apify HTTP API (v2) that the real ``apify-client`` 3.4 talks to.

It serves the subset of the API the pipeline uses, on 127.0.0.1 with an ephemeral port, with the
envelopes, headers and run fields the client parses and validates (pydantic, ``apify_client._models``):

- ``POST /v2/actors/{actorId}/runs`` starts a run (``acts`` is accepted for ``actors``); the items
  come from a scenario handler (:meth:`FakeApify.on_run`) or, by default, from
  :attr:`FakeApify.items_by_profile` (the profiles' videos; given ``postURLs``, the linked ones:
  :func:`posts_by_link`).
- ``GET /v2/actor-runs/{runId}`` (also ``/v2/actors/{actorId}/runs/{runId|last}``) returns the run;
  each such read is a *poll* (see :class:`RunScript`). ``POST .../abort`` aborts it.
- ``GET /v2/actors/{actorId}/runs`` and ``GET /v2/actor-runs`` list runs (``desc``, ``limit``,
  ``offset``, ``status``).
- ``GET /v2/datasets/{id}`` and ``GET /v2/datasets/{id}/items`` (``offset``, ``limit``, ``desc``,
  ``fields``, ``omit``, ``clean``, ``skipEmpty``, ``skipHidden``, ``format=json|jsonl``) with the
  ``X-Apify-Pagination-*`` headers.
- ``GET``/``HEAD /v2/key-value-stores/{id}/records/{key}``: ``INPUT`` is the posted run input;
  a run started with ``shouldDownloadVideos`` keeps each video's file there, linked from the
  item's ``mediaUrls``. The stores expire: :meth:`FakeApify.expire_key_value_stores`.
- ``GET /v2/acts/{actorId}``: the actor object, with its ``pricingInfos``.
- Pay per event (:mod:`.apify_pricing`, on by default; :attr:`FakeApify.pay_per_event`): each run
  has ``pricingInfo``, ``chargedEventCounts`` and ``usageTotalUsd``, and stops before the event
  that would pass ``maxTotalChargeUsd``; ``maxItems`` caps only an actor priced per result.
- Note items (``{url, input, note}``) for the profiles in :attr:`FakeApify.notes_by_profile`, and
  for a profile whose videos the date filter drops all.
- The same storages under a run: ``/v2/actor-runs/{runId}/dataset/...``,
  ``/v2/actor-runs/{runId}/key-value-store/...``.
- Anything else: 404 ``{"error": {"type": "record-not-found", "message": ...}}``.

Faults and latency can be set at any time, also while a client is talking to the fake:
:meth:`FakeApify.fail_next`, :meth:`FakeApify.reset_connection_next`,
:meth:`FakeApify.truncate_next`, :meth:`FakeApify.fail_at_rate` (a share of the requests, drawn
reproducibly from a seed), :attr:`FakeApify.latency_seconds`.

Usage::

    from apify_client import ApifyClient
    from tiktok_virality_tests.fakes.apify import FakeApify, RunScript

    with FakeApify() as fake:
        fake.items_by_profile = {"alice": [{"id": "1"}, {"id": "2"}]}
        client = ApifyClient("test-token", api_url=fake.url)
        run = client.actor("clockworks/tiktok-scraper").call(
            run_input={"profiles": ["alice"]}, logger=None
        )
        items = list(client.dataset(run.default_dataset_id).iterate_items())

In pytest, take the ``fake_apify`` fixture (``tiktok_virality_tests/fake_servers.py``), a running
``FakeApify`` of the test's own::

    def test_something(fake_apify): ...

Pass ``logger=None`` to ``ActorClient.call``: the default logger fetches the actor and streams the run
log, which the fake does not serve. The client sleeps 0.25 s between two polls of a run, so keep
``polls_until_finished`` small in tests.

This module is the fake's public face: :class:`FakeApify` (the scenario, the faults, what a test
reads) and the names tests import. The API itself is in the ``apify_*`` modules: the account
with its runs and routes (:mod:`.apify_account`), the run object (:mod:`.apify_run_object`),
the datasets (:mod:`.apify_datasets`), the key-value stores (:mod:`.apify_key_value_stores`), and
what every endpoint shares (:mod:`.apify_protocol`).

The fake never prints or logs requests: they may carry the API token. :attr:`FakeApify.requests`
records the ``Authorization`` header (tests assert ``Bearer <token>``), and the ``repr`` of a recorded
request masks it.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ._messages import Response
from ._server import FakeServer, Handler
from .apify_account import ApifyAccount, default_video_file
from .apify_pricing import PayPerEvent
from .apify_protocol import (
    FAKE_USER_ID,
    ApiError,
    RecordedRequest,
    error_response,
    parse_json_body,
)
from .apify_run_object import TERMINAL_STATUSES, FakeRun, RunHandler, RunScript

__all__ = [
    "DATE_FILTER_NOTE",
    "FAKE_USER_ID",
    "MISSING_POST_ERROR",
    "MISSING_PROFILE_ERROR",
    "NO_VIDEOS_NOTE",
    "PRIVATE_PROFILE_NOTE",
    "TERMINAL_STATUSES",
    "FakeApify",
    "FakeRun",
    "PayPerEvent",
    "RecordedRequest",
    "RunScript",
    "default_video_file",
    "posts_by_link",
]

MISSING_PROFILE_ERROR = "This profile/hashtag does not exist."
"""The ``error`` of the item the TikTok scraper writes for a profile that does not exist."""

# The ``note`` of the items the TikTok scraper writes for an account it found no videos of, as
# projects that use it list them (e.g. the ignored notes of an Apify-based social-media fetcher:
# "Profile is private", "Profile has no videos (or is behind a login wall)", "No videos found to
# match the date filter").
PRIVATE_PROFILE_NOTE = "Profile is private"
NO_VIDEOS_NOTE = "Profile has no videos (or is behind a login wall)"
DATE_FILTER_NOTE = "No videos found to match the date filter"


class _Handler(Handler):
    server_version = "FakeApify/1.0"


class FakeApify(FakeServer[RecordedRequest]):
    """A fake Apify API server. Use it as a context manager, or :meth:`start` / :meth:`stop`.

    Attributes:
        items_by_profile: For the default scenario: items per TikTok profile name (matched without
            ``@`` or the profile URL, case-insensitively). A profile that is not there yields
            the scraper's error item ``{url, input, error}``.
        latency_seconds: Added before every response (fault responses included). A float, or a
            function ``(method, path) -> seconds`` for per-endpoint latency.
        required_token: If set, a request without ``Authorization: Bearer <required_token>``
            gets 401 (the request is still recorded).
        handler_errors: Exceptions raised by scenario handlers or by the fake itself while
            serving (the client got a 500); the ``fake_apify`` fixture fails the test if any.
    """

    _handler_class = _Handler
    _brotli = True  # the client's optional brotli compressor
    _unsupported_encoding_status = 415

    def __init__(
        self,
        *,
        latency_seconds: float | Callable[[str, str], float] = 0.0,
        required_token: str | None = None,
    ) -> None:
        super().__init__(latency_seconds=latency_seconds)
        self.items_by_profile: dict[str, list[dict[str, Any]]] = {}
        # For the default scenario: the note item a profile gets instead of videos.
        self.notes_by_profile: dict[str, str] = {}
        self.required_token = required_token
        self._handler: RunHandler | None = None
        self._account = ApifyAccount()

    # ----------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """The base URL to pass as ``ApifyClient(token, api_url=fake.url)`` (the client adds ``/v2``)."""
        return super().url

    # ----------------------------------------------------------------------------- scenario

    def on_run(self, handler: RunHandler | None) -> RunHandler | None:
        """Set the scenario of the runs started from now on; ``None`` restores the default.

        Returns the handler, so it can be used as a decorator. The handler runs in a server thread,
        under the fake's lock; if it raises, the client gets a 500 and the exception is kept in
        :attr:`handler_errors`.
        """
        with self._lock:
            self._handler = handler
        return handler

    def default_run_handler(self, run_input: dict[str, Any], params: dict[str, str]) -> RunScript:
        """The default scenario, a profile scrape of ``clockworks/tiktok-scraper``; or, given
        ``postURLs``, a scrape of those videos (:func:`posts_by_link`).

        For each of ``run_input["profiles"]``: its note item if :attr:`notes_by_profile` has one
        (``{url, input, note}``); else its items from :attr:`items_by_profile` (the first
        ``resultsPerPage`` of them if set; with ``excludePinnedPosts``, none pinned), or the
        scraper's error item if it is not there. What a run writes is then capped by its price
        (:attr:`pay_per_event`, ``maxTotalChargeUsd``), or by ``maxItems`` for an actor priced per
        result.
        """
        if run_input.get("postURLs"):
            every_item = [item for items in self.items_by_profile.values() for item in items]
            return RunScript(items=posts_by_link(run_input["postURLs"], every_item))
        per_profile = run_input.get("resultsPerPage")
        by_key = {_profile_key(name): items for name, items in self.items_by_profile.items()}
        notes = {_profile_key(name): note for name, note in self.notes_by_profile.items()}
        items: list[dict[str, Any]] = []
        for profile in run_input.get("profiles") or []:
            key = _profile_key(str(profile))
            found = by_key.get(key)
            if key in notes:
                items.append(
                    {"url": f"https://www.tiktok.com/@{key}", "input": profile, "note": notes[key]}
                )
            elif found is None:
                items.append(
                    {
                        "url": f"https://www.tiktok.com/@{key}",
                        "input": profile,
                        "error": MISSING_PROFILE_ERROR,
                    }
                )
            else:
                if run_input.get("excludePinnedPosts"):
                    found = [item for item in found if not item.get("isPinned")]
                found = _posted_since(found, run_input.get("oldestPostDateUnified"))
                if not found:
                    found = [
                        {"url": f"https://www.tiktok.com/@{key}", "input": profile}
                        | {"note": DATE_FILTER_NOTE}
                    ]
                items.extend(found if per_profile is None else found[: int(per_profile)])
        return RunScript(items=items)

    @property
    def pay_per_event(self) -> PayPerEvent | None:
        """The actor's pay-per-event pricing (see :mod:`.apify_pricing`); ``None``: priced per
        result, as in 2025."""
        return self._account.pay_per_event

    @pay_per_event.setter
    def pay_per_event(self, pricing: PayPerEvent | None) -> None:
        with self._lock:
            self._account.pay_per_event = pricing

    def expire_key_value_stores(self) -> None:
        """Move the storages' clock past the retention period: every key-value store made so far
        (the downloaded videos with it) answers 404 from now on, as Apify deletes unnamed ones."""
        with self._lock:
            self._account.storage_clock_offset += self._account.retention + timedelta(seconds=1)

    def add_dataset(self, items: list[dict[str, Any]]) -> str:
        """Create a standalone dataset holding ``items``; returns its id."""
        with self._lock:
            return self._account.add_dataset(items)

    # ----------------------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str | None,
        path_pattern: str,
        status: int,
        times: int = 1,
        after_handling: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and an Apify error envelope.

        ``method`` is e.g. ``"POST"`` (``None`` or ``"*"``: any); ``path_pattern`` is a regular
        expression searched in the request path, e.g. ``r"/runs$"`` or ``r"/datasets/.*/items"``.
        With ``after_handling=True`` the request is processed first (a run IS created, a poll IS
        counted) and only the response is replaced: the case where the client's retry of
        ``POST .../runs`` starts a second, paid run. Faults are matched in the order they were
        added; a request consumes at most one.
        """
        self._inject(
            "status", method, path_pattern, times, status=status, after_handling=after_handling
        )

    def reset_connection_next(
        self,
        path_pattern: str,
        *,
        method: str | None = None,
        times: int = 1,
        after_handling: bool = False,
    ) -> None:
        """Close the connection (TCP reset) without any response for the next ``times`` matching requests.

        With ``after_handling=True`` the request is processed first (e.g. the run is created).
        """
        self._inject("reset", method, path_pattern, times, after_handling=after_handling)

    def truncate_next(
        self,
        path_pattern: str,
        *,
        method: str | None = None,
        times: int = 1,
        declare_full_length: bool = True,
    ) -> None:
        """Send only the first half of the body for the next ``times`` matching requests.

        The request is processed. With ``declare_full_length=True`` (default) the
        ``Content-Length`` is the full length and the connection closes mid-body: a transport
        error, which the client retries. With ``False`` the response is complete but its body is
        cut JSON: the client raises ``InvalidResponseBodyError`` and does not retry.
        """
        self._inject(
            "truncate", method, path_pattern, times, declare_full_length=declare_full_length
        )

    # ----------------------------------------------------------------------------- inspection

    @property
    def runs(self) -> list[FakeRun]:
        """A snapshot of the runs created so far, oldest first."""
        with self._lock:
            return list(self._account.runs.values())

    def run(self, run_id: str) -> FakeRun:
        with self._lock:
            return self._account.runs[run_id]

    # ----------------------------------------------------------------------------- internals

    def _make_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> RecordedRequest:
        parsed = parse_json_body(body, headers.get("content-type"))
        return RecordedRequest(method, path, query, parsed, headers)

    def _error_response(self, status: int, message: str) -> Response:
        return error_response(status, message)

    def _fault_response(self, fault: Any, request: RecordedRequest) -> Response:
        return error_response(fault.status, f"Injected fault: HTTP {fault.status}")

    def _handle(self, request: RecordedRequest, body: bytes) -> Response:
        headers = request.headers
        if (
            self.required_token is not None
            and headers.get("authorization") != f"Bearer {self.required_token}"
        ):
            return error_response(401, "Authentication token is not valid.", "token-not-valid")
        return self._route(request.method, request.path, request.query, body, headers)

    def _route(
        self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> Response:
        try:
            with self._lock:
                self._account.base_url = self.url
                run_handler = self._handler or self.default_run_handler
                return self._account.dispatch(method, path, query, body, headers, run_handler)
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.error_type)
        except Exception as exc:  # a bug in a scenario handler or in the fake: tell the test
            self.handler_errors.append(exc)
            detail = "".join(traceback.format_exception_only(exc)).strip()
            return error_response(500, f"FakeApify handler error: {detail}")


def _posted_since(items: list[dict[str, Any]], oldest: Any) -> list[dict[str, Any]]:
    """The items the date filter keeps: ``oldestPostDateUnified`` is "N days" (or a bare number
    of days) here; items without ``createTime`` pass."""
    if not oldest:
        return items
    days = int(str(oldest).split()[0])
    since = datetime.now(UTC).timestamp() - days * 86_400
    return [item for item in items if item.get("createTime", since) >= since]


def _profile_key(profile: str) -> str:
    key = profile.strip()
    key = re.sub(r"^https?://(www\.)?tiktok\.com/", "", key, flags=re.IGNORECASE)
    return key.lstrip("@").strip("/").lower()


MISSING_POST_ERROR = "Post not found or is private."
"""The ``error`` of the fake's item for a ``postURLs`` link it knows no video of."""


def posts_by_link(links: list[Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a run given ``postURLs`` (the actor's input for single videos) writes: the item of
    each linked video (``https://www.tiktok.com/@{account}/video/{id}``, matched by its id), in
    the links' order, or an error item for a link to none of ``items``."""
    by_id = {str(item["id"]): item for item in items if isinstance(item, dict) and item.get("id")}
    found: list[dict[str, Any]] = []
    for link in links:
        match = re.search(r"/video/(\d+)", str(link))
        item = by_id.get(match.group(1)) if match else None
        found.append(item or {"url": str(link), "input": str(link), "error": MISSING_POST_ERROR})
    return found
