"""The Gemini fake, exercised through the real ``google-genai`` SDK: the Files API with its
resumable uploads, the API key, and the 404 of anything else (generateContent and faults:
test_fake_gemini.py)."""

import io
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from google import genai
from google.genai import errors, types

from tiktok_virality.defs.analysis.schema import VideoAnalysis
from tiktok_virality_tests.fake_gemini_client import (
    API_KEY,
    MB,
    MODEL,
    VIDEO,
    analyse,
    make_client,
    video_part,
)
from tiktok_virality_tests.fakes.gemini import UPLOAD_PATH, FakeGemini, FileScript

# ----------------------------------------------------------------------------- files


@pytest.fixture
def video_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = bytes(range(256)) * (20 * MB // 256)
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    return path, data


def test_a_20_mb_upload_goes_in_three_8_mb_chunks(
    fake_gemini: FakeGemini, video_file: tuple[Path, bytes]
) -> None:
    path, data = video_file
    client = make_client(fake_gemini)

    uploaded = client.files.upload(
        file=path, config={"mime_type": "video/mp4", "display_name": "video 1"}
    )

    assert uploaded.name and uploaded.name.startswith("files/")
    assert (uploaded.size_bytes, uploaded.mime_type, uploaded.display_name) == (
        20 * MB,
        "video/mp4",
        "video 1",
    )
    assert uploaded.state == types.FileState.ACTIVE  # processing_polls=0: at once
    assert uploaded.uri == f"{fake_gemini.url}/v1beta/files/{uploaded.name.split('/')[1]}"
    (file,) = fake_gemini.files
    assert file.name == uploaded.name and file.data == data
    assert file.chunk_sizes == [8 * MB, 8 * MB, 4 * MB]

    start, *chunks = fake_gemini.requests_to("POST", UPLOAD_PATH)
    assert start.path == "/upload/v1beta/files" and start.query == {}
    assert start.headers["x-goog-upload-protocol"] == "resumable"
    assert start.headers["x-goog-upload-command"] == "start"
    assert start.headers["x-goog-upload-header-content-length"] == str(20 * MB)
    assert start.json == {
        "file": {"display_name": "video 1", "mime_type": "video/mp4", "size_bytes": 20 * MB}
    }
    assert [c.headers["x-goog-upload-command"] for c in chunks] == [
        "upload",
        "upload",
        "upload, finalize",
    ]
    assert [c.headers["x-goog-upload-offset"] for c in chunks] == ["0", str(8 * MB), str(16 * MB)]
    assert [c.body_size for c in chunks] == [8 * MB, 8 * MB, 4 * MB]
    assert all(c.query["upload_id"] for c in chunks)


def test_a_file_is_processing_for_the_first_polls_then_active(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    fake_gemini.on_upload(lambda file: FileScript(processing_polls=2, video_duration_seconds=12.5))
    uploaded = client.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})
    assert uploaded.state == types.FileState.PROCESSING
    with pytest.raises(errors.ClientError) as raised:
        analyse(client, types.Part.from_uri(file_uri=uploaded.uri, mime_type="video/mp4"))
    assert (raised.value.code, raised.value.status) == (400, "FAILED_PRECONDITION")

    states = [client.files.get(name=uploaded.name).state for _ in range(3)]

    assert states == [types.FileState.PROCESSING] * 2 + [types.FileState.ACTIVE]
    assert fake_gemini.file(uploaded.name).polls == 3
    assert client.files.get(name=uploaded.name).video_metadata == {"videoDuration": "12.5s"}
    response = analyse(client, types.Part.from_uri(file_uri=uploaded.uri, mime_type="video/mp4"))
    assert isinstance(response.parsed, VideoAnalysis)
    file_data = fake_gemini.generate_requests[-1].json["contents"][0]["parts"][0]["fileData"]
    assert file_data == {"file_uri": uploaded.uri, "mime_type": "video/mp4"}


