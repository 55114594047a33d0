"""The signals measured on videos made here with PyAV: cuts where the colour changes, a face in the
astronaut and none in a blank frame, text where it is drawn, loudness as BS.1770 says, and a
damaged file recorded rather than raised."""

import math
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest
from skimage import data

from tiktok_virality.defs.signals.decode import Sampling, VideoFrame, decode
from tiktok_virality.defs.signals.measure import SIGNAL_NAMES, measure_video
from tiktok_virality.defs.signals.pacing import CutFinder
from tiktok_virality.defs.signals.reasons import NO_MEDIA
from tiktok_virality.defs.signals.synthetic import AUDIO_RATE, Shot, Sound, render_video
from tiktok_virality.warehouse.tables import SIGNAL_COLUMNS

FPS = 30
ONE_FRAME = 1 / FPS
# Colours far apart in lightness as well as hue, as filmed shots are.
RED, GREEN, BLUE, CREAM = (200, 20, 20), (40, 220, 90), (10, 20, 90), (250, 240, 210)


def write(tmp_path: Path, name: str, video: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(video)
    return path


def test_cuts_are_found_within_one_frame_of_where_the_colour_changes(tmp_path: Path) -> None:
    lengths = [1.0, 0.6, 1.4, 0.8]
    shots = [
        Shot(seconds, colour)
        for seconds, colour in zip(lengths, [RED, GREEN, BLUE, CREAM], strict=True)
    ]
    path = write(tmp_path, "cuts.mp4", render_video(shots, fps=FPS))
    finder = CutFinder(FPS)
    with av.open(str(path)) as container:
        for item in decode(container, Sampling()):
            assert isinstance(item, VideoFrame)  # no sound in this file
            finder.add(item.index, item.seconds, item.thumbnail_bgr)

    assert finder.cut_seconds == pytest.approx([1.0, 1.6, 3.0], abs=ONE_FRAME + 1e-9)
    row = measure_video(path)
    assert row["first_cut_seconds"] == pytest.approx(1.0, abs=ONE_FRAME)
    assert row["cuts_per_10s"] == pytest.approx(3 * 10 / 3.8, rel=0.02)
    assert row["mean_shot_seconds"] == pytest.approx(3.8 / 4, rel=0.02)
    assert row["media_seconds"] == pytest.approx(3.8, abs=ONE_FRAME)


def test_a_single_shot_has_no_cut_and_its_first_cut_is_its_end(tmp_path: Path) -> None:
    row = measure_video(write(tmp_path, "still.mp4", render_video([Shot(2.0, RED)])))

    assert row["cuts_per_10s"] == 0.0
    assert row["first_cut_seconds"] == pytest.approx(2.0, abs=ONE_FRAME)
    assert row["motion_energy"] == pytest.approx(0.0, abs=0.005)


def test_a_face_is_found_in_the_astronaut_and_none_in_a_blank_frame(tmp_path: Path) -> None:
    astronaut = Shot(1.0, BLUE, picture=data.astronaut())
    size = {"width": 360, "height": 640}
    face = measure_video(write(tmp_path, "face.mp4", render_video([astronaut], **size)))
    blank = measure_video(write(tmp_path, "blank.mp4", render_video([Shot(1.0, BLUE)], **size)))

    assert face["face_frame_share"] == 1.0
    # The astronaut's face box is about a tenth of the square picture, a third of the frame.
    assert 0.01 < face["face_area_share"] < 0.1
    assert blank["face_frame_share"] == 0.0
    assert blank["face_area_share"] == 0.0


def test_drawn_text_is_found_and_none_where_there_is_none(tmp_path: Path) -> None:
    shots = [Shot(2.0, BLUE, text="Wait for it"), Shot(3.0, CREAM)]
    row = measure_video(write(tmp_path, "text.mp4", render_video(shots)))
    plain = measure_video(write(tmp_path, "plain.mp4", render_video([Shot(3.0, BLUE)])))

    # Checked at 0 s and 1 s (the opening, once a second), then at 2 s: text at 0 s and 1 s.
    assert row["text_in_first_2s"] is True
    assert row["text_frame_share"] == pytest.approx(2 / 3)
    assert plain["text_in_first_2s"] is False
    assert plain["text_frame_share"] == 0.0


@pytest.mark.parametrize("peak", [0.5, 0.1])
def test_a_tone_measures_the_loudness_bs1770_gives_it(tmp_path: Path, peak: float) -> None:
    path = write(tmp_path, "tone.mp4", render_video([Shot(3.0, RED)], [Sound(3.0, 1000.0, peak)]))
    row = measure_video(path)

    # BS.1770: a 1 kHz sine at full scale is −3.01 LUFS; the level follows its amplitude.
    assert row["loudness_lufs"] == pytest.approx(20 * math.log10(peak) - 3.01, abs=1.0)
    assert row["silence_share"] == pytest.approx(0.0, abs=0.03)
    assert row["speech_likeness"] < 0.1  # a steady tone is nothing like speech
    assert row["signals_note"] is None


def test_silence_is_measured_as_such(tmp_path: Path) -> None:
    sounds = [Sound(1.0, 1000.0, 0.5), Sound(1.0), Sound(1.0, 1000.0, 0.5), Sound(1.0)]
    row = measure_video(write(tmp_path, "gaps.mp4", render_video([Shot(4.0, RED)], sounds)))

    assert row["silence_share"] == pytest.approx(0.5, abs=0.05)
    # Gating leaves the silences out, but the 400 ms blocks across each edge count: as BS.1770
    # measures the samples before encoding.
    times = np.arange(AUDIO_RATE) / AUDIO_RATE
    tone, gap = 0.5 * np.sin(2 * np.pi * 1000.0 * times), np.zeros(AUDIO_RATE)
    source = np.concatenate([tone, gap, tone, gap])
    expected = pyloudnorm.Meter(AUDIO_RATE).integrated_loudness(source)
    assert row["loudness_lufs"] == pytest.approx(expected, abs=1.0)


def test_a_video_without_sound_has_null_sound_signals_and_says_why(tmp_path: Path) -> None:
    row = measure_video(write(tmp_path, "mute.mp4", render_video([Shot(1.0, RED)])))

    assert row["signals_note"] == "no audio stream"
    assert row["loudness_lufs"] is None and row["onset_rate"] is None
    assert row["brightness"] is not None


def test_a_corrupt_file_is_recorded_and_skipped(tmp_path: Path) -> None:
    corrupt = measure_video(write(tmp_path, "corrupt.mp4", b"not a video at all" * 100))
    whole = render_video([Shot(2.0, RED)], [Sound(2.0, 440.0, 0.3)])
    truncated = measure_video(write(tmp_path, "truncated.mp4", whole[: len(whole) // 2]))

    for row in (corrupt, truncated):
        assert row["signals_note"].startswith("unreadable media file: ")
        assert all(row[name] is None for name in SIGNAL_NAMES)


def test_no_file_gives_a_row_of_nulls_that_says_so() -> None:
    row = measure_video(None)

    assert row["signals_note"] == NO_MEDIA
    assert all(row[name] is None for name in SIGNAL_NAMES)


def test_the_signals_are_the_columns_of_the_table() -> None:
    assert SIGNAL_NAMES == SIGNAL_COLUMNS
