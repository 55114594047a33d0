"""A local fake of the Apify HTTP API (v2) that the real ``apify-client`` 3.4 talks to.

It serves the subset of the API the pipeline uses, on 127.0.0.1 with an ephemeral port, with the
envelopes, headers and run fields the client parses and validates (pydantic, ``apify_client._models``):

- ``POST /v2/actors/{actorId}/runs`` starts a run (``acts`` is accepted for ``actors``); the items
  come from a scenario handler (:meth:`FakeApify.on_run`) or, by default, from
  :attr:`FakeApify.items_by_profile`.
- ``GET /v2/actor-runs/{runId}`` (also ``/v2/actors/{actorId}/runs/{runId|last}``) returns the run;
  each such read is a *poll* (see :class:`RunScript`). ``POST .../abort`` aborts it.
- ``GET /v2/actors/{actorId}/runs`` and ``GET /v2/actor-runs`` list runs (``desc``, ``limit``,
  ``offset``, ``status``).
- ``GET /v2/datasets/{id}`` and ``GET /v2/datasets/{id}/items`` (``offset``, ``limit``, ``desc``,
  ``fields``, ``omit``, ``clean``, ``skipEmpty``, ``skipHidden``, ``format=json|jsonl``) with the
  ``X-Apify-Pagination-*`` headers.
- ``GET``/``HEAD /v2/key-value-stores/{id}/records/{key}``: ``INPUT`` is the posted run input.
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

The fake never prints or logs requests: they may carry the API token. :attr:`FakeApify.requests`
records the ``Authorization`` header (tests assert ``Bearer <token>``), and the ``repr`` of a recorded
request masks it.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from . import _http

__all__ = [
    "FAKE_USER_ID",
    "MISSING_PROFILE_ERROR",
    "TERMINAL_STATUSES",
    "FakeApify",
    "FakeRun",
    "RecordedRequest",
    "RunScript",
]

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})
"""Statuses after which a run never changes again (the client stops polling on them)."""

MISSING_PROFILE_ERROR = "This profile/hashtag does not exist."
"""The ``error`` of the item the TikTok scraper writes for a profile that does not exist."""

FAKE_USER_ID = "FakeUser000000001"

_NO_LIMIT = 999_999_999_999  # what the API puts in X-Apify-Pagination-Limit when no limit is used
_MAX_LIST_LIMIT = 1000
_ERROR_TYPES = {
    400: "invalid-input",
    401: "token-not-provided",
    404: "record-not-found",
    415: "unsupported-content-encoding",
    429: "rate-limit-exceeded",
}


@dataclass
class RunScript:
    """What a fake run does, as returned by a scenario handler (see :meth:`FakeApify.on_run`).

    Attributes:
        items: The items of the run's default dataset (copied when the run is created).
        status: The terminal status: ``SUCCEEDED``, ``FAILED``, ``TIMED-OUT`` or ``ABORTED``.
        polls_until_finished: How many reads of the run report ``RUNNING`` before the terminal
            status. 0: the first read after the start is terminal. The ``POST`` that starts the run
            answers ``READY`` and is not a read, unless it carries ``waitForFinish > 0``.
        status_message: The run's ``statusMessage``, if any.
        records: Extra records of the run's default key-value store (``INPUT`` is always the
            posted input). A value is ``bytes`` (``application/octet-stream``), ``str``
            (``text/plain``), a ``(bytes, content_type)`` tuple, or anything JSON-serializable.
        usage_total_usd: The run's ``usageTotalUsd``.
        finished_at: The run's ``finishedAt`` once terminal; ``None``: the moment it finished.
            Runs given the same moment scrape alike (the pipeline dates a scrape by it).
    """

    items: list[dict[str, Any]] = field(default_factory=list)
    status: str = "SUCCEEDED"
    polls_until_finished: int = 0
    status_message: str | None = None
    records: dict[str, Any] = field(default_factory=dict)
    usage_total_usd: float = 0.0
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in TERMINAL_STATUSES:
            raise ValueError(
                f"status must be one of {sorted(TERMINAL_STATUSES)}, got {self.status!r}"
            )
        if self.polls_until_finished < 0:
            raise ValueError("polls_until_finished must be >= 0")


RunHandler = Callable[[dict[str, Any], dict[str, str]], "RunScript | list[dict[str, Any]]"]
"""A scenario: ``handler(run_input, params) -> RunScript`` (a plain list of items is accepted too).

