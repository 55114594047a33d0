"""The real ``google-genai`` client pointed at a FakeGemini, as the fake's own tests use it
(test_fake_gemini.py, test_fake_gemini_files.py): a client, a video part, and the analysis call
with the pipeline's response schema."""

from typing import Any

from google import genai
from google.genai import types

from tiktok_virality.defs.analysis.schema import VideoAnalysis
from tiktok_virality_tests.fakes.gemini import FakeGemini

API_KEY = "test-key"
MODEL = "gemini-3.5-flash"
VIDEO = b"\x00\x00\x00\x18ftypmp42 fake video bytes"
MB = 1024 * 1024


def make_client(fake: FakeGemini, retry: types.HttpRetryOptions | None = None) -> genai.Client:
    return genai.Client(
        api_key=API_KEY,
        http_options=types.HttpOptions(
            base_url=fake.url, api_version="v1beta", retry_options=retry
        ),
    )


def analyse(client: genai.Client, *parts: Any) -> types.GenerateContentResponse:
    return client.models.generate_content(
        model=MODEL,
        contents=[*parts, "Analyse this TikTok video."],
        config=types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=VideoAnalysis
        ),
    )


def video_part(data: bytes = VIDEO) -> types.Part:
    return types.Part.from_bytes(data=data, mime_type="video/mp4")
