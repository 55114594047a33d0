from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tiktok_virality.defs.model import ModelParameters, median_of_other_videos, virality_targets


def videos(views_by_account: dict[str, list[int | None]], dataset: str = "v1") -> pd.DataFrame:
    rows = [
        {"dataset": dataset, "account": account, "views": views}
        for account, account_views in views_by_account.items()
        for views in account_views
    ]
    return pd.DataFrame(rows).astype({"views": "Int64"})


def labels(frame: pd.DataFrame, **parameters: float) -> list[bool | None]:
    viral = virality_targets(frame, ModelParameters(**parameters))["viral"]
    return [None if pd.isna(value) else bool(value) for value in viral]


def test_viral_from_k_times_the_account_median_on() -> None:
    frame = videos({"a": [100, 100, 100, 299, 300]})

    assert labels(frame) == [False, False, False, False, True]
    assert labels(frame, viral_multiple=2.99) == [False, False, False, True, True]
    assert virality_targets(frame)["viral_threshold_views"].tolist() == [300.0] * 5


def test_the_label_is_relative_to_each_account_not_to_size() -> None:
    frame = videos(
        {"big": [1_000_000, 1_200_000, 900_000, 1_100_000], "small": [900, 1_000, 5_000]}
    )

    # The big account's videos have 1,000 times the views, and none is viral; the small
    # account's breakout is.
    assert labels(frame) == [False, False, False, False, False, False, True]


def test_the_median_includes_the_video_itself() -> None:
    frame = videos({"a": [1, 2, 3, 100]})

    targets = virality_targets(frame)

    # Median of all four: 2.5, so 7.5 is the bar; without the video itself the median is 2.
    assert targets["viral_threshold_views"].tolist() == [7.5] * 4
    assert median_of_other_videos(frame, "views", ["dataset", "account"])[3] == 2.0
    assert labels(frame) == [False, False, False, True]


def test_accounts_with_too_few_videos_or_a_zero_median_get_no_label() -> None:
    frame = videos({"pair": [10, 100], "zeros": [0, 0, 0, 5], "ok": [10, 10, 40]})

    assert labels(frame) == [None, None, None, None, None, None, False, False, True]
    # With two videos, k × their median is out of reach for k ≥ 2.
    assert labels(frame, min_account_videos=2)[:2] == [False, False]
    assert labels(frame, min_account_videos=2, viral_multiple=1.5)[:2] == [False, True]


def test_unknown_views_have_no_label_and_do_not_count_for_the_account() -> None:
    frame = videos({"a": [10, None, 10, 40]})

    targets = virality_targets(frame)

    assert labels(frame) == [False, None, False, True]
    assert targets["viral_threshold_views"].tolist()[0] == 30.0
    assert targets["log_views"].isna().tolist() == [False, True, False, False]


def test_log_views_and_views_relative_to_the_account() -> None:
    frame = videos({"a": [0, 99, 999, 999, 9_999]})

    targets = virality_targets(frame)

    assert targets["log_views"].tolist() == pytest.approx(
        [0.0, math.log(100), math.log(1_000), math.log(1_000), math.log(10_000)]
    )
    assert targets["relative_log_views"].tolist() == pytest.approx(
        [-math.log(1_000), math.log(0.1), 0.0, 0.0, math.log(10)]
    )
    assert targets.dtypes.astype(str).to_dict() == {
        "log_views": "Float64",
        "relative_log_views": "Float64",
        "viral_threshold_views": "Float64",
        "viral": "boolean",
    }


def test_the_same_account_name_in_two_datasets_is_two_accounts() -> None:
    frame = pd.concat([videos({"a": [10, 10, 40]}, "v1"), videos({"a": [100, 100, 100]}, "v2")])

    assert labels(frame) == [False, False, True, False, False, False]


def test_targets_per_batch_equal_targets_of_the_whole_dataset() -> None:
    # The batch plan pins every account to one batch, so a partition can store its labels.
    rng = np.random.default_rng(3)
    frame = videos({f"account{index}": list(rng.integers(0, 5_000, 6)) for index in range(6)})
    frame["batch"] = np.where(frame["account"] < "account3", "b001", "b002")

    per_batch = pd.concat(
        [virality_targets(batch) for _, batch in frame.groupby("batch", sort=False)]
    )

    pd.testing.assert_frame_equal(per_batch.sort_index(), virality_targets(frame))


def test_median_of_other_videos_matches_the_definition() -> None:
    rng = np.random.default_rng(5)
    views = rng.integers(0, 6, 200).astype(float)
    views[rng.random(200) < 0.15] = np.nan
    accounts = rng.choice(list("abcdefg"), 200)
    accounts[0] = "solo"  # an account of one video
    frame = pd.DataFrame({"dataset": "v1", "account": accounts, "views": views}).astype(
        {"views": "Float64"}
    )

    expected = [
        np.nanmedian(others) if np.isfinite(others).any() else np.nan
        for others in (
            frame["views"].to_numpy(float, na_value=np.nan)[
                (frame["account"] == account).to_numpy() & (np.arange(200) != position)
            ]
            for position, account in enumerate(frame["account"])
        )
    ]

    actual = median_of_other_videos(frame, "views", ["dataset", "account"])

    assert actual.dtype == "Float64"
    np.testing.assert_allclose(actual.to_numpy(float, na_value=np.nan), expected)


def test_median_of_other_videos_without_other_videos_is_null() -> None:
    frame = videos({"one": [5], "two": [5, None], "none": [None, None]})

    assert median_of_other_videos(frame, "views", ["dataset", "account"]).isna().tolist() == [
        True,
        True,
        False,
        True,
        True,
    ]
    assert median_of_other_videos(frame.iloc[:0], "views", ["account"]).empty


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("viral_multiple", 1.0, "viral_multiple must be > 1"),
        ("viral_multiple", float("nan"), "viral_multiple must be > 1"),
        ("min_account_videos", 1, "min_account_videos must be ≥ 2"),
        ("folds", 2.5, "folds must be a whole number"),
        ("folds", True, "folds must be a number"),
        ("near_constant_share", 1.5, "near_constant_share must be > 0.5 and ≤ 1"),
        ("trend_window_days", 0, "trend_window_days must be > 0"),
        ("trend_growth", 1, "trend_growth must be > 1"),
        ("learning_rate", "0.1", "learning_rate must be a number"),
    ],
)
def test_invalid_parameters_are_refused(name: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelParameters(**{name: value})


def test_parameters_are_plain_numbers_for_storage() -> None:
    parameters = ModelParameters(viral_multiple=np.float64(2.5), folds=np.int64(4))

    stored = parameters.as_dict()

    assert stored["viral_multiple"] == 2.5 and type(stored["viral_multiple"]) is float
    assert stored["folds"] == 4 and type(stored["folds"]) is int
    assert stored["min_account_videos"] == 3 and ModelParameters().viral_multiple == 3.0
