"""The measured signals join the features by video, null where a video has none, and reach the
model as candidates, never as leaks."""

import pandas as pd

from tiktok_virality.defs.features.signals import SIGNAL_FEATURES, signal_features
from tiktok_virality.defs.model.selection import CANDIDATE_FEATURES, LEAKING_COLUMNS, NOT_FEATURES
from tiktok_virality.warehouse.tables import VIDEO_FEATURES

VIDEOS = pd.DataFrame({"dataset": "v1", "batch": "b001", "video_id": ["1", "2", "3"]})


def test_each_video_gets_its_own_signals_and_nulls_without() -> None:
    signals = pd.DataFrame(
        {
            "dataset": "v1",
            "batch": "b001",
            "video_id": ["3", "1"],
            **{name: [None, None] for name in SIGNAL_FEATURES},
        }
    ).assign(cuts_per_10s=[4.0, 1.5], text_in_first_2s=[True, False])

    joined = signal_features(VIDEOS, signals)

    assert joined["cuts_per_10s"].tolist()[::2] == [1.5, 4.0]
    assert pd.isna(joined["cuts_per_10s"].iloc[1])
    assert joined["text_in_first_2s"].tolist()[::2] == [False, True]
    assert all(signal_features(VIDEOS, None)[name].isna().all() for name in SIGNAL_FEATURES)


def test_every_signal_is_a_feature_column_and_a_candidate_that_does_not_leak() -> None:
    for name in SIGNAL_FEATURES:
        assert name in VIDEO_FEATURES.column_names
        assert name in CANDIDATE_FEATURES
        assert name not in LEAKING_COLUMNS and name not in NOT_FEATURES
