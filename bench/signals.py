"""10. Measured signals: `measure_video` (one decoding pass, every signal family) on synthetic
TikTok-like videos of growing resolution, each in a child process of its own so that its memory is
the work's alone.

Run as `python -m bench.signals WIDTH HEIGHT SECONDS` it is that child: it renders the video
(H.264 + AAC, 30 fps: shots with text, a moving bar and a tone), then measures one
`measure_video` call (the text and face detectors loaded beforehand, as in a batch where they load
once), and prints what it measured as JSON."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.core import (
    MEGABYTE,
    Benchmark,
    Measurement,
    ResultTable,
    Verdict,
    column,
    peak_resident_bytes,
    reset_peak_resident,
    resident_bytes,
    run_child,
)

_TARGET_REAL_TIME = 20.0
_REPEATS = 3


@dataclass(frozen=True)
class SignalsConfig:
    videos: tuple[tuple[int, int, float], ...]  # width, height, seconds


# 576×1024 is what TikTok serves and the scraper downloads (the sample's `videoMeta`: 540p).
FULL = SignalsConfig(
    videos=((360, 640, 30.0), (576, 1024, 30.0), (720, 1280, 30.0), (1080, 1920, 15.0))
)
SMOKE = SignalsConfig(videos=((180, 320, 3.0),))


@dataclass(frozen=True)
class SignalsRow:
    resolution: str = column("video")
    seconds: float = column("video s", "{:.0f}")
    wall_seconds: float = column("wall s (median of 3)", "{:.2f}")
    cpu_seconds: float = column("CPU s (median of 3)", "{:.2f}")
    real_time: float = column("video s per wall s", "{:.1f}")
    real_time_per_core: float = column("video s per CPU s", "{:.1f}")
    peak_mb: float = column("peak RSS MB (beyond the loaded detectors)", "{:,.0f}")
    file_mb: float = column("file MB", "{:.1f}")


def measure(config: SignalsConfig, work_dir: Path) -> Measurement:
    rows = []
    for width, height, seconds in config.videos:
        child = run_child(["-m", "bench.signals", str(width), str(height), str(seconds)])
        rows.append(
            SignalsRow(
                resolution=f"{width}×{height}",
                seconds=seconds,
                wall_seconds=child["wall_seconds"],
                cpu_seconds=child["cpu_seconds"],
                real_time=seconds / child["wall_seconds"],
                real_time_per_core=seconds / child["cpu_seconds"],
                peak_mb=(child["peak_bytes"] - child["loaded_bytes"]) / MEGABYTE,
                file_mb=child["file_bytes"] / MEGABYTE,
            )
        )
    return Measurement(
        method=(
            "Per video, a child process renders a synthetic video with PyAV (H.264 veryfast, "
            "AAC; 30 fps; shots of 1–3 s with on-screen text, a moving bar and a tone), loads "
            "the face and text detectors, then times `measure_video` 3 times (the medians are "
            "shown): wall time and the process's CPU time (one thread: the decoder and ONNX Runtime are held to one "
            "core, so CPU time is the per-core cost). Memory is the child's peak resident set "
            "(Linux `VmHWM`, reset once the detectors are loaded) above what it held then."
        ),
        tables=[ResultTable("measure_video by resolution", rows)],
        verdicts=[
            Verdict(
                f"≥ {_TARGET_REAL_TIME:g}× real time per core at {row.resolution}",
                f"{row.real_time_per_core:.1f}× ({row.seconds:.0f} s of video in "
                f"{row.cpu_seconds:.2f} CPU s)",
                row.real_time_per_core >= _TARGET_REAL_TIME,
            )
            for row in rows
        ],
        notes=[
            "Sampling (`defs/signals/decode.py`, `Sampling`): every frame as a 64-pixel "
            "thumbnail for the cut detector (and 4 a second of them for motion), a frame a "
            "second at 360 pixels for faces, brightness and colour, and text checked once a "
            "second in the first 2 s, every 5 s after. Synthetic frames are flatter than filmed "
            "ones, so H.264 decodes them faster: real footage of the same size costs more to "
            "decode.",
        ],
    )


def _child(width: int, height: int, seconds: float) -> None:
    # Imported here: the harness process needs none of the media libraries.
    from tiktok_virality.defs.signals.measure import measure_video
    from tiktok_virality.defs.signals.people import largest_face_share
    from tiktok_virality.defs.signals.synthetic import Shot, Sound, render_video
    from tiktok_virality.defs.signals.text import has_text

    colours = [(220, 60, 40), (30, 90, 200), (240, 220, 200), (20, 20, 20), (90, 200, 120)]
    shots = []
    elapsed, number = 0.0, 0
    while elapsed < seconds:
        length = min(1.0 + number % 3, seconds - elapsed)
        shots.append(
            Shot(
                length,
                colours[number % len(colours)],
                text=f"Part {number + 1}: wait for it" if number % 2 == 0 else None,
                drift_pixels_per_second=width / 2,
            )
        )
        elapsed, number = elapsed + length, number + 1
    data = render_video(shots, [Sound(seconds, 220.0, 0.3)], width=width, height=height, fps=30)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "video.mp4"
        path.write_bytes(data)
        first = render_video([Shot(0.2, (0, 0, 0))], width=64, height=64)
        warm = Path(scratch) / "warm.mp4"
        warm.write_bytes(first)
        # Load the detectors (once per process in a batch) outside the measurement.
        blank = __import__("numpy").zeros((64, 64, 3), "uint8")
        largest_face_share(blank)
        has_text(blank)
        measure_video(warm)
        loaded = resident_bytes()
        reset_peak_resident()
        walls, cpus = [], []
        for _ in range(_REPEATS):
            wall, cpu = time.perf_counter(), time.process_time()
            row = measure_video(path)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            if row["signals_note"] is not None:
                raise RuntimeError(f"the benchmark video was not measured whole: {row}")
    print(
        json.dumps(
            {
                "wall_seconds": statistics.median(walls),
                "cpu_seconds": statistics.median(cpus),
                "loaded_bytes": loaded,
                "peak_bytes": peak_resident_bytes(),
                "file_bytes": len(data),
            }
        )
    )


BENCHMARK = Benchmark(
    key="signals",
    title="10. Measured signals from the video files",
    full=FULL,
    smoke=SMOKE,
    measure=measure,
)

if __name__ == "__main__":
    _child(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
