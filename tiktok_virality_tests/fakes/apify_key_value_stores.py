"""The key-value stores of the fake Apify API (see :mod:`.apify`):
``GET``/``HEAD /v2/key-value-stores/{id}/records/{key}`` (also under a run:
``/v2/actor-runs/{runId}/key-value-store/...``), where a run keeps its ``INPUT``, the files a
scenario gives it (:attr:`.apify_run_object.RunScript.records`) and the videos it downloads.

A run's store is unnamed, and Apify deletes unnamed storages after the retention period of the
plan ("Unnamed key-value stores expire after 7 days unless otherwise specified",
https://docs.apify.com/platform/storage/key-value-store; on the free plan the ten latest runs
for up to 4 months, https://docs.apify.com/platform/storage/usage#data-retention): then the
store and its records answer 404. :meth:`.apify.FakeApify.expire_key_value_stores` moves the
fake's storage clock past that period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._messages import Response
from .apify_protocol import ApiError, not_found


@dataclass
class Record:
    value: bytes
    content_type: str


@dataclass
class KeyValueStore:
    id: str
    records: dict[str, Record]
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def to_record(value: Any) -> Record:
    """A scripted record: ``bytes``, ``str``, a ``(bytes, content_type)`` tuple, or JSON."""
    if isinstance(value, tuple):
        data, content_type = value
        return Record(bytes(data), content_type)
    if isinstance(value, bytes | bytearray):
        return Record(bytes(value), "application/octet-stream")
    if isinstance(value, str):
        return Record(value.encode(), "text/plain; charset=utf-8")
    return Record(json.dumps(value, ensure_ascii=False).encode(), "application/json; charset=utf-8")


def store_resource(method: str, store: KeyValueStore, rest: list[str]) -> Response:
    """The reply to ``method`` on the store's path, ``rest`` the segments after its id."""
    if method in ("GET", "HEAD") and len(rest) == 2 and rest[0] == "records":
        record = store.records.get(rest[1])
        if record is None:
            raise ApiError(404, "Record was not found", "record-not-found")
        return Response(200, record.value, record.content_type)
    raise not_found("/".join(rest))