``run_input`` is the posted JSON input (``{}`` if none or not JSON), ``params`` the query parameters
of the ``POST`` (``timeout``, ``memory``, ``maxItems``, ``build``, ... as strings).
"""


class _Headers(_http.MaskedHeaders):
    """Request headers with lower-cased names; its ``repr`` masks credentials."""

    secret_names = frozenset({"authorization", "x-apify-token"})


class RecordedRequest(NamedTuple):
    """One request the fake received, in arrival order (faulted requests included).

    ``query`` maps each query parameter to its (last) value; ``json`` is the parsed body, or
    ``None`` when there is no body or it is not JSON (a compressed body is decompressed first);
    ``headers`` has lower-cased names, e.g. ``headers["authorization"] == "Bearer test-token"``.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]

    def __repr__(self) -> str:
        query = {k: (_http.REDACTED if k == "token" else v) for k, v in self.query.items()}
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, query={query!r}, "
            f"json={self.json!r}, headers={_Headers(self.headers)!r})"
        )


@dataclass
class _Dataset:
    id: str
    items: list[dict[str, Any]]
    created_at: datetime
    run_id: str | None = None
    act_id: str | None = None


@dataclass
class _Record:
    value: bytes
    content_type: str


@dataclass
class _KeyValueStore:
    id: str
    records: dict[str, _Record]


@dataclass
class FakeRun:
    """A run started on the fake. Read it in tests through :attr:`FakeApify.runs`.

    Attributes:
        id: The run id.
        actor: The actor as named in the request path, e.g. ``clockworks~tiktok-scraper``.
        act_id: The fake id of that actor (the run's ``actId``).
        input: The posted input, parsed if JSON (else the raw bytes).
        params: The query parameters of the ``POST`` (strings).
        script: What the handler said the run does.
        status: The current status (``READY``, ``RUNNING``, then the terminal one).
        polls: How many times the run has been read.
    """

    id: str
    actor: str
    act_id: str
    input: Any
    params: dict[str, str]
    script: RunScript
    dataset: _Dataset
    key_value_store: _KeyValueStore
    request_queue_id: str
    build_id: str
    started_at: datetime
    user_agent: str | None
    input_body_len: int
    status: str = "READY"
    polls: int = 0
    finished_at: datetime | None = None
    exit_code: int | None = None

    @property
    def items(self) -> list[dict[str, Any]]:
        """The items of the run's default dataset."""
        return self.dataset.items

    @property
    def default_dataset_id(self) -> str:
        return self.dataset.id

    @property
    def default_key_value_store_id(self) -> str:
        return self.key_value_store.id

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def _finish(self, status: str) -> None:
        if self.is_terminal:
            return
        self.status = status
        self.finished_at = self.script.finished_at or datetime.now(UTC)
        self.exit_code = 0 if status == "SUCCEEDED" else 1

    def _poll(self) -> None:
        if self.is_terminal:
            return
        self.polls += 1
        if self.polls > self.script.polls_until_finished:
            self._finish(self.script.status)
        else:
            self.status = "RUNNING"

    def _options(self) -> dict[str, Any]:
        memory = int(self.params.get("memory", 1024))
        options: dict[str, Any] = {
            "build": self.params.get("build", "latest"),
            "timeoutSecs": int(self.params.get("timeout", 3600)),
            "memoryMbytes": memory,
            "diskMbytes": 2 * memory,
        }
        if "maxItems" in self.params:
            options["maxItems"] = int(self.params["maxItems"])
        if "maxTotalChargeUsd" in self.params:
            options["maxTotalChargeUsd"] = float(self.params["maxTotalChargeUsd"])
        return options

    def _common(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actId": self.act_id,
            "userId": FAKE_USER_ID,
            "actorTaskId": None,
            "startedAt": _iso(self.started_at),
            "finishedAt": _iso(self.finished_at) if self.finished_at else None,
            "status": self.status,
            "meta": {"origin": "API", "clientIp": "127.0.0.1", "userAgent": self.user_agent},
            "buildId": self.build_id,
            "buildNumber": "0.0.1",
            "usageTotalUsd": self.script.usage_total_usd,
            "defaultKeyValueStoreId": self.key_value_store.id,
            "defaultDatasetId": self.dataset.id,
            "defaultRequestQueueId": self.request_queue_id,
        }

    def as_api(self) -> dict[str, Any]:
        """The run object as ``GET /v2/actor-runs/{id}`` returns it (inside ``{"data": ...}``)."""
        end = self.finished_at or datetime.now(UTC)
        # A scripted finishedAt may come before the start.
        duration_ms = max(0, int((end - self.started_at).total_seconds() * 1000))
        return {
            **self._common(),
            "statusMessage": self.script.status_message if self.is_terminal else None,
            "isStatusMessageTerminal": self.is_terminal,
            "stats": {
                "inputBodyLen": self.input_body_len,
                "migrationCount": 0,
                "rebootCount": 0,
                "restartCount": 0,
                "resurrectCount": 0,
                "computeUnits": 0.0,
                "durationMillis": duration_ms,
                "runTimeSecs": duration_ms / 1000,
            },
            "options": self._options(),
            "exitCode": self.exit_code,
            "containerUrl": f"https://{self.id.lower()}.runs.apify.net",
        }

    def as_list_item(self) -> dict[str, Any]:
        """The run as an item of ``GET /v2/actors/{actorId}/runs``."""
        return self._common()


