"""One decoding pass over a video file (PyAV): every picture as a tiny thumbnail (for the cut
detector, which must see every frame to place a cut within one frame, and for motion), a few
pictures per second at a modest size (for faces, picture and text signals), and the sound as
floating-point samples.

Decoding dominates the cost, so the decoder skips H.264/HEVC's deblocking loop filter (the
`skip_loop_filter` codec option, https://ffmpeg.org/ffmpeg-codecs.html#Codec-Options): it smooths
block edges for the eye and changes none of the signals measurably, at a third less decoding time.
The pictures are read straight from the decoded planes where the format allows (YUV 4:2:0, what
TikTok serves), so the every-frame path does no colour conversion of the full picture."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import av
import cv2
import numpy as np

AUDIO_RATE = 22_050
"""Hz the sound is resampled to: enough for loudness (BS.1770's K-weighting acts below 2 kHz, its
high-shelf rises around 1.5 kHz), onsets and speech, and half the memory of 44.1 kHz."""


@dataclass(frozen=True)
class Sampling:
    """How densely the decoder samples. The defaults hold 20× real time per core at TikTok's
    576×1024 (bench/signals.py)."""

    motion_samples_per_second: float = 4.0
    """Thumbnails per second compared for motion."""
    detail_frames_per_second: float = 1.0
    """Pictures per second scaled to `detail_long_side` for faces, brightness and colour."""
    text_frames_per_second: float = 0.2
    """Of those, how many per second go to the text detector (its network is the costliest step)…"""
    opening_text_frames_per_second: float = 1.0
    """…and how many in the first `opening_seconds`, where a hook's text matters most."""
    opening_seconds: float = 2.0
    detail_long_side: int = 360
    thumbnail_long_side: int = 64
    max_seconds: float = 180.0
    """Only the first three minutes are decoded: most TikToks are shorter, and a hook, a pace
    and a sound show well before then."""

    def text_interval(self, seconds: float) -> float:
        opening = seconds < self.opening_seconds
        return 1 / (self.opening_text_frames_per_second if opening else self.text_frames_per_second)


@dataclass(frozen=True)
class VideoFrame:
    """A decoded picture: its time (seconds from the first picture) and tiny BGR thumbnail, whether
    it is a motion sample, and on detail frames the picture in RGB at the detail size."""

    index: int
    seconds: float
    thumbnail_bgr: np.ndarray
    motion_sample: bool
    detail_rgb: np.ndarray | None
    wants_text: bool


class _Cadence:
    """Says which frames to take so that they come at most every `interval` seconds."""

    def __init__(self) -> None:
        self._next = 0.0

    def take(self, seconds: float, interval: float) -> bool:
        if seconds + 1e-6 < self._next:
            return False
        self._next = seconds + interval
        return True


@dataclass(frozen=True)
class AudioChunk:
    """Decoded sound, resampled to `AUDIO_RATE`: shape (channels, samples), float32 in [-1, 1]."""

    samples: np.ndarray


@dataclass(frozen=True)
class StreamInfo:
    frames_per_second: float | None
    has_video: bool
    has_audio: bool


def stream_info(container: av.container.InputContainer) -> StreamInfo:
    video = container.streams.video[0] if container.streams.video else None
    rate = (video.average_rate or video.guessed_rate) if video is not None else None
    return StreamInfo(
        frames_per_second=float(rate) if rate else None,
        has_video=video is not None,
        has_audio=bool(container.streams.audio),
    )


