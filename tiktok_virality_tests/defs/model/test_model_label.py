from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tiktok_virality.defs.model import ModelParameters, median_of_other_videos, virality_targets
from tiktok_virality.defs.model.label import dataset_targets


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


def peer_videos(followers: bool = True) -> pd.DataFrame:
    """20 authors of one video each whose views follow ln(1 + views) = ln 10 + 0.5 ln(1 +
    followers) + ln(1 + age) (up to rounding), and one account of three videos."""
    rng = np.random.default_rng(0)
    fans = rng.integers(1_000, 1_000_000, 20)
    age = rng.uniform(1, 100, 20)
    views = np.round(np.expm1(np.log(10) + 0.5 * np.log1p(fans) + np.log1p(age))).astype(int)
    singles = pd.DataFrame(
        {
            "dataset": "v1",
            "account": [f"author{i}" for i in range(20)],
            "views": views,
            "followers": fans if followers else pd.NA,
            "age_days": age,
        }
    )
    regular = pd.DataFrame(
        {
            "dataset": "v1",
            "account": "regular",
            "views": [786, 786, 786],  # on the line too: ln(787) ≈ ln 10 + 0.5 ln 51 + ln 11
            "followers": 50 if followers else pd.NA,
            "age_days": 10.0,
        }
    )
    return pd.concat([singles, regular], ignore_index=True).astype(
        {"views": "Int64", "followers": "Int64"}
    )


def test_every_video_gets_a_label_and_small_accounts_are_compared_with_their_peers() -> None:
    frame = peer_videos()

    targets = dataset_targets(frame, ModelParameters())

    assert targets["viral"].notna().all()
    assert targets["label_basis"].tolist() == ["followers_and_age"] * 20 + ["account_median"] * 3
    # The views follow the line, so each is expected at its own views: none is viral.
    assert targets["expected_views"][:20].tolist() == pytest.approx(
        frame["views"][:20].tolist(), rel=1e-3
    )
    assert not targets["viral"].any()
    # The account of three videos keeps its own median.
    assert targets["expected_views"][20:].tolist() == [786.0] * 3


def test_a_breakout_is_viral_against_what_an_account_of_its_size_gets() -> None:
    frame = peer_videos()
    frame.loc[0, "views"] = 20 * frame.loc[0, "views"]

    targets = dataset_targets(frame, ModelParameters())

    assert targets.loc[0, "viral"]
    assert targets.loc[0, "viral_threshold_views"] == pytest.approx(
        3 * targets.loc[0, "expected_views"]
    )
    assert targets["viral"][1:20].sum() == 0


def test_without_follower_counts_a_video_is_compared_with_videos_of_its_age() -> None:
    targets = dataset_targets(peer_videos(followers=False), ModelParameters())

    assert targets["label_basis"].tolist() == ["age"] * 20 + ["account_median"] * 3
    assert targets["viral"].notna().all()


def test_cross_fitted_expectations_never_use_the_videos_own_fold() -> None:
    frame = peer_videos()
    folds = np.arange(len(frame)) % 2
    changed = frame.copy()
    changed.loc[0, "views"] = 1_000 * frame.loc[0, "views"]

    before = dataset_targets(frame, ModelParameters(), folds=folds)
    after = dataset_targets(changed, ModelParameters(), folds=folds)

    # Video 0 is in fold 0: its own views never move its expectation, only the other fold's.
    assert after.loc[0, "expected_views"] == pytest.approx(before.loc[0, "expected_views"])
    odd = folds == 1
    assert not np.allclose(after["expected_views"][odd][:10], before["expected_views"][odd][:10])


def test_too_few_videos_for_a_line_leave_small_accounts_unlabelled() -> None:
    frame = peer_videos().iloc[15:].reset_index(drop=True)  # 5 single authors and 3 regulars

    targets = dataset_targets(frame, ModelParameters())

    assert targets["label_basis"].isna().sum() == 5
    assert targets["viral"].notna().sum() == 3
