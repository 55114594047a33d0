"""The Files API of the fake Gemini API (see :mod:`.gemini`), resumable uploads included.

- ``POST /upload/{ver}/files`` with ``X-Goog-Upload-Protocol: resumable`` and
  ``X-Goog-Upload-Command: start`` answers an absolute ``x-goog-upload-url``; the bytes go there
  with ``upload`` / ``upload, finalize`` (and ``query``) commands; the finalizing reply carries
  ``x-goog-upload-status: final`` and ``{"file": {...}}``.
- ``GET /{ver}/files/{id}`` (a *poll*: see :class:`.gemini_files.FileScript`),
  ``DELETE /{ver}/files/{id}``, ``GET /{ver}/files`` (``pageSize``, ``pageToken``). A file that
  does not exist answers 403 ``PERMISSION_DENIED``, as the API does.
- A generateContent naming a file of the fake: :meth:`GeminiFiles.check_refs`.

:class:`GeminiFiles` holds the files and the upload sessions; it is apart from
:class:`.gemini.FakeGemini` so that the fake keeps what a test sets and reads. It takes no lock:
the fake calls it under its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .gemini_files import FakeFile, FileScript
from .gemini_protocol import (
    GeminiApiError,
    GeminiResponse,
    RecordedRequest,
    api_field,
    error_response,
    json_response,
)

_MAX_PAGE_SIZE = 100
_FILE_ID = re.compile(r"^[a-z0-9-]{1,40}$")
_CHUNK_GRANULARITY = 8 * 1024 * 1024


@dataclass
class _UploadSession:
    id: str
    file: FakeFile
    received: bytearray = field(default_factory=bytearray)
    done: bool = False


class GeminiFiles:
    """The live and deleted files of the fake, its upload sessions, and the routes to them."""

    def __init__(self, base_url: Callable[[], str]) -> None:
        self.live: dict[str, FakeFile] = {}
        self.deleted: list[FakeFile] = []
        self._uploads: dict[str, _UploadSession] = {}
        self._base_url = base_url
        self._counters: dict[str, int] = {}

    def add(
        self,
        data: bytes,
        mime_type: str,
        name: str | None,
        display_name: str | None,
        script: FileScript,
        api_version: str,
    ) -> FakeFile:
        """A live file holding ``data``, as if it had been uploaded, processed by ``script``."""
        file = self._new_file(name, display_name, mime_type, len(data), api_version)
        file.data = bytes(data)
        file.chunk_sizes = [len(data)]
        file._begin_processing(script)
        self.live[file.name] = file
        return file

    def file_resource(self, method: str, file_id: str) -> GeminiResponse | None:
        """The reply to ``GET`` (a poll) or ``DELETE`` of a file; ``None`` for another method."""
        file = self.live.get(f"files/{file_id}")
        if file is None:
            raise _no_file(file_id)
        if method == "GET":
            file._poll()
            return json_response(200, file.as_api())
        if method == "DELETE":
            del self.live[file.name]
            self.deleted.append(file)
            return json_response(200, {})
        return None

    def check_refs(self, file_uris: Iterable[str]) -> None:
        """Refuse, as the API does, a generateContent naming a file of the fake that does not
        exist (403) or is not ``ACTIVE`` (400); other URIs (e.g. YouTube's) are not checked."""
        for uri in file_uris:
            match = re.search(r"/files/([^/?#:]+)$", uri)
            if match is None or not uri.startswith(self._base_url()):
                continue  # not a file of this fake (e.g. a YouTube URL)
            file = self.live.get(f"files/{match.group(1)}")
            state = None if file is None else file.state
            if state is None:
                raise _no_file(match.group(1))
            if state != "ACTIVE":
                raise GeminiApiError(
                    400,
                    f"The File {match.group(1)} is not in an ACTIVE state and usage is not "
                    "allowed.",
                    "FAILED_PRECONDITION",
                )

    def _next(self, prefix: str) -> int:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return n

    def _new_file(
        self,
        name: str | None,
        display_name: str | None,
        mime_type: str,
        size: int,
        api_version: str,
    ) -> FakeFile:
        if name:
            file_id = name.removeprefix("files/")
            if not _FILE_ID.match(file_id):
                raise GeminiApiError(
                    400,
                    f"Invalid file name {name!r}: the id must be 1-40 characters of "
                    "lower-case letters, digits and dashes.",
                )
            if f"files/{file_id}" in self.live or any(
                s.file.name == f"files/{file_id}" and not s.done for s in self._uploads.values()
            ):
                raise GeminiApiError(409, f"File files/{file_id} already exists.")
        else:
            file_id = f"fakefile{self._next('file'):04d}"
        return FakeFile(
            name=f"files/{file_id}",
            display_name=display_name,
            mime_type=mime_type,
            size_bytes=size,
            api_version=api_version,
            uri=f"{self._base_url()}/{api_version}/files/{file_id}",
            created_at=datetime.now(UTC),
        )

    def start_upload(self, version: str, request: RecordedRequest) -> GeminiResponse:
        """The reply to the start of a resumable upload: the URL to send the bytes to."""
        headers = request.headers
        protocol = headers.get("x-goog-upload-protocol", "").lower()
        command = _commands(headers)
        if protocol != "resumable" or command != {"start"}:
            raise GeminiApiError(
                400,
                "FakeGemini supports only resumable uploads: X-Goog-Upload-Protocol: resumable "
                f"and X-Goog-Upload-Command: start (got {protocol!r}, {sorted(command)!r}).",
            )
        metadata = request.json if isinstance(request.json, dict) else {}
        file_meta = metadata.get("file") if isinstance(metadata.get("file"), dict) else {}
        size_header = headers.get("x-goog-upload-header-content-length")
        try:
            size = int(size_header if size_header is not None else -1)
        except ValueError:
            size = -1
        if size < 0:
            raise GeminiApiError(400, "X-Goog-Upload-Header-Content-Length is missing or invalid.")
        mime_type = (
            api_field(file_meta, "mimeType")
            or headers.get("x-goog-upload-header-content-type")
            or "application/octet-stream"
        )
        file = self._new_file(
            api_field(file_meta, "name"),
            api_field(file_meta, "displayName"),
            mime_type,
            size,
            version,
        )
        session = _UploadSession(f"fake-upload-{self._next('upload'):06d}", file)
        self._uploads[session.id] = session
        upload_url = f"{self._base_url()}/upload/{version}/files?upload_id={session.id}&upload_protocol=resumable"
        return GeminiResponse(
            200,
            b"",
            "text/plain; charset=utf-8",
            {
                "x-goog-upload-url": upload_url,
                "x-goog-upload-status": "active",
                "x-goog-upload-chunk-granularity": str(_CHUNK_GRANULARITY),
                "x-goog-upload-control-url": upload_url,
            },
        )

    def upload_chunk(
        self,
        request: RecordedRequest,
        body: bytes,
        processing_script: Callable[[FakeFile], FileScript],
    ) -> GeminiResponse:
        """The reply to a chunk sent to an upload URL; on ``finalize`` the file goes live, processed
        as ``processing_script(file)`` says."""
        session = self._uploads.get(request.query["upload_id"])
        if session is None:
            return _upload_error(404, "FakeGemini: no such upload session.")
        command = _commands(request.headers)
        if command == {"query"}:
            return GeminiResponse(
                200,
                b"",
                "text/plain; charset=utf-8",
                {
                    "x-goog-upload-status": "final" if session.done else "active",
                    "x-goog-upload-size-received": str(len(session.received)),
                },
            )
        if session.done:
            return _upload_error(400, "The upload has already been finalized.")
        if "upload" not in command or not command <= {"upload", "finalize"}:
            return _upload_error(400, f"Unsupported X-Goog-Upload-Command: {sorted(command)}.")
        offset = request.headers.get("x-goog-upload-offset")
        if offset is None or offset != str(len(session.received)):
            return _upload_error(
                400,
                f"X-Goog-Upload-Offset {offset!r} does not match the "
                f"{len(session.received)} bytes received.",
            )
        file = session.file
        session.received += body
        file.chunk_sizes.append(len(body))
        if "finalize" not in command:
            return GeminiResponse(
                200, b"", "text/plain; charset=utf-8", {"x-goog-upload-status": "active"}
            )
        session.done = True
        if len(session.received) != file.size_bytes:
            return _upload_error(
                400,
                f"Received {len(session.received)} bytes, but "
                f"X-Goog-Upload-Header-Content-Length said {file.size_bytes}.",
            )
        file.data = bytes(session.received)
        session.received = bytearray()
        file._begin_processing(processing_script(file))
        self.live[file.name] = file
        response = json_response(200, {"file": file.as_api()})
        response.headers["x-goog-upload-status"] = "final"
        return response

    def list_page(self, query: dict[str, str]) -> GeminiResponse:
        """``GET /{ver}/files``: a page of the live files (``pageSize``, ``pageToken``)."""
        try:
            size = int(query.get("pageSize") or 10)
            start = int(query.get("pageToken") or 0)
        except ValueError:
            raise GeminiApiError(400, "Invalid pageSize or pageToken.") from None
        size = max(1, min(size, _MAX_PAGE_SIZE))
        files = list(self.live.values())
        page: dict[str, Any] = {}
        if files[start : start + size]:
            page["files"] = [f.as_api() for f in files[start : start + size]]
        if start + size < len(files):
            page["nextPageToken"] = str(start + size)
        return json_response(200, page)


def _commands(headers: dict[str, str]) -> set[str]:
    return {
        c.strip().lower() for c in headers.get("x-goog-upload-command", "").split(",") if c.strip()
    }


def _upload_error(status: int, message: str) -> GeminiResponse:
    response = error_response(status, message)
    response.headers["x-goog-upload-status"] = "final"
    return response


def _no_file(file_id: str) -> GeminiApiError:
    return GeminiApiError(
        403, f"You do not have permission to access the File {file_id} or it may not exist."
    )
