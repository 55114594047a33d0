"""Sound: how loud, how much silence, how busy, and whether it sounds like speech or music.

All from the decoded samples (`decode.AUDIO_RATE`, channels kept), with pyloudnorm for loudness
and plain NumPy for the rest (librosa would bring numba and LLVM for two short computations).

Signals:
- `loudness_lufs` (LUFS): integrated loudness per ITU-R BS.1770-4 (K-weighted, gated; pyloudnorm,
  https://github.com/csteinmetz1/pyloudnorm). A 1 kHz sine at full scale is −3 LUFS; TikTok
  normalises playback around −14. Floored at −70 LUFS, BS.1770's absolute gate, below which
  nothing counts: a silent track reads −70.
- `silence_share` (0–1): the share of 50 ms frames whose RMS level is below −50 dBFS.
- `onset_rate` (onsets per second): note and syllable starts, as peaks of the spectral flux (the
  summed rise of log-magnitude spectra, 46 ms windows every 23 ms), picked as librosa's
  `onset_detect` does: a local maximum over ±70 ms that exceeds the mean of ±230 ms by 0.07 of
  the strongest flux, at least 70 ms after the previous onset.
- `speech_likeness` (0–1): the share of 25 ms frames quieter than half the mean level of the
  second around them, over the non-silent seconds: Scheirer & Slaney's "percentage of low-energy
  frames" ("Construction and evaluation of a robust multifeature speech/music discriminator",
  ICASSP 1997). Speech alternates syllables with short pauses and scores high (≈0.3–0.6);
  music and steady tones sustain their level and score low (≈0–0.15). A heuristic indicator,
  not a classifier: a drum loop can look like speech.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyloudnorm

LOUDNESS_FLOOR_LUFS = -70.0
SILENCE_DBFS = -50.0
_SILENCE_FRAME_SECONDS = 0.05
_LOW_ENERGY_FRAME_SECONDS = 0.025
_ONSET_WINDOW = 1024
_ONSET_HOP = 512
# Peak picking in hops (≈23 ms at 22.05 kHz): ±3 for the local maximum, ±10 for the mean.
_PEAK_HALF_WIDTH = 3
_MEAN_HALF_WIDTH = 10
_PEAK_DELTA = 0.07


@dataclass(frozen=True)
class SoundSignals:
    loudness_lufs: float | None
    silence_share: float | None
    onset_rate: float | None
    speech_likeness: float | None


def sound_signals(samples: np.ndarray, rate: int) -> SoundSignals:
    """The sound signals of `samples` (channels × samples, float in [-1, 1]) at `rate` Hz; all
    null when the sound is shorter than BS.1770's 400 ms gating block."""
    if samples.ndim != 2 or samples.shape[1] < int(0.4 * rate):
        return SoundSignals(None, None, None, None)
    mono = samples.mean(axis=0)
    return SoundSignals(
        loudness_lufs=integrated_loudness(samples, rate),
        silence_share=silence_share(samples, rate),
        onset_rate=len(onset_seconds(mono, rate)) / (mono.size / rate),
        speech_likeness=speech_likeness(samples, rate),
    )


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    loudness = pyloudnorm.Meter(rate).integrated_loudness(samples.T.astype(np.float64))
    return max(LOUDNESS_FLOOR_LUFS, float(loudness))


def silence_share(samples: np.ndarray, rate: int) -> float:
    levels = _frame_rms(samples, round(rate * _SILENCE_FRAME_SECONDS))
    return float(np.mean(_dbfs(levels) < SILENCE_DBFS))


def onset_seconds(mono: np.ndarray, rate: int) -> list[float]:
    """The times of the onsets of a mono signal (see the module docstring)."""
    frames = _frames(mono, _ONSET_WINDOW, _ONSET_HOP) * np.hanning(_ONSET_WINDOW)
    spectra = np.log1p(100.0 * np.abs(np.fft.rfft(frames, axis=1)))
    flux = np.maximum(np.diff(spectra, axis=0), 0.0).sum(axis=1)
    if flux.size == 0 or flux.max() <= 0:
        return []
    flux /= flux.max()
    onsets: list[int] = []
    for hop in range(flux.size):
        around = flux[max(0, hop - _PEAK_HALF_WIDTH) : hop + _PEAK_HALF_WIDTH + 1]
        context = flux[max(0, hop - _MEAN_HALF_WIDTH) : hop + _MEAN_HALF_WIDTH + 1]
        if (
            flux[hop] == around.max()
            and flux[hop] >= context.mean() + _PEAK_DELTA
            and (not onsets or hop - onsets[-1] > _PEAK_HALF_WIDTH)
        ):
            onsets.append(hop)
    # diff() starts at the second frame: flux[i] is the rise into frame i + 1.
    return [(hop + 1) * _ONSET_HOP / rate for hop in onsets]


def speech_likeness(samples: np.ndarray, rate: int) -> float | None:
    """Share of low-energy frames in the non-silent seconds; None when all is silent."""
    levels = _frame_rms(samples, round(rate * _LOW_ENERGY_FRAME_SECONDS))
    per_second = round(1 / _LOW_ENERGY_FRAME_SECONDS)
    kernel = np.ones(per_second) / per_second
    # The mean level of the second centred on each frame (edges: of the frames there are).
    local_mean = np.convolve(levels, kernel, mode="same") / np.convolve(
        np.ones_like(levels), kernel, mode="same"
    )
    audible = _dbfs(local_mean) >= SILENCE_DBFS
    if not audible.any():
        return None
    return float(np.mean(levels[audible] < 0.5 * local_mean[audible]))


def _frame_rms(samples: np.ndarray, frame: int) -> np.ndarray:
    """RMS of consecutive frames of `frame` samples, the channels' energies averaged."""
    usable = samples.shape[1] // frame * frame
    energies = samples[:, :usable].astype(np.float64) ** 2
    return np.sqrt(energies.reshape(samples.shape[0], -1, frame).mean(axis=(0, 2)))


def _frames(mono: np.ndarray, window: int, hop: int) -> np.ndarray:
    if mono.size < window:
        return np.zeros((0, window))
    return np.lib.stride_tricks.sliding_window_view(mono, window)[::hop]


def _dbfs(levels: np.ndarray) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(levels, 1e-10))
