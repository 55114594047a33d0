"""Video files for the bundled sample, so that the offline demo measures signals too: small,
deterministic videos made with PyAV when the sample dataset is created (not shipped as binaries),
one per sample video (slideshows have no file), put in the media cache under the video's id.

Each is 2 s at 144×256 and 15 fps, made from its item alone (the same item, the same bytes), and
items that look alike share one (about 40 files for the sample's 115 videos):
- shots of 0.5–1 s for a video of at most 15 s, of 1–2 s for a longer one: short videos cut
  faster, as on TikTok;
- the caption's call to action, if it has one, as on-screen text over the first shot;
- a tone, softer for an original sound than for a track.
So the measured signals echo the metadata the sample's views are planted on (`sample.py`); they
add no effect of their own."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from tiktok_virality.defs.datasets.sample import CALLS_TO_ACTION
from tiktok_virality.defs.media.cache import MediaCache
from tiktok_virality.defs.signals.synthetic import Shot, Sound, render_video

_SECONDS = 2.0
_SHORT_VIDEO_MAX_SECONDS = 15
_PALETTE = ((230, 70, 60), (40, 90, 200), (245, 230, 200), (25, 25, 35), (80, 200, 120))
_OVERLAY_WORDS = 3  # what fits across a 144-pixel frame
# Looks per combination of length, overlay and sound: enough for the signals to vary, few enough
# that the demo makes and measures a few dozen files rather than one per video.
_VARIANTS = 2


def sample_video(item: Mapping[str, Any]) -> bytes | None:
    """The video file of a sample item; None for a slideshow or an error item (no video)."""
    look = _look(item)
    return None if look is None else _render(*look)


def put_sample_media(media: MediaCache, items: Iterable[Mapping[str, Any]]) -> int:
    """Every sample video's file in the media cache; how many were put. Items that look alike
    share a file (the cache stores it once, and the signals measure it once)."""
    rendered: dict[tuple[bool, str | None, bool, int], bytes] = {}
    files: dict[str, bytes] = {}
    for item in items:
        look = _look(item)
        if look is not None:
            if look not in rendered:
                rendered[look] = _render(*look)
            files[str(item["id"])] = rendered[look]
    media.put_many(files)
    return len(files)


def _look(item: Mapping[str, Any]) -> tuple[bool, str | None, bool, int] | None:
    """What a sample video's file shows: short or not, its overlay, an original sound or not, and
    one of `_VARIANTS` by its id; None for a slideshow or an error item."""
    if item.get("isSlideshow") or "id" not in item or "videoMeta" not in item:
        return None
    short = item["videoMeta"].get("duration", 0) <= _SHORT_VIDEO_MAX_SECONDS
    original = bool((item.get("musicMeta") or {}).get("musicOriginal"))
    return short, _overlay(str(item.get("text") or "")), original, int(item["id"]) % _VARIANTS


def _render(short: bool, overlay: str | None, original: bool, variant: int) -> bytes:
    rng = random.Random(f"{short}-{overlay}-{original}-{variant}")
    shots: list[Shot] = []
    elapsed = 0.0
    while elapsed < _SECONDS:
        length = min(rng.uniform(0.5, 1.0) if short else rng.uniform(1.0, 2.0), _SECONDS - elapsed)
        shots.append(
            Shot(
                length,
                _PALETTE[(len(shots) + rng.randrange(len(_PALETTE))) % len(_PALETTE)],
                text=overlay if not shots else None,
                drift_pixels_per_second=rng.choice((0.0, 40.0)),
            )
        )
        elapsed += length
    sound = Sound(_SECONDS, rng.choice((220.0, 330.0, 440.0)), 0.1 if original else 0.4)
    return render_video(shots, [sound], width=144, height=256, fps=15)


def _overlay(caption: str) -> str | None:
    """The first words of the caption's call to action, in ASCII (OpenCV's fonts have no other)."""
    action = next((action for action in CALLS_TO_ACTION if action in caption), None)
    if action is None:
        return None
    words = action.encode("ascii", "ignore").decode().split()[:_OVERLAY_WORDS]
    return " ".join(words)
