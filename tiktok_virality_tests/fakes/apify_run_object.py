"""The run object of the fake Apify API (see :mod:`.apify`): what a scenario says a run does
(:class:`RunScript`), and the run it becomes (:class:`FakeRun`), with the fields, in the shapes, that
the client's pydantic models (``apify_client._models``) validate.

The shapes are apart from the routes (:mod:`.apify_account`) because they are the part that must
follow the client when it changes its models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .apify_datasets import Dataset
from .apify_key_value_stores import KeyValueStore
from .apify_pricing import STOPPED_AT_CAP, RunCharges
from .apify_protocol import FAKE_USER_ID, iso

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})
"""Statuses after which a run never changes again (the client stops polling on them)."""


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
        usage_total_usd: The run's ``usageTotalUsd`` when the actor is not priced per event
            (:attr:`FakeApify.pay_per_event` is ``None``); else what its events cost.
        video_files: The videos' files by video id. A run started with ``shouldDownloadVideos``
            saves each video it writes in its key-value store and links it from the item's
            ``mediaUrls``, as the TikTok scraper does; a video not here gets a small MP4 header
            naming it (:func:`.apify_account.default_video_file`).
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
    video_files: dict[str, bytes] = field(default_factory=dict)

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
    dataset: Dataset
    key_value_store: KeyValueStore
    request_queue_id: str
    build_id: str
    started_at: datetime
    user_agent: str | None
    input_body_len: int
    charges: RunCharges | None = None
    pricing_info: dict[str, Any] | None = None
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
    def usage_total_usd(self) -> float:
        return self.charges.total_usd if self.charges else self.script.usage_total_usd

    @property
    def status_message(self) -> str | None:
        if not self.is_terminal:
            return None
        if self.script.status_message is None and self.charges and self.charges.stopped_at_cap:
            return STOPPED_AT_CAP
        return self.script.status_message

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
            "startedAt": iso(self.started_at),
            "finishedAt": iso(self.finished_at) if self.finished_at else None,
            "status": self.status,
            "meta": {"origin": "API", "clientIp": "127.0.0.1", "userAgent": self.user_agent},
            "buildId": self.build_id,
            "buildNumber": "0.0.1",
            "usageTotalUsd": self.usage_total_usd,
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
            "statusMessage": self.status_message,
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
            **self._pay_per_event(),
        }

    def _pay_per_event(self) -> dict[str, Any]:
        if self.charges is None or self.pricing_info is None:
            return {}
        return {"pricingInfo": self.pricing_info, "chargedEventCounts": self.charges.counts}

    def as_list_item(self) -> dict[str, Any]:
        """The run as an item of ``GET /v2/actors/{actorId}/runs``."""
        return self._common()