def decode(
    container: av.container.InputContainer, sampling: Sampling
) -> Iterator[VideoFrame | AudioChunk]:
    """The file's pictures and sound in one pass, in file order, up to `sampling.max_seconds`."""
    streams = [*container.streams.video[:1], *container.streams.audio[:1]]
    for stream in streams:
        stream.thread_type = "SLICE"  # one core per video: videos run side by side, not threads
        stream.codec_context.thread_count = 1
    if container.streams.video:
        container.streams.video[0].codec_context.options = {"skip_loop_filter": "all"}
    resampler = _resampler(container.streams.audio[0]) if container.streams.audio else None
    first_video_time: float | None = None
    motion, detail, text = _Cadence(), _Cadence(), _Cadence()
    index = 0
    for frame in container.decode(*streams):
        if isinstance(frame, av.AudioFrame):
            assert resampler is not None
            for chunk in resampler.resample(frame):
                yield AudioChunk(chunk.to_ndarray().reshape(chunk.layout.nb_channels, -1))
            continue
        seconds = float(frame.time or 0.0)
        first_video_time = seconds if first_video_time is None else first_video_time
        seconds -= first_video_time
        if seconds > sampling.max_seconds:
            break
        detailed = detail.take(seconds, 1 / sampling.detail_frames_per_second)
        yield VideoFrame(
            index=index,
            seconds=seconds,
            thumbnail_bgr=_thumbnail_bgr(frame, sampling.thumbnail_long_side),
            motion_sample=motion.take(seconds, 1 / sampling.motion_samples_per_second),
            detail_rgb=_scaled_rgb(frame, sampling.detail_long_side) if detailed else None,
            wants_text=detailed and text.take(seconds, sampling.text_interval(seconds)),
        )
        index += 1
    if resampler is not None:
        for chunk in resampler.resample(None):
            yield AudioChunk(chunk.to_ndarray().reshape(chunk.layout.nb_channels, -1))


def _resampler(stream: av.audio.stream.AudioStream) -> av.AudioResampler:
    # Stereo stays stereo: BS.1770 sums the channels' energies, so a downmix would change the
    # loudness of anything not identical in both channels.
    layout = "stereo" if (stream.channels or 1) >= 2 else "mono"
    return av.AudioResampler(format="fltp", layout=layout, rate=AUDIO_RATE)


def _thumbnail_bgr(frame: av.VideoFrame, long_side: int) -> np.ndarray:
    """A tiny BGR picture, sliced from the YUV 4:2:0 planes when the frame has them (no scaling
    of the full picture), else scaled by FFmpeg."""
    step = max(2, 2 * round(max(frame.width, frame.height) / long_side / 2))
    if frame.format.name in ("yuv420p", "yuvj420p"):
        luma = _plane(frame, 0, frame.height, frame.width)[::step, ::step]
        half = step // 2
        blue = _plane(frame, 1, frame.height // 2, frame.width // 2)[::half, ::half]
        red = _plane(frame, 2, frame.height // 2, frame.width // 2)[::half, ::half]
        rows, columns = (min(p.shape[i] for p in (luma, blue, red)) for i in (0, 1))
        ycrcb = np.dstack([luma[:rows, :columns], red[:rows, :columns], blue[:rows, :columns]])
        return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR)
    width, height = _scaled_size(frame, long_side)
    return frame.reformat(width=width, height=height, format="bgr24").to_ndarray()


def _scaled_rgb(frame: av.VideoFrame, long_side: int) -> np.ndarray:
    width, height = _scaled_size(frame, long_side)
    # Bilinear: these pictures feed detectors and averages, not eyes; FFmpeg's default bicubic
    # costs more.
    return frame.reformat(
        width=width, height=height, format="rgb24", interpolation="FAST_BILINEAR"
    ).to_ndarray()


def _scaled_size(frame: av.VideoFrame, long_side: int) -> tuple[int, int]:
    scale = min(1.0, long_side / max(frame.width, frame.height))
    # Even sizes: FFmpeg's scaler and the chroma planes want them.
    return max(2, round(frame.width * scale / 2) * 2), max(2, round(frame.height * scale / 2) * 2)


def _plane(frame: av.VideoFrame, number: int, height: int, width: int) -> np.ndarray:
    """The plane's pixels as a (height, width) view; its rows are padded to `line_size`."""
    plane = frame.planes[number]
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:height, :width]
