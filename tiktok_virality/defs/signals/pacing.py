"""Pacing: how often the picture cuts to another shot.

Cuts are found by PySceneDetect's `ContentDetector` (a weighted change of hue, saturation and
lightness between consecutive frames above a threshold; https://www.scenedetect.com/docs/latest/
api/detectors.html), fed every decoded frame as a tiny thumbnail, so a hard cut is placed on the
frame where it happens. Cuts closer than `MIN_SHOT_SECONDS` after the previous one are ignored
(flashes and strobe effects are not shots).

Signals:
- `cuts_per_10s` (cuts per 10 seconds): the number of cuts × 10 / the decoded duration.
- `mean_shot_seconds` (seconds): the decoded duration / the number of shots (cuts + 1).
- `first_cut_seconds` (seconds): when the first cut comes; the whole duration when there is none
  (the first shot lasts the whole video), so that "no cut" reads as the slowest possible start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scenedetect.common import FrameTimecode
from scenedetect.detector import FlashFilter
from scenedetect.detectors import ContentDetector

MIN_SHOT_SECONDS = 0.25
# PySceneDetect's default content threshold (27 on a 0-255 scale), which its docs suggest for
# typical footage.
CUT_THRESHOLD = 27.0


@dataclass(frozen=True)
class PacingSignals:
    cuts_per_10s: float | None
    mean_shot_seconds: float | None
    first_cut_seconds: float | None


class CutFinder:
    """Feeds frames to the content detector and keeps the times of the cuts it reports."""

    def __init__(self, frames_per_second: float) -> None:
        self._fps = float(frames_per_second)  # PySceneDetect refuses an int (a frame count)
        self._detector = ContentDetector(
            threshold=CUT_THRESHOLD,
            min_scene_len=MIN_SHOT_SECONDS,
            filter_mode=FlashFilter.Mode.SUPPRESS,
        )
        self._seconds_by_index: dict[int, float] = {}
        self.cut_seconds: list[float] = []

    def add(self, index: int, seconds: float, thumbnail_bgr: np.ndarray) -> None:
        """The frame `index` (0, 1, 2, … in decoding order) shown at `seconds`."""
        self._seconds_by_index[index] = seconds
        cuts = self._detector.process_frame(FrameTimecode(index, self._fps), thumbnail_bgr)
        # The detector counts frames; the times are the frames' own (variable frame rates).
        self.cut_seconds.extend(self._seconds_by_index[cut.frame_num] for cut in cuts)


def pacing_signals(cut_seconds: list[float], duration_seconds: float) -> PacingSignals:
    """The pacing of a video of `duration_seconds` with cuts at `cut_seconds`."""
    if duration_seconds <= 0:
        return PacingSignals(None, None, None)
    return PacingSignals(
        cuts_per_10s=len(cut_seconds) * 10.0 / duration_seconds,
        mean_shot_seconds=duration_seconds / (len(cut_seconds) + 1),
        first_cut_seconds=min(cut_seconds) if cut_seconds else duration_seconds,
    )
