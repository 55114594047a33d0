"""The datasets of the fake Apify API (see :mod:`.apify`): ``GET /v2/datasets/{id}`` and
``GET /v2/datasets/{id}/items`` (also under a run: ``/v2/actor-runs/{runId}/dataset/...``).

The items endpoint is where the client's pagination, field selection and formats meet the fake,
so it is a module of its own: ``offset``, ``limit``, ``desc``, ``fields``, ``omit``, ``clean``,
``skipEmpty``, ``skipHidden``, ``format=json|jsonl`` and the ``X-Apify-Pagination-*`` headers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ._messages import Response
from .apify_protocol import (
    FAKE_USER_ID,
    ApiError,
    bool_param,
    int_param,
    iso,
    json_response,
    not_found,
)

_NO_LIMIT = 999_999_999_999  # what the API puts in X-Apify-Pagination-Limit when no limit is used


@dataclass
class Dataset:
    id: str
    items: list[dict[str, Any]]
    created_at: datetime
    run_id: str | None = None
    act_id: str | None = None


def dataset_resource(
    method: str, dataset: Dataset, rest: list[str], query: dict[str, str]
) -> Response:
    """The reply to ``method`` on the dataset's path, ``rest`` the segments after its id."""
    if method == "GET" and not rest:
        data = {
            "id": dataset.id,
            "name": None,
            "userId": FAKE_USER_ID,
            "createdAt": iso(dataset.created_at),
            "modifiedAt": iso(dataset.created_at),
            "accessedAt": iso(datetime.now(UTC)),
            "itemCount": len(dataset.items),
            "cleanItemCount": len(dataset.items),
            "actId": dataset.act_id,
            "actRunId": dataset.run_id,
            "consoleUrl": f"https://console.apify.com/storage/datasets/{dataset.id}",
        }
        return json_response(200, {"data": data})
    if method == "GET" and rest == ["items"]:
        return _dataset_items(dataset.items, query)
    raise not_found("/".join(rest))


def _dataset_items(all_items: list[dict[str, Any]], query: dict[str, str]) -> Response:
    for unsupported in ("unwind", "flatten", "view", "signature"):
        if query.get(unsupported):
            raise ApiError(
                400,
                f"FakeApify does not support the {unsupported!r} parameter.",
                "invalid-parameter",
            )
    item_format = query.get("format", "json")
    if item_format not in ("json", "jsonl"):
        raise ApiError(
            400, f"FakeApify does not support format={item_format!r}.", "invalid-parameter"
        )
    desc = bool_param(query, "desc")
    offset = int_param(query, "offset", 0)
    limit = int_param(query, "limit", 0)
    rows = list(reversed(all_items)) if desc else all_items
    page = rows[offset : offset + limit] if limit else rows[offset:]

    skip_hidden = bool_param(query, "clean") or bool_param(query, "skipHidden")
    skip_empty = bool_param(query, "clean") or bool_param(query, "skipEmpty")
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
    return Response(200, body, content_type, headers)
