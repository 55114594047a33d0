from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.model import (
    LEAKING_COLUMNS,
    METRICS,
    MODELS,
    PREDICTION_COLUMNS,
    ModelParameters,
    ModelRun,
    train_virality_model,
)
from tiktok_virality.defs.model.assets import model_metadata
from tiktok_virality.defs.model.training import account_folds
from tiktok_virality.warehouse.io_manager import read_partitions, write_partition
from tiktok_virality.warehouse.tables import RAW_VIDEOS, VIDEO_FEATURES
from tiktok_virality_tests.helpers import sample_model_inputs

SCRAPED_AT = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
# The sample's planted drivers that a video's metadata shows (sample.py): a call to action in the
# caption, an original sound, a short video.
PLANTED_DRIVERS = {"ai_has_call_to_action", "original_sound", "duration_seconds"}


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return sample_model_inputs()


@pytest.fixture(scope="module")
def sample_run(sample: tuple[pd.DataFrame, pd.DataFrame]) -> ModelRun:
    return train_virality_model(*sample)


def assert_same_run(actual: ModelRun, expected: ModelRun) -> None:
    assert actual.record() == expected.record()
    for frame in ("metrics", "importance", "predictions", "trends", "dropped_features"):
        pd.testing.assert_frame_equal(getattr(actual, frame), getattr(expected, frame))


def test_on_the_bundled_sample_the_model_beats_both_baselines(sample_run: ModelRun) -> None:
    metrics = sample_run.metrics.set_index("model")

    assert sample_run.evaluated and sample_run.reason is None
    assert (sample_run.counts.videos, sample_run.counts.accounts) == (117, 8)
    assert sample_run.counts.folds == 5
    assert 0 < sample_run.counts.viral_videos < 20
    for metric in ("roc_auc", "pr_auc", "spearman", "spearman_relative"):
        assert metrics.loc["model", metric] > metrics.loc["baseline_followers", metric], metric
        assert metrics.loc["model", metric] > metrics.loc["baseline_account_median", metric]
    assert metrics.loc["model", "roc_auc"] > 0.75


def test_the_planted_drivers_lead_the_feature_importance(sample_run: ModelRun) -> None:
    importance = sample_run.importance

    # caption_length is a proxy of the call to action (the call is an extra line), so the three
    # drivers are asked to be among the top four, not exactly the top three.
    assert set(importance["feature"].head(4)) >= PLANTED_DRIVERS
    assert importance["rank"].tolist() == list(range(1, len(importance) + 1))
    drivers = importance.set_index("feature").loc[sorted(PLANTED_DRIVERS)]
    assert (drivers["spearman_relative_drop"] > 0).all()
    assert (drivers["roc_auc_drop"] > 0).all()


def test_each_video_is_explained_by_its_planted_drivers(
    sample: tuple[pd.DataFrame, pd.DataFrame], sample_run: ModelRun
) -> None:
    features = sample[0].set_index("video_id")
    predictions = sample_run.predictions.set_index("video_id")
    tops = [
        (predictions[f"top_feature_{rank}"], predictions[f"top_effect_{rank}"])
        for rank in (1, 2, 3)
    ]

    def effect_of(feature: str) -> pd.Series:
        """Each video's effect of `feature` when it is among its top three, else NaN."""
        return pd.concat([effects.where(names == feature) for names, effects in tops], axis=1).max(
            axis=1
        )

    for driver in ("original_sound", "ai_has_call_to_action"):
        has_driver = features.loc[predictions.index, driver].astype(bool)
        effect = effect_of(driver)
        # The reference value is the usual one, without the driver: it raises views where present.
        assert effect[has_driver].notna().mean() > 0.7, driver
        assert (effect[has_driver].dropna() > 1).all(), driver
        assert effect[~has_driver].isna().all(), driver
    assert predictions["top_value_1"].notna().all()


def test_predictions_are_one_row_per_labelled_video_out_of_fold(
    sample: tuple[pd.DataFrame, pd.DataFrame], sample_run: ModelRun
) -> None:
    predictions = sample_run.predictions

    assert list(predictions.columns) == list(PREDICTION_COLUMNS)
    assert sorted(predictions["video_id"]) == sorted(sample[0]["video_id"])
    assert predictions["viral_probability"].between(0, 1).all()
    assert predictions["viral"].sum() == sample_run.counts.viral_videos
    np.testing.assert_allclose(
        predictions["views_multiple"].astype(float),
        3 * predictions["views"].astype(float) / predictions["viral_threshold_views"],
    )
    # Probability and predicted multiple rank the videos the same way.
    assert predictions["viral_probability"].rank().equals(predictions["predicted_multiple"].rank())


