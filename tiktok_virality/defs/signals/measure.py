"""One video's signals from its file: decoded once (`decode`), each picture and sound chunk handed
to the signal families as it comes (so memory stays small whatever the length), then each family's
signals computed from what it kept.

Whatever goes wrong with a file stays with that video: no file, an unreadable or truncated one, no
sound or no picture give null signals where they cannot be measured and a `signals_note` that says
why; the batch goes on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np

from tiktok_virality.core.errors import describe_error
from tiktok_virality.defs.signals.decode import (
    AUDIO_RATE,
    AudioChunk,
    Sampling,
    VideoFrame,
    decode,
    stream_info,
)
from tiktok_virality.defs.signals.pacing import CutFinder, PacingSignals, pacing_signals
from tiktok_virality.defs.signals.people import PeopleSignals, largest_face_share, people_signals
from tiktok_virality.defs.signals.picture import (
    FrameLook,
    MotionSample,
    PictureSignals,
    look_at,
    motion_sample,
    picture_signals,
)
from tiktok_virality.defs.signals.reasons import (
    NO_AUDIO,
    NO_MEDIA,
    NO_VIDEO,
    SOUND_TOO_SHORT,
    STOPPED_EARLY,
    TOO_FEW_PICTURES,
    UNREADABLE,
)
from tiktok_virality.defs.signals.sound import SoundSignals, sound_signals
from tiktok_virality.defs.signals.text import TextSignals, has_text, text_signals

_FAMILIES = (PacingSignals, PeopleSignals, PictureSignals, SoundSignals, TextSignals)
SIGNAL_NAMES: tuple[str, ...] = tuple(
    name for family in _FAMILIES for name in family.__dataclass_fields__
)
"""Every signal, in the order of the `video_signals` table."""
# Assumed when a stream does not say its frame rate (PySceneDetect needs one to count frames).
_FALLBACK_FPS = 30.0


@dataclass
class _Collected:
    """What the families keep of the decoded stream."""

    cuts: CutFinder
    last_seconds: float = 0.0
    frames: int = 0
    looks: list[FrameLook] = field(default_factory=list)
    motion: list[MotionSample] = field(default_factory=list)
    face_shares: list[float] = field(default_factory=list)
    text_checks: list[tuple[float, bool]] = field(default_factory=list)
    audio: list[np.ndarray] = field(default_factory=list)

    def add_frame(self, frame: VideoFrame) -> None:
        self.frames += 1
        self.last_seconds = frame.seconds
        self.cuts.add(frame.index, frame.seconds, frame.thumbnail_bgr)
        if frame.motion_sample:
            self.motion.append(motion_sample(frame.seconds, frame.thumbnail_bgr))
        if frame.detail_rgb is not None:
            self.looks.append(look_at(frame.detail_rgb))
            self.face_shares.append(largest_face_share(frame.detail_rgb))
            if frame.wants_text:
                self.text_checks.append((frame.seconds, has_text(frame.detail_rgb)))


def measure_video(path: Path | None, sampling: Sampling | None = None) -> dict[str, object]:
    """The signals of the video file at `path` (None: not cached), with `media_seconds` (how much
    was decoded) and `signals_note` (why any signal is null; None when none is)."""
    if path is None:
        return _row({}, None, [NO_MEDIA])
    sampling = sampling or Sampling()
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError) as error:
        return _row({}, None, [f"{UNREADABLE}: {_file_error(error, path)}"])
    notes: list[str] = []
    with container:
        info = stream_info(container)
        collected = _Collected(CutFinder(info.frames_per_second or _FALLBACK_FPS))
        try:
            for item in decode(container, sampling):
                if isinstance(item, AudioChunk):
                    collected.audio.append(item.samples)
                else:
                    collected.add_frame(item)
        except (av.FFmpegError, ValueError) as error:  # a truncated or damaged stream
            notes.append(f"{STOPPED_EARLY}: {_file_error(error, path)}")
    signals = _signals(collected, info.has_video, info.has_audio, notes)
    duration = _duration(collected) if collected.frames else None
    return _row(signals, duration, notes)


def _file_error(error: BaseException, path: Path) -> str:
    """The error, naming the file by its name (its content's digest in the media cache) rather
    than its path: a stored note does not depend on where the data folder is."""
    return describe_error(error).replace(str(path), path.name)


def _signals(
    collected: _Collected, has_video: bool, has_audio: bool, notes: list[str]
) -> dict[str, object]:
    signals: dict[str, object] = {}
    if collected.frames >= 2:
        duration = _duration(collected)
        signals |= asdict(pacing_signals(collected.cuts.cut_seconds, duration))
        signals |= asdict(people_signals(collected.face_shares))
        signals |= asdict(
            picture_signals(collected.looks, collected.motion, collected.cuts.cut_seconds)
        )
        signals |= asdict(text_signals(collected.text_checks))
    else:
        notes.append(NO_VIDEO if not has_video else TOO_FEW_PICTURES)
    sound = (
        np.concatenate(collected.audio, axis=1) if collected.audio else np.zeros((1, 0), "float32")
    )
    signals |= asdict(sound_signals(sound, AUDIO_RATE))
    if not has_audio:
        notes.append(NO_AUDIO)
    elif signals["loudness_lufs"] is None:
        notes.append(SOUND_TOO_SHORT)
    return signals


def _duration(collected: _Collected) -> float:
    # The last picture lasts about as long as the average one before it.
    frames = collected.frames
    return collected.last_seconds * frames / max(1, frames - 1)


def _row(signals: dict[str, object], media_seconds: float | None, notes: list[str]) -> dict:
    return {
        **{name: signals.get(name) for name in SIGNAL_NAMES},
        "media_seconds": media_seconds,
        "signals_note": "; ".join(notes) or None,
    }
