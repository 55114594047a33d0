"""People: faces on screen, and how close the camera is to them.

Faces are found by OpenCV's frontal-face Haar cascade (Viola–Jones; the cascade file ships in the
`opencv-python-headless` wheel, `cv2.data.haarcascades`), on the detail frames (one a second by default) in grey.

Signals:
- `face_frame_share` (0–1): the share of detail frames with at least one face.
- `face_area_share` (0–1): the largest face's box as a share of the frame's area, averaged over
  the frames with a face; 0 when no frame has one. A shot-scale proxy: a close-up's face fills a
  tenth of a portrait frame or more, a wide shot's a few thousandths.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

_CASCADE = "haarcascade_frontalface_default.xml"
# A face smaller than this share of the frame's short side is too small to matter (and Haar's
# false alarms are mostly small).
MIN_FACE_SHARE_OF_SIDE = 0.08


@dataclass(frozen=True)
class PeopleSignals:
    face_frame_share: float | None
    face_area_share: float | None


@cache
def _face_detector() -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / _CASCADE
    detector = cv2.CascadeClassifier(str(path))
    if detector.empty():
        raise RuntimeError(f"OpenCV's face cascade is missing: {path}")
    return detector


def largest_face_share(rgb: np.ndarray) -> float:
    """The largest face's box area / the frame's area; 0.0 when no face is found."""
    grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    side = max(24, round(min(grey.shape) * MIN_FACE_SHARE_OF_SIDE))
    # minNeighbors 5 trades a few misses for few false alarms; a scale step of 1.2 (OpenCV's tutorial,
    # https://docs.opencv.org/4.x/db/d28/tutorial_cascade_classifier.html, uses 1.1) looks at half
    # as many sizes. 1.3 missed the astronaut's face in the tests.
    faces = _face_detector().detectMultiScale(
        grey, scaleFactor=1.2, minNeighbors=5, minSize=(side, side)
    )
    if len(faces) == 0:
        return 0.0
    return float(max(width * height for _, _, width, height in faces)) / grey.size


def people_signals(face_shares: list[float]) -> PeopleSignals:
    """From `largest_face_share` of each sampled frame."""
    if not face_shares:
        return PeopleSignals(None, None)
    with_face = [share for share in face_shares if share > 0]
    return PeopleSignals(
        face_frame_share=len(with_face) / len(face_shares),
        face_area_share=float(np.mean(with_face)) if with_face else 0.0,
    )