_Response = _http.Response


class _Handler(_http.Handler):
    server_version = "FakeApify/1.0"


class _ApiError(Exception):
    def __init__(self, status: int, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


class FakeApify(_http.FakeServer[RecordedRequest]):
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
        self.required_token = required_token
        self._handler: RunHandler | None = None
        self._runs: dict[str, FakeRun] = {}
        self._datasets: dict[str, _Dataset] = {}
        self._stores: dict[str, _KeyValueStore] = {}
        self._actor_ids: dict[str, str] = {}

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
        """The default scenario, a profile scrape of ``clockworks/tiktok-scraper``.

        For each of ``run_input["profiles"]``: its items from :attr:`items_by_profile` (the first
        ``resultsPerPage`` of them if set), or the scraper's error item if it is not there. The
        ``maxItems`` parameter caps the total, as Apify does for a pay-per-result actor.
        """
        per_profile = run_input.get("resultsPerPage")
        by_key = {_profile_key(name): items for name, items in self.items_by_profile.items()}
        items: list[dict[str, Any]] = []
        for profile in run_input.get("profiles") or []:
            key = _profile_key(str(profile))
            found = by_key.get(key)
            if found is None:
                items.append(
                    {
                        "url": f"https://www.tiktok.com/@{key}",
                        "input": profile,
                        "error": MISSING_PROFILE_ERROR,
                    }
                )
            else:
                items.extend(found if per_profile is None else found[: int(per_profile)])
        if "maxItems" in params:
            items = items[: int(params["maxItems"])]
        return RunScript(items=items)

    def add_dataset(self, items: list[dict[str, Any]]) -> str:
        """Create a standalone dataset holding ``items``; returns its id."""
        with self._lock:
            dataset = _Dataset(self._new_id("FakeDataset"), _copy_json(items), datetime.now(UTC))
            self._datasets[dataset.id] = dataset
            return dataset.id

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
            return list(self._runs.values())

    def run(self, run_id: str) -> FakeRun:
        with self._lock:
            return self._runs[run_id]

    # ----------------------------------------------------------------------------- internals

    def _new_id(self, prefix: str) -> str:
        n = self._next(prefix)
        return f"{prefix}{n:0{17 - len(prefix)}d}"

    def _actor_id(self, actor: str) -> str:
        """The fake id of an actor named in a path; an actor id maps to itself."""
        actor = actor.replace("/", "~")
        with self._lock:
            if actor in self._actor_ids.values():
                return actor
            if actor not in self._actor_ids:
                self._actor_ids[actor] = self._new_id("FakeActor")
            return self._actor_ids[actor]

    def _make_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> RecordedRequest:
        parsed = _parse_json_body(body, headers.get("content-type"))
        return RecordedRequest(method, path, query, parsed, headers)

    def _error_response(self, status: int, message: str) -> _Response:
        return _error_response(status, message)

    def _fault_response(self, fault: Any, request: RecordedRequest) -> _Response:
        return _error_response(fault.status, f"Injected fault: HTTP {fault.status}")

    def _handle(self, request: RecordedRequest, body: bytes) -> _Response:
        headers = request.headers
        if (
            self.required_token is not None
            and headers.get("authorization") != f"Bearer {self.required_token}"
        ):
            return _error_response(401, "Authentication token is not valid.", "token-not-valid")
        return self._route(request.method, request.path, request.query, body, headers)

    def _route(
        self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> _Response:
        try:
            with self._lock:
                return self._dispatch(method, path, query, body, headers)
        except _ApiError as exc:
            return _error_response(exc.status, exc.message, exc.error_type)
        except Exception as exc:  # a bug in a scenario handler or in the fake: tell the test
            self.handler_errors.append(exc)
            detail = "".join(traceback.format_exception_only(exc)).strip()
            return _error_response(500, f"FakeApify handler error: {detail}")

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> _Response:
        if not path.startswith("/v2/"):
            raise _not_found(path)
        segments = [s for s in path[len("/v2/") :].split("/") if s]
        if not segments:
            raise _not_found(path)
        root, rest = segments[0], segments[1:]

        if root in ("actors", "acts") and len(rest) >= 2 and rest[1] == "runs":
            actor = rest[0]
            if len(rest) == 2 and method == "POST":
                return self._start_run(actor, query, body, headers)
            if len(rest) == 2 and method == "GET":
                return self._list_runs(query, self._actor_id(actor))
            if len(rest) >= 3:
                run = self._find_run(rest[2], actor, query)
                return self._run_resource(method, run, rest[3:], query)
        elif root == "actor-runs":
            if not rest and method == "GET":
                return self._list_runs(query, None)
            if rest:
                run = self._find_run(rest[0], None, query)
                return self._run_resource(method, run, rest[1:], query)
        elif root == "datasets" and rest:
            return self._dataset_resource(method, self._find_dataset(rest[0]), rest[1:], query)
        elif root == "key-value-stores" and rest:
            return self._store_resource(method, self._find_store(rest[0]), rest[1:])
        raise _not_found(path)

    def _start_run(
        self, actor: str, params: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> _Response:
        if "memory" in params:
            memory = _int_param(params, "memory")
            if memory < 128 or memory > 32768 or memory & (memory - 1):
                raise _ApiError(400, "Memory must be a power of 2 between 128 and 32768 MB.")
        for name in ("timeout", "maxItems", "waitForFinish"):
            if name in params:
                _int_param(params, name)
        content_type = headers.get("content-type") or "application/json; charset=utf-8"
        run_input: Any = body
        if body and "json" in content_type.lower():
            try:
                run_input = json.loads(body)
            except ValueError:
                raise _ApiError(400, "Input is not valid JSON.") from None
        elif not body:
            run_input = None

        handler = self._handler or self.default_run_handler
        script = handler(run_input if isinstance(run_input, dict) else {}, dict(params))
        if isinstance(script, list):
            script = RunScript(items=script)
        if not isinstance(script, RunScript):
            raise TypeError(f"a run handler must return a RunScript, got {type(script).__name__}")

        run_id = self._new_id("FakeRun")
        act_id = self._actor_id(actor)
        now = datetime.now(UTC)
        dataset = _Dataset(
            self._new_id("FakeDataset"), _copy_json(script.items), now, run_id, act_id
        )
        records = {key: _to_record(value) for key, value in script.records.items()}
        if body:
            records["INPUT"] = _Record(body, content_type)
        store = _KeyValueStore(self._new_id("FakeKvStore"), records)
        run = FakeRun(
            id=run_id,
            actor=actor.replace("/", "~"),
            act_id=act_id,
            input=run_input,
            params=dict(params),
            script=script,
            dataset=dataset,
            key_value_store=store,
            request_queue_id=self._new_id("FakeReqQueue"),
            build_id="FakeBuild00000001",
            started_at=now,
            user_agent=headers.get("user-agent"),
            input_body_len=len(body),
        )
        self._runs[run.id] = run
        self._datasets[dataset.id] = dataset
        self._stores[store.id] = store
        if _int_param(params, "waitForFinish", 0) > 0:
            run._poll()
        return _json_response(201, {"data": run.as_api()})

    def _find_run(self, run_id: str, actor: str | None, query: dict[str, str]) -> FakeRun:
        if run_id == "last" and actor is not None:
            act_id = self._actor_id(actor)
            candidates = [
                r
                for r in self._runs.values()
                if r.act_id == act_id and query.get("status", r.status) == r.status
            ]
            if candidates:
                return candidates[-1]
        elif run_id in self._runs and (
            actor is None or self._runs[run_id].act_id == self._actor_id(actor)
        ):
            return self._runs[run_id]
        raise _ApiError(404, "Actor run was not found", "record-not-found")

    def _run_resource(
        self, method: str, run: FakeRun, rest: list[str], query: dict[str, str]
    ) -> _Response:
        if not rest and method == "GET":
            run._poll()
            return _json_response(200, {"data": run.as_api()})
        if rest == ["abort"] and method == "POST":
            run._finish("ABORTED")
            return _json_response(200, {"data": run.as_api()})
        if rest and rest[0] == "dataset":
            return self._dataset_resource(method, run.dataset, rest[1:], query)
        if rest and rest[0] == "key-value-store":
            return self._store_resource(method, run.key_value_store, rest[1:])
        raise _not_found("/".join(rest))

    def _list_runs(self, query: dict[str, str], act_id: str | None) -> _Response:
        runs = [r for r in self._runs.values() if act_id is None or r.act_id == act_id]
        if query.get("status"):
            wanted = set(query["status"].split(","))
            runs = [r for r in runs if r.status in wanted]
        desc = _bool_param(query, "desc")
        if desc:
            runs.reverse()
        offset = _int_param(query, "offset", 0)
        limit = _int_param(query, "limit", _MAX_LIST_LIMIT) or _MAX_LIST_LIMIT
        limit = min(limit, _MAX_LIST_LIMIT)
        page = runs[offset : offset + limit]
        data = {
            "total": len(runs),
            "offset": offset,
            "limit": limit,
            "count": len(page),
            "desc": desc,
            "items": [r.as_list_item() for r in page],
        }
        return _json_response(200, {"data": data})

    def _find_dataset(self, dataset_id: str) -> _Dataset:
        if dataset_id in self._datasets:
            return self._datasets[dataset_id]
        raise _ApiError(404, "Dataset was not found", "record-not-found")

    def _dataset_resource(
        self, method: str, dataset: _Dataset, rest: list[str], query: dict[str, str]
    ) -> _Response:
        if method == "GET" and not rest:
            data = {
                "id": dataset.id,
                "name": None,
                "userId": FAKE_USER_ID,
                "createdAt": _iso(dataset.created_at),
                "modifiedAt": _iso(dataset.created_at),
                "accessedAt": _iso(datetime.now(UTC)),
                "itemCount": len(dataset.items),
                "cleanItemCount": len(dataset.items),
                "actId": dataset.act_id,
                "actRunId": dataset.run_id,
                "consoleUrl": f"https://console.apify.com/storage/datasets/{dataset.id}",
            }
            return _json_response(200, {"data": data})
        if method == "GET" and rest == ["items"]:
            return _dataset_items(dataset.items, query)
        raise _not_found("/".join(rest))

    def _find_store(self, store_id: str) -> _KeyValueStore:
        if store_id in self._stores:
            return self._stores[store_id]
        raise _ApiError(404, "Key-value store was not found", "record-not-found")

    def _store_resource(self, method: str, store: _KeyValueStore, rest: list[str]) -> _Response:
        if method in ("GET", "HEAD") and len(rest) == 2 and rest[0] == "records":
            record = store.records.get(rest[1])
            if record is None:
                raise _ApiError(404, "Record was not found", "record-not-found")
            return _Response(200, record.value, record.content_type)
        raise _not_found("/".join(rest))


# --------------------------------------------------------------------------------- helpers


def _parse_json_body(body: bytes, content_type: str | None) -> Any:
    if not body or "json" not in (content_type or "application/json").lower():
        return None
    return _http.loads_or_none(body)


def _dataset_items(all_items: list[dict[str, Any]], query: dict[str, str]) -> _Response:
    for unsupported in ("unwind", "flatten", "view", "signature"):
        if query.get(unsupported):
            raise _ApiError(
                400,
                f"FakeApify does not support the {unsupported!r} parameter.",
                "invalid-parameter",
            )
    item_format = query.get("format", "json")
    if item_format not in ("json", "jsonl"):
        raise _ApiError(
            400, f"FakeApify does not support format={item_format!r}.", "invalid-parameter"
        )
    desc = _bool_param(query, "desc")
    offset = _int_param(query, "offset", 0)
    limit = _int_param(query, "limit", 0)
    rows = list(reversed(all_items)) if desc else all_items
    page = rows[offset : offset + limit] if limit else rows[offset:]

    skip_hidden = _bool_param(query, "clean") or _bool_param(query, "skipHidden")
    skip_empty = _bool_param(query, "clean") or _bool_param(query, "skipEmpty")
    fields = [f for f in query.get("fields", "").split(",") if f]
    omit = {f for f in query.get("omit", "").split(",") if f}
    items = []
    for item in page:
        if skip_hidden:
            item = {k: v for k, v in item.items() if not k.startswith("#")}
        if skip_empty and not item:
            continue
        if fields:
            item = {k: item[k] for k in fields if k in item}
        if omit:
            item = {k: v for k, v in item.items() if k not in omit}
        items.append(item)

    if item_format == "jsonl":
        body = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items).encode()
        content_type = "application/jsonl; charset=utf-8"
    else:
        body = json.dumps(items, ensure_ascii=False).encode()
        content_type = "application/json; charset=utf-8"
    headers = {
        "X-Apify-Pagination-Total": str(len(all_items)),
        "X-Apify-Pagination-Offset": str(offset),
        "X-Apify-Pagination-Count": str(len(page)),  # rows scanned, before clean/skipEmpty
        "X-Apify-Pagination-Limit": str(limit or _NO_LIMIT),
        "X-Apify-Pagination-Desc": "true" if desc else "false",
    }
    return _Response(200, body, content_type, headers)


_json_response = _Response.from_json


def _error_response(status: int, message: str, error_type: str | None = None) -> _Response:
    if error_type is None:
        error_type = _ERROR_TYPES.get(
            status, "internal-server-error" if status >= 500 else "invalid-input"
        )
    return _json_response(status, {"error": {"type": error_type, "message": message}})


def _not_found(path: str) -> _ApiError:
    return _ApiError(404, f"FakeApify: no such resource or endpoint: {path}", "record-not-found")


def _int_param(query: dict[str, str], name: str, default: int | None = None) -> int:
    if name not in query or query[name] == "":
        if default is None:
            raise _ApiError(400, f"Parameter {name!r} is required.", "invalid-parameter")
        return default
    try:
        value = int(query[name])
    except ValueError:
        raise _ApiError(
            400, f"Parameter {name!r} must be an integer.", "invalid-parameter"
        ) from None
    if value < 0:
        raise _ApiError(400, f"Parameter {name!r} must be >= 0.", "invalid-parameter")
    return value


def _bool_param(query: dict[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("1", "true")


def _profile_key(profile: str) -> str:
    key = profile.strip()
    key = re.sub(r"^https?://(www\.)?tiktok\.com/", "", key, flags=re.IGNORECASE)
    return key.lstrip("@").strip("/").lower()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _copy_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _to_record(value: Any) -> _Record:
    if isinstance(value, tuple):
        data, content_type = value
        return _Record(bytes(data), content_type)
    if isinstance(value, bytes | bytearray):
        return _Record(bytes(value), "application/octet-stream")
    if isinstance(value, str):
        return _Record(value.encode(), "text/plain; charset=utf-8")
    return _Record(
        json.dumps(value, ensure_ascii=False).encode(), "application/json; charset=utf-8"
    )
