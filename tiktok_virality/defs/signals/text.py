"""Text: words on screen, found by RapidOCR's text detector (PaddleOCR's PP-OCRv6 small detection
network, DB post-processing) run with ONNX Runtime on some sampled frames; detection only, the
words are not read. The network ships in the `rapidocr` wheel (`rapidocr/models/`) and is passed
by path: RapidOCR downloads a model only when given none (its `inference_engine/onnxruntime/
main.py`), so nothing is fetched at run time.

Signals:
- `text_frame_share` (0–1): the share of the text-checked frames (one a second by default) with at
  least one detected text box.
- `text_in_first_2s` (boolean): a text-checked frame of the first 2 seconds has text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

FIRST_SECONDS = 2.0
DETECTOR_MODEL = "PP-OCRv6_det_small.onnx"
# The detector resizes a frame so that its long side is this (RapidOCR's `limit_type: max`):
# TikTok's overlays are large: a caption 40 px tall in a 1280 px frame is 8 px tall here, still found.
_DETECTION_LONG_SIDE = 256


@dataclass(frozen=True)
class TextSignals:
    text_frame_share: float | None
    text_in_first_2s: bool | None


@cache
def _detector() -> Any:
    # Imported here: RapidOCR loads ONNX Runtime and its config on import.
    import rapidocr

    model = Path(rapidocr.__file__).parent / "models" / DETECTOR_MODEL
    if not model.is_file():
        raise RuntimeError(f"RapidOCR's text detector is missing: {model}")
    return rapidocr.RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.use_rec": False,
            "Global.log_level": "critical",
            "Det.model_path": str(model),
            "Det.limit_side_len": _DETECTION_LONG_SIDE,
            "Det.limit_type": "max",
            # One core per video, as the decoder: videos run side by side.
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )


def has_text(rgb: np.ndarray) -> bool:
    """Whether the picture shows text (at least one detected text box)."""
    result = _detector()(
        np.ascontiguousarray(rgb[..., ::-1]), use_det=True, use_cls=False, use_rec=False
    )
    boxes = getattr(result, "boxes", None)
    return boxes is not None and len(boxes) > 0


def text_signals(checked: list[tuple[float, bool]]) -> TextSignals:
    """From (seconds, has text) of each text-checked frame."""
    if not checked:
        return TextSignals(None, None)
    return TextSignals(
        text_frame_share=sum(found for _, found in checked) / len(checked),
        text_in_first_2s=any(found for seconds, found in checked if seconds < FIRST_SECONDS),
    )
