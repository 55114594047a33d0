"""The one Apify account the fake serves (see :mod:`.apify`): its runs, datasets and key-value
stores, and the routes of the API that start, read, list and abort the runs and lead to the
storages.

- ``POST /v2/actors/{actorId}/runs`` starts a run (``acts`` is accepted for ``actors``) with the
  scenario the fake passes in.
- ``GET /v2/actor-runs/{runId}`` (also ``/v2/actors/{actorId}/runs/{runId|last}``) returns the run;
  each such read is a *poll*. ``POST .../abort`` aborts it.
- ``GET /v2/actors/{actorId}/runs`` and ``GET /v2/actor-runs`` list runs.
- The storages, on their own or under a run: :mod:`.apify_datasets`,
  :mod:`.apify_key_value_stores`.

The account is apart from :class:`.apify.FakeApify` so that the fake keeps what a test sets and
reads (the scenario, the faults, the runs), and the account what the API holds. It takes no lock:
the fake calls it under its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ._messages import Response
from .apify_datasets import Dataset, dataset_resource
from .apify_key_value_stores import KeyValueStore, Record, store_resource, to_record
from .apify_pricing import PayPerEvent, RunCharges, downloadable
from .apify_protocol import (
    FAKE_USER_ID,
    ApiError,
    bool_param,
    int_param,
    iso,
    json_response,
    not_found,
)
from .apify_run_object import FakeRun, RunHandler, RunScript

_MAX_LIST_LIMIT = 1000
VIDEO_HEADER = b"\x00\x00\x00\x18ftypmp42"
# "Unnamed key-value stores expire after 7 days unless otherwise specified":
# https://docs.apify.com/platform/storage/key-value-store (the plan's retention applies).
DEFAULT_RETENTION = timedelta(days=7)


def default_video_file(video_id: str) -> bytes:
    """A video's file when a scenario gives none: an MP4 header, then the video's id."""
    return VIDEO_HEADER + f"video:{video_id}".encode()


class ApifyAccount:
    """The runs, datasets and key-value stores of the fake, and the routes to them."""

    def __init__(self) -> None:
        self.runs: dict[str, FakeRun] = {}
        self._datasets: dict[str, Dataset] = {}
        self._stores: dict[str, KeyValueStore] = {}
        self._actor_ids: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self.pay_per_event: PayPerEvent | None = PayPerEvent()
        # The fake's own address, for the ``mediaUrls`` of downloaded videos (set by the fake).
        self.base_url = ""
        self.retention = DEFAULT_RETENTION
        # How far the storages' clock is ahead of the real one (expiry without waiting).
        self.storage_clock_offset = timedelta(0)

    def add_dataset(self, items: list[dict[str, Any]]) -> str:
        """Create a standalone dataset holding ``items``; returns its id."""
        dataset = Dataset(self._new_id("FakeDataset"), _copy_json(items), datetime.now(UTC))
        self._datasets[dataset.id] = dataset
        return dataset.id

    def dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes,
        headers: dict[str, str],
        run_handler: RunHandler,
    ) -> Response:
        """The reply to a request; ``run_handler`` is the scenario of a run it starts."""
        if not path.startswith("/v2/"):
            raise not_found(path)
        segments = [s for s in path[len("/v2/") :].split("/") if s]
        if not segments:
            raise not_found(path)
        root, rest = segments[0], segments[1:]

        if root in ("actors", "acts") and len(rest) == 1 and method == "GET":
            return json_response(200, {"data": self._actor_object(rest[0])})
        if root in ("actors", "acts") and len(rest) >= 2 and rest[1] == "runs":
            actor = rest[0]
            if len(rest) == 2 and method == "POST":
                return self._start_run(actor, query, body, headers, run_handler)
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
            return dataset_resource(method, self._find_dataset(rest[0]), rest[1:], query)
        elif root == "key-value-stores" and rest:
            return store_resource(method, self._find_store(rest[0]), rest[1:])
        raise not_found(path)

    def _actor_object(self, actor: str) -> dict[str, Any]:
        """The actor as ``GET /v2/acts/{actorId}`` returns it, with the fields
        ``apify_client._models.ActorResource`` requires, and its pricing records."""
        name = actor.replace("/", "~")
        username, _, short_name = name.rpartition("~")
        created = datetime(2020, 1, 1, tzinfo=UTC)
        return {
            "id": self._actor_id(actor),
            "userId": FAKE_USER_ID,
            "name": short_name,
            "username": username or "fake",
            "isPublic": True,
            "createdAt": iso(created),
            "modifiedAt": iso(created),
            "stats": {"totalRuns": len(self.runs)},
            "versions": [],
            "defaultRunOptions": {"build": "latest", "timeoutSecs": 3600, "memoryMbytes": 1024},
            "pricingInfos": [self.pay_per_event.pricing_info()] if self.pay_per_event else [],
        }

    def _new_id(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}{n:0{17 - len(prefix)}d}"

    def _actor_id(self, actor: str) -> str:
        """The fake id of an actor named in a path; an actor id maps to itself."""
        actor = actor.replace("/", "~")
        if actor in self._actor_ids.values():
            return actor
        if actor not in self._actor_ids:
            self._actor_ids[actor] = self._new_id("FakeActor")
        return self._actor_ids[actor]

    def _start_run(
        self,
        actor: str,
        params: dict[str, str],
        body: bytes,
        headers: dict[str, str],
        run_handler: RunHandler,
    ) -> Response:
        if "memory" in params:
            memory = int_param(params, "memory")
            if memory < 128 or memory > 32768 or memory & (memory - 1):
                raise ApiError(400, "Memory must be a power of 2 between 128 and 32768 MB.")
        for name in ("timeout", "maxItems", "waitForFinish"):
            if name in params:
                int_param(params, name)
        content_type = headers.get("content-type") or "application/json; charset=utf-8"
        run_input: Any = body
        if body and "json" in content_type.lower():
            try:
                run_input = json.loads(body)
            except ValueError:
                raise ApiError(400, "Input is not valid JSON.") from None
        elif not body:
            run_input = None

        given_input = run_input if isinstance(run_input, dict) else {}
        script = run_handler(given_input, dict(params))
        if isinstance(script, list):
            script = RunScript(items=script)
        if not isinstance(script, RunScript):
            raise TypeError(f"a run handler must return a RunScript, got {type(script).__name__}")

        run_id = self._new_id("FakeRun")
        act_id = self._actor_id(actor)
        now = datetime.now(UTC)
        charges = self._charges(script, given_input, params)
        items = _copy_json(charges.items if charges else self._capped(script.items, params))
        records = {key: to_record(value) for key, value in script.records.items()}
        if body:
            records["INPUT"] = Record(body, content_type)
        store = KeyValueStore(self._new_id("FakeKvStore"), records, self._storage_now())
        if given_input.get("shouldDownloadVideos"):
            self._download_videos(items, script, store)
        dataset = Dataset(self._new_id("FakeDataset"), items, now, run_id, act_id)
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
            charges=charges,
            pricing_info=self.pay_per_event.pricing_info() if charges else None,
        )
        self.runs[run.id] = run
        self._datasets[dataset.id] = dataset
        self._stores[store.id] = store
        if int_param(params, "waitForFinish", 0) > 0:
            run._poll()
        return json_response(201, {"data": run.as_api()})

    def _charges(
        self, script: RunScript, run_input: dict[str, Any], params: dict[str, str]
    ) -> RunCharges | None:
        if self.pay_per_event is None:
            return None
        return self.pay_per_event.charge_run(script.items, run_input, params)

    @staticmethod
    def _capped(items: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
        """``maxItems`` caps a run of an actor priced per result (and only then)."""
        return items[: int(params["maxItems"])] if "maxItems" in params else items

    def _download_videos(
        self, items: list[dict[str, Any]], script: RunScript, store: KeyValueStore
    ) -> None:
        """Each written video's file as a record of the run's store, linked from ``mediaUrls``.
        The key's form is the fake's own: the pipeline follows ``mediaUrls``."""
        for item in items:
            if not downloadable(item):
                continue
            video_id = str(item["id"])
            key = f"video-{video_id}"
            data = script.video_files.get(video_id, default_video_file(video_id))
            store.records[key] = Record(data, "video/mp4")
            item["mediaUrls"] = [f"{self.base_url}/v2/key-value-stores/{store.id}/records/{key}"]

    def _storage_now(self) -> datetime:
        return datetime.now(UTC) + self.storage_clock_offset

    def _expired(self, store: KeyValueStore) -> bool:
        return self._storage_now() - store.created_at > self.retention

    def _find_run(self, run_id: str, actor: str | None, query: dict[str, str]) -> FakeRun:
        if run_id == "last" and actor is not None:
            act_id = self._actor_id(actor)
            candidates = [
                r
                for r in self.runs.values()
                if r.act_id == act_id and query.get("status", r.status) == r.status
            ]
            if candidates:
                return candidates[-1]
        elif run_id in self.runs and (
            actor is None or self.runs[run_id].act_id == self._actor_id(actor)
        ):
            return self.runs[run_id]
        raise ApiError(404, "Actor run was not found", "record-not-found")

    def _run_resource(
        self, method: str, run: FakeRun, rest: list[str], query: dict[str, str]
    ) -> Response:
        if not rest and method == "GET":
            run._poll()
            return json_response(200, {"data": run.as_api()})
        if rest == ["abort"] and method == "POST":
            run._finish("ABORTED")
            return json_response(200, {"data": run.as_api()})
        if rest and rest[0] == "dataset":
            return dataset_resource(method, run.dataset, rest[1:], query)
        if rest and rest[0] == "key-value-store":
            return store_resource(method, self._find_store(run.key_value_store.id), rest[1:])
        raise not_found("/".join(rest))

    def _list_runs(self, query: dict[str, str], act_id: str | None) -> Response:
        runs = [r for r in self.runs.values() if act_id is None or r.act_id == act_id]
        if query.get("status"):
            wanted = set(query["status"].split(","))
            runs = [r for r in runs if r.status in wanted]
        desc = bool_param(query, "desc")
        if desc:
            runs.reverse()
        offset = int_param(query, "offset", 0)
        limit = int_param(query, "limit", _MAX_LIST_LIMIT) or _MAX_LIST_LIMIT
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
        return json_response(200, {"data": data})

    def _find_dataset(self, dataset_id: str) -> Dataset:
        if dataset_id in self._datasets:
            return self._datasets[dataset_id]
        raise ApiError(404, "Dataset was not found", "record-not-found")

    def _find_store(self, store_id: str) -> KeyValueStore:
        if store_id in self._stores and not self._expired(self._stores[store_id]):
            return self._stores[store_id]
        raise ApiError(404, "Key-value store was not found", "record-not-found")


def _copy_json(value: Any) -> Any:
    return json.loads(json.dumps(value))