def test_no_account_is_in_two_folds(sample_run: ModelRun) -> None:
    folds_per_account = sample_run.predictions.groupby("account")["fold"].nunique()

    assert (folds_per_account == 1).all()
    assert sample_run.predictions["fold"].nunique() == 5


def test_account_folds_keep_accounts_whole_and_spread_the_viral_ones() -> None:
    rng = np.random.default_rng(2)
    accounts = pd.Series(rng.choice([f"account{index}" for index in range(40)], 600))
    labels = pd.Series(rng.random(600) < 0.1)

    folds = account_folds(accounts, labels, folds=5, random_state=0)

    assert pd.Series(folds).groupby(accounts).nunique().eq(1).all()
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]
    assert pd.Series(labels.to_numpy()).groupby(folds).sum().min() > 0
    assert account_folds(accounts[:30], labels[:30], folds=50, random_state=0).max() + 1 == len(
        set(accounts[:30])
    )


def test_the_same_rows_in_any_order_give_the_same_run(
    sample: tuple[pd.DataFrame, pd.DataFrame], sample_run: ModelRun
) -> None:
    features, raw_videos = sample
    shuffled = features.sample(frac=1, random_state=1)

    assert_same_run(train_virality_model(features, raw_videos), sample_run)
    assert_same_run(train_virality_model(shuffled, raw_videos.iloc[::-1]), sample_run)


def test_another_random_state_gives_another_run(
    sample: tuple[pd.DataFrame, pd.DataFrame], sample_run: ModelRun
) -> None:
    other = train_virality_model(*sample, ModelParameters(random_state=2))

    assert not other.predictions["fold"].equals(sample_run.predictions["fold"])


def test_leaking_columns_cannot_reach_the_model(
    sample: tuple[pd.DataFrame, pd.DataFrame], sample_run: ModelRun
) -> None:
    features, raw_videos = sample
    rng = np.random.default_rng(0)
    scrambled = features.copy()
    # Every leaking column but the views (the target itself) made of noise — and stored labels
    # made with another k: nothing the model outputs may change.
    for column in set(LEAKING_COLUMNS) & set(features.columns) - {"views"}:
        scrambled[column] = rng.permutation(scrambled[column].to_numpy())
    scrambled["viral"] = rng.random(len(features)) < 0.5
    scrambled["log_views"] = rng.random(len(features))

    run = train_virality_model(scrambled, raw_videos)

    assert not set(run.selected_features) & set(LEAKING_COLUMNS)
    assert not set(run.importance["feature"]) & set(LEAKING_COLUMNS)
    dropped = dict(
        zip(run.dropped_features["feature"], run.dropped_features["reason"], strict=True)
    )
    assert {column for column, reason in dropped.items() if reason.startswith("leaks: ")} == (
        set(LEAKING_COLUMNS) & set(scrambled.columns)
    )
    for frame in ("metrics", "importance", "predictions"):
        pd.testing.assert_frame_equal(getattr(run, frame), getattr(sample_run, frame))


def test_the_run_is_the_same_from_tables_read_back_from_duckdb(
    sample: tuple[pd.DataFrame, pd.DataFrame], sample_run: ModelRun, tmp_path: Path
) -> None:
    database = tmp_path / "model.duckdb"
    partition = VideoPartition("demo", "b001")
    read_back = []
    for contract, frame in zip((VIDEO_FEATURES, RAW_VIDEOS), sample, strict=True):
        write_partition(database, contract.name, contract.sql_types, partition, frame)
        read_back.append(read_partitions(database, contract.name, contract.sql_types, [partition]))

    run = train_virality_model(*read_back)

    pd.testing.assert_frame_equal(run.metrics, sample_run.metrics)
    pd.testing.assert_frame_equal(run.importance, sample_run.importance)
    pd.testing.assert_frame_equal(run.predictions, sample_run.predictions, check_dtype=False)


