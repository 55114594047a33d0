"""Small deterministic videos made with PyAV: the offline demo's media (for the bundled sample's
videos), the tests' fixtures and the benchmark's input. Each is a sequence of shots (a colour, an
optional picture, optional text, optional drift for motion) over a sequence of sounds (tones or
silence), encoded as H.264 and AAC in MP4, as TikTok serves them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np

AUDIO_RATE = 44_100


@dataclass(frozen=True)
class Shot:
    seconds: float
    colour: tuple[int, int, int]  # RGB
    text: str | None = None
    picture: np.ndarray | None = None  # RGB, pasted in the middle
    drift_pixels_per_second: float = 0.0  # a bar moving across: motion


@dataclass(frozen=True)
class Sound:
    seconds: float
    frequency_hz: float = 1000.0
    peak: float = 0.0  # 0 = silence; a sine's peak amplitude (full scale = 1)


def render_video(
    shots: Sequence[Shot],
    sounds: Sequence[Sound] = (),
    *,
    width: int = 180,
    height: int = 320,
    fps: int = 30,
) -> bytes:
    """The MP4 file's bytes: the shots' pictures at `fps`, the sounds in mono AAC (no audio
    stream when `sounds` is empty)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "veryfast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono") if sounds else None
        frame_index = 0
        for shot in shots:
            for shot_frame in range(round(shot.seconds * fps)):
                picture = _picture(shot, width, height, shot_frame / fps)
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts, frame.time_base = frame_index, Fraction(1, fps)
                container.mux(video.encode(frame))
                frame_index += 1
        container.mux(video.encode(None))
        if audio is not None:
            _encode_sound(container, audio, sounds)
    return buffer.getvalue()


def _picture(shot: Shot, width: int, height: int, seconds: float) -> np.ndarray:
    picture = np.empty((height, width, 3), np.uint8)
    picture[:] = shot.colour
    if shot.picture is not None:
        side = min(width, height)
        pasted = cv2.resize(shot.picture, (side, side), interpolation=cv2.INTER_AREA)
        top = (height - side) // 2
        left = (width - side) // 2
        picture[top : top + side, left : left + side] = pasted
    if shot.drift_pixels_per_second:
        left = round(seconds * shot.drift_pixels_per_second) % width
        picture[:, left : left + width // 8] = 255 - np.asarray(shot.colour, np.uint8)
    if shot.text:
        scale = width / 240
        cv2.putText(
            picture,
            shot.text,
            (width // 12, height // 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            max(1, round(2 * scale)),
            cv2.LINE_AA,
        )
    return picture


def _encode_sound(
    container: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    sounds: Sequence[Sound],
) -> None:
    pieces = []
    for sound in sounds:
        times = np.arange(round(sound.seconds * AUDIO_RATE)) / AUDIO_RATE
        pieces.append(sound.peak * np.sin(2 * np.pi * sound.frequency_hz * times))
    samples = np.concatenate(pieces).astype(np.float32)
    # AAC takes 1024 samples a frame; the encoder's frame size says so.
    size = stream.codec_context.frame_size or 1024
    for start in range(0, samples.size, size):
        chunk = samples[start : start + size]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
