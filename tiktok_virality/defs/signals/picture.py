"""Picture: light, colour and movement, from the sampled frames.

Signals:
- `brightness` (0–1): mean luma (ITU-R BT.601 weights, as OpenCV's RGB→grey) / 255, averaged
  over the detail frames (1 a second by default).
- `colourfulness` (Hasler–Süsstrunk M, ≈0 for grey, ≈33 "moderately", ≈59 "quite", ≥82 "highly
  colourful"): √(σ_rg² + σ_yb²) + 0.3 √(μ_rg² + μ_yb²) with rg = R − G and yb = (R + G)/2 − B,
  averaged over the detail frames (D. Hasler, S. Süsstrunk, "Measuring colourfulness in natural
  images", SPIE 5007, 2003).
- `motion_energy` (0–1): the mean absolute change of luma (/255) between consecutive motion
  samples (64-pixel thumbnails 1/4 s apart by default), over the pairs within one shot (a cut is
  not motion); `motion_energy_first_2s`: the same over the pairs ending in the first 2 s.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

FIRST_SECONDS = 2.0


@dataclass(frozen=True)
class PictureSignals:
    brightness: float | None
    colourfulness: float | None
    motion_energy: float | None
    motion_energy_first_2s: float | None


@dataclass(frozen=True)
class FrameLook:
    """What one detail frame contributes: its brightness and colourfulness."""

    brightness: float
    colourfulness: float


@dataclass(frozen=True)
class MotionSample:
    """A thumbnail in grey at its time, to compare with the next."""

    seconds: float
    grey: np.ndarray


def look_at(rgb: np.ndarray) -> FrameLook:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return FrameLook(brightness=float(grey.mean()) / 255.0, colourfulness=colourfulness(rgb))


def motion_sample(seconds: float, thumbnail_bgr: np.ndarray) -> MotionSample:
    return MotionSample(seconds, cv2.cvtColor(thumbnail_bgr, cv2.COLOR_BGR2GRAY))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler–Süsstrunk's M of an RGB picture (uint8)."""
    red, green, blue = (rgb[..., channel].astype(np.float32) for channel in range(3))
    red_green = red - green
    yellow_blue = 0.5 * (red + green) - blue
    spread = np.hypot(red_green.std(), yellow_blue.std())
    mean = np.hypot(red_green.mean(), yellow_blue.mean())
    return float(spread + 0.3 * mean)


def picture_signals(
    looks: list[FrameLook], motion: list[MotionSample], cut_seconds: list[float]
) -> PictureSignals:
    """From the detail frames' looks, the motion samples (in time order) and the cut times."""
    if not looks:
        return PictureSignals(None, None, None, None)
    changes = [
        (later.seconds, float(cv2.absdiff(earlier.grey, later.grey).mean()) / 255.0)
        for earlier, later in itertools.pairwise(motion)
        if earlier.grey.shape == later.grey.shape  # else the picture size changed
        and not any(earlier.seconds < cut <= later.seconds for cut in cut_seconds)
    ]
    first = [change for seconds, change in changes if seconds <= FIRST_SECONDS]
    return PictureSignals(
        brightness=float(np.mean([look.brightness for look in looks])),
        colourfulness=float(np.mean([look.colourfulness for look in looks])),
        motion_energy=float(np.mean([change for _, change in changes])) if changes else None,
        motion_energy_first_2s=float(np.mean(first)) if first else None,
    )