def test_the_run_record_is_plain_json(sample_run: ModelRun) -> None:
    record = json.loads(json.dumps(sample_run.record()))

    assert record["model_roc_auc"] == sample_run.metric("model", "roc_auc")
    assert {f"{model}_{metric}" for model in MODELS for metric in METRICS} <= set(record)
    assert record["parameters"]["viral_multiple"] == 3.0
    assert record["dropped_features"]["is_pinned"].startswith("leaks: ")
    assert record["labelled_videos"] == 117 and record["folds"] == 5


def test_the_ui_metadata_shows_the_scores_rounded(sample_run: ModelRun) -> None:
    metadata = model_metadata(sample_run)

    assert metadata["model_roc_auc"] == round(sample_run.metric("model", "roc_auc"), 3)
    assert metadata["model_spearman"] == round(sample_run.metric("model", "spearman"), 3)
    assert metadata["early_velocity"] is False  # the sample is one scrape: no first-day views
    tables = metadata["metrics"].value + metadata["top_features"].value
    assert re.findall(r"\d\.\d+", tables) and not re.findall(r"\d\.\d{4,}", tables)


def small_dataset(views_by_account: dict[str, list[int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hand-made `video_features` and `raw_videos` rows: one original-sound video in two."""
    rows = [
        (account, position, views)
        for account, account_views in views_by_account.items()
        for position, views in enumerate(account_views)
    ]
    keys = pd.DataFrame(
        {
            "dataset": "tiny",
            "batch": "b001",
            "account": [account for account, _, _ in rows],
            "video_id": [f"{index:019d}" for index in range(len(rows))],
        }
    )
    features = keys.assign(
        views=pd.array([views for *_, views in rows], dtype="Int64"),
        followers=pd.array([1_000] * len(rows), dtype="Int64"),
        original_sound=pd.array([position % 2 == 1 for _, position, _ in rows], dtype="boolean"),
        duration_seconds=pd.array([10 + position for _, position, _ in rows], dtype="Int32"),
    )
    raw_videos = keys.assign(
        created_at=[SCRAPED_AT - pd.Timedelta(days=position) for _, position, _ in rows],
        hashtags=[["fyp"]] * len(rows),
        music_id="m1",
        music_name="a song",
    )
    return features, raw_videos


@pytest.mark.parametrize(
    ("views_by_account", "reason"),
    [
        ({"solo": [100, 100, 100, 900]}, "1 account(s) with labelled videos"),
        ({"a": [100, 900], "b": [100, 100, 800]}, "1 account(s) with labelled videos"),
        ({"a": [100, 110, 120], "b": [100, 100, 100]}, "no viral video"),
        ({}, "0 account(s) with labelled videos"),
    ],
)
def test_too_little_data_is_not_evaluated(
    views_by_account: dict[str, list[int]], reason: str
) -> None:
    run = train_virality_model(*small_dataset(views_by_account))

    assert not run.evaluated
    assert run.reason is not None and run.reason.startswith(reason)
    assert run.metrics["model"].tolist() == list(MODELS)
    assert run.metrics[list(METRICS)].isna().all().all()
    assert run.predictions.empty and list(run.predictions.columns) == list(PREDICTION_COLUMNS)
    assert run.importance.empty
    assert run.counts.folds == 0
    json.dumps(run.record())


def test_a_dataset_without_usable_features_is_not_evaluated() -> None:
    features, raw_videos = small_dataset({"a": [100, 100, 900], "b": [100, 100, 800]})

    run = train_virality_model(
        features.drop(columns=["original_sound", "duration_seconds"]), raw_videos
    )

    assert run.reason == "no usable feature (see dropped_features)"
    assert "followers" in set(run.dropped_features["feature"])


def test_two_small_accounts_are_evaluated_with_two_folds() -> None:
    run = train_virality_model(*small_dataset({"a": [100, 100, 900, 90], "b": [50, 400, 50, 60]}))

    assert run.evaluated
    assert run.counts.folds == 2
    assert run.counts.viral_videos == 2
    assert len(run.predictions) == 8
    assert run.predictions.groupby("account")["fold"].nunique().eq(1).all()
    assert set(run.importance["feature"]) == {"original_sound", "duration_seconds"}


def test_features_of_two_datasets_are_refused() -> None:
    features, raw_videos = small_dataset({"a": [1, 2, 3]})
    other = features.assign(dataset="other")

    with pytest.raises(ValueError, match="per dataset"):
        train_virality_model(pd.concat([features, other]), raw_videos)
