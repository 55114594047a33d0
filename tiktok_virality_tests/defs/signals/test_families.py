"""The signal families' pure functions on known inputs: the pacing arithmetic, the colourfulness
of grey and of colour, onsets of a click train, and the speech-versus-music heuristic."""

import numpy as np
import pytest

from tiktok_virality.defs.signals.pacing import pacing_signals
from tiktok_virality.defs.signals.people import people_signals
from tiktok_virality.defs.signals.picture import colourfulness
from tiktok_virality.defs.signals.sound import onset_seconds, sound_signals, speech_likeness

RATE = 22_050


def test_pacing_counts_cuts_per_ten_seconds_and_shots() -> None:
    pacing = pacing_signals([2.0, 5.0, 7.5], 20.0)

    assert (pacing.cuts_per_10s, pacing.mean_shot_seconds, pacing.first_cut_seconds) == (
        1.5,
        5.0,
        2.0,
    )
    assert pacing_signals([], 0.0).cuts_per_10s is None


def test_face_shares_average_over_the_frames_with_a_face() -> None:
    people = people_signals([0.0, 0.2, 0.1, 0.0])

    assert people.face_frame_share == 0.5
    assert people.face_area_share == pytest.approx(0.15)
    assert people_signals([]).face_frame_share is None


def test_grey_has_no_colourfulness_and_saturated_colour_much() -> None:
    grey = np.full((10, 10, 3), 128, np.uint8)
    halves = np.zeros((10, 10, 3), np.uint8)
    halves[:5] = (255, 0, 0)
    halves[5:] = (0, 0, 255)

    assert colourfulness(grey) == 0.0
    # Hasler–Süsstrunk call M ≥ 82 "extremely colourful".
    assert colourfulness(halves) > 82


def test_onsets_of_a_click_train_are_found_at_its_rate() -> None:
    signal = np.zeros(4 * RATE)
    clicks = np.arange(0.25, 4.0, 0.25)  # 4 a second
    for start in clicks:
        first = int(start * RATE)
        signal[first : first + 200] = np.hanning(200)

    found = onset_seconds(signal, RATE)

    assert len(found) == len(clicks)
    # Within one analysis window (46 ms): where in it the click falls is not resolved.
    assert found == pytest.approx(list(clicks), abs=0.05)


def test_syllable_like_bursts_are_more_speech_like_than_a_steady_tone() -> None:
    times = np.arange(4 * RATE) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * times)
    # 4 bursts a second with pauses between them, as syllables come.
    syllables = tone * (np.sin(2 * np.pi * 4 * times) > 0.3)

    assert speech_likeness(tone[np.newaxis], RATE) < 0.05
    assert speech_likeness(syllables[np.newaxis], RATE) > 0.3
    assert speech_likeness(np.zeros((1, RATE)), RATE) is None


def test_sound_shorter_than_a_gating_block_is_not_measured() -> None:
    assert sound_signals(np.zeros((1, RATE // 4), np.float32), RATE).loudness_lufs is None
    assert sound_signals(np.zeros((2, RATE), np.float32), RATE).loudness_lufs == -70.0