def test_a_file_can_fail_processing(fake_gemini: FakeGemini) -> None:
    fake_gemini.processing_polls = 1
    fake_gemini.final_file_state = "FAILED"
    client = make_client(fake_gemini)
    uploaded = client.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})

    assert client.files.get(name=uploaded.name).state == types.FileState.PROCESSING
    failed = client.files.get(name=uploaded.name)
    assert failed.state == types.FileState.FAILED
    assert failed.error.message == "Video processing failed."


def test_a_deleted_file_is_gone(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    kept = fake_gemini.add_file(VIDEO, name="kept")
    uploaded = client.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})

    client.files.delete(name=uploaded.name)

    assert fake_gemini.files == [kept]
    assert [f.name for f in fake_gemini.deleted_files] == [uploaded.name]
    with pytest.raises(errors.ClientError) as raised:
        client.files.get(name=uploaded.name)
    assert (raised.value.code, raised.value.status) == (403, "PERMISSION_DENIED")
    with pytest.raises(errors.ClientError, match="PERMISSION_DENIED"):
        analyse(client, types.Part.from_uri(file_uri=uploaded.uri, mime_type="video/mp4"))
    assert [f.name for f in client.files.list()] == ["files/kept"]


def test_files_are_listed_page_by_page(fake_gemini: FakeGemini) -> None:
    for i in range(3):
        fake_gemini.add_file(VIDEO, display_name=f"v{i}")

    client = make_client(fake_gemini)

    listed = list(client.files.list(config={"page_size": 2}))

    assert [f.display_name for f in listed] == ["v0", "v1", "v2"]
    pages = fake_gemini.requests_to("GET", "^/v1beta/files$")
    assert [p.query.get("pageToken") for p in pages] == [None, "2"]


def test_a_failed_chunk_raises_at_once(fake_gemini: FakeGemini) -> None:
    fake_gemini.fail_next(
        "POST",
        UPLOAD_PATH,
        503,
        when=lambda r: r.headers.get("x-goog-upload-command") == "upload, finalize",
    )
    client = make_client(fake_gemini)

    with pytest.raises(errors.ServerError):
        client.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})

    assert fake_gemini.files == []
    assert len(fake_gemini.requests_to("POST", UPLOAD_PATH)) == 2  # start, the failed chunk


# ----------------------------------------------------------------------------- keys and 404


def test_the_api_key_is_recorded_but_never_shown(fake_gemini: FakeGemini) -> None:
    client = make_client(fake_gemini)
    analyse(client, video_part())
    fake_gemini.add_file(VIDEO, name="seen")
    client.files.get(name="files/seen")

    requests = fake_gemini.requests
    assert [r.headers["x-goog-api-key"] for r in requests] == [API_KEY, API_KEY]
    assert API_KEY not in repr(requests)
    assert API_KEY not in repr(fake_gemini.files)


def test_a_required_api_key_refuses_other_keys(fake_gemini: FakeGemini) -> None:
    fake_gemini.required_api_key = "right-key"

    with pytest.raises(errors.ClientError) as raised:
        analyse(make_client(fake_gemini))
    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert "API key not valid" in raised.value.message

    right = genai.Client(
        api_key="right-key",
        http_options=types.HttpOptions(base_url=fake_gemini.url, api_version="v1beta"),
    )
    uploaded = right.files.upload(file=io.BytesIO(VIDEO), config={"mime_type": "video/mp4"})
    assert uploaded.state == types.FileState.ACTIVE  # chunks carry no key, as with the API
    assert "x-goog-api-key" not in fake_gemini.requests[-1].headers


def test_anything_else_is_a_404_with_a_google_error_envelope(fake_gemini: FakeGemini) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{fake_gemini.url}/v1beta/tunedModels/{MODEL}", timeout=5)
    assert raised.value.code == 404
    error = json.loads(raised.value.read())["error"]
    assert (error["code"], error["status"]) == (404, "NOT_FOUND") and error["message"]
