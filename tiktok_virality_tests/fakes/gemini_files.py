"""The files of the fake Gemini API (see :mod:`.gemini`): what an upload handler says about the
processing of a file (:class:`FileScript`), and the file itself (:class:`FakeFile`) in the shape
``GET /{ver}/files/{id}`` returns.

The Files API that creates, polls, lists and deletes them is in :mod:`.gemini_file_store`; the
file is apart from it because tests read :class:`FakeFile` and scenarios return
:class:`FileScript`, with no need of the routes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .gemini_protocol import iso

FILE_STATES = frozenset({"ACTIVE", "FAILED"})
"""The states a file can end in after processing (see :class:`FileScript`)."""

_FILE_TTL = timedelta(hours=48)


@dataclass
class FileScript:
    """How an uploaded file is processed, as returned by an upload handler (:meth:`FakeGemini.on_upload`).

    Attributes:
        processing_polls: How many ``GET``\\s of the file answer ``PROCESSING`` before ``state``.
            0: the finalizing upload reply already has ``state``; otherwise it says
            ``PROCESSING`` too.
        state: The state after processing: ``ACTIVE`` or ``FAILED``.
        error_message: The ``error.message`` of a ``FAILED`` file.
        video_duration_seconds: If set, an ``ACTIVE`` file has
            ``videoMetadata.videoDuration``.
    """

    processing_polls: int = 0
    state: str = "ACTIVE"
    error_message: str = "Video processing failed."
    video_duration_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.state not in FILE_STATES:
            raise ValueError(f"state must be one of {sorted(FILE_STATES)}, got {self.state!r}")
        if self.processing_polls < 0:
            raise ValueError("processing_polls must be >= 0")


UploadHandler = Callable[["FakeFile"], "FileScript | None"]
"""``handler(file) -> FileScript`` (``None``: the fake's defaults), called when an upload is
finalized; ``file.data`` holds the bytes."""


@dataclass
class FakeFile:
    """A file uploaded to (or added to) the fake. Read them in tests through :attr:`FakeGemini.files`.

    Attributes:
        name: ``files/{id}``.
        display_name: The ``displayName`` given at upload, if any.
        mime_type: The file's mime type.
        size_bytes: The size declared at the start of the upload
            (``X-Goog-Upload-Header-Content-Length``); equals ``len(data)`` once finalized.
        data: The bytes received (left out of the ``repr``).
        chunk_sizes: The size of each chunk request, in order.
        script: How it is processed.
        state: ``PROCESSING``, then ``script.state``.
        polls: How many times it has been read with ``GET``.
    """

    name: str
    display_name: str | None
    mime_type: str
    size_bytes: int
    api_version: str
    uri: str
    created_at: datetime
    data: bytes = field(default=b"", repr=False)
    chunk_sizes: list[int] = field(default_factory=list)
    script: FileScript = field(default_factory=FileScript)
    state: str = "PROCESSING"
    polls: int = 0
    updated_at: datetime | None = None
    _sha256: str | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.name.removeprefix("files/")

    def _begin_processing(self, script: FileScript) -> None:
        self.script = script
        self.updated_at = datetime.now(UTC)
        self.state = "PROCESSING" if script.processing_polls else script.state

    def _poll(self) -> None:
        self.polls += 1
        if self.state == "PROCESSING" and self.polls > self.script.processing_polls:
            self.state = self.script.state
            self.updated_at = datetime.now(UTC)

    def _digest(self) -> str:
        if self._sha256 is None:  # the API sends the hex digest, base64-encoded
            hex_digest = hashlib.sha256(self.data).hexdigest()
            self._sha256 = base64.b64encode(hex_digest.encode()).decode()
        return self._sha256

    def as_api(self) -> dict[str, Any]:
        """The file as ``GET /{ver}/files/{id}`` returns it."""
        updated = self.updated_at or self.created_at
        api: dict[str, Any] = {"name": self.name}
        if self.display_name:
            api["displayName"] = self.display_name
        api.update(
            {
                "mimeType": self.mime_type,
                "sizeBytes": str(self.size_bytes),
                "createTime": iso(self.created_at),
                "updateTime": iso(updated),
                "expirationTime": iso(self.created_at + _FILE_TTL),
                "sha256Hash": self._digest(),
                "uri": self.uri,
                "state": self.state,
                "source": "UPLOADED",
            }
        )
        if self.state == "ACTIVE" and self.script.video_duration_seconds is not None:
            api["videoMetadata"] = {"videoDuration": f"{self.script.video_duration_seconds:g}s"}
        if self.state == "FAILED":
            api["error"] = {"code": 400, "message": self.script.error_message}
        return api


def file_name(name: str) -> str:
    """``files/{id}`` for a file named either ``files/{id}`` or ``{id}``."""
    return name if name.startswith("files/") else f"files/{name}"
