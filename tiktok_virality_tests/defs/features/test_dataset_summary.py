import pandas as pd

from tiktok_virality.defs.features.summary import dataset_summary


def test_the_summary_counts_the_dataset_and_ranks_accounts_by_median_views() -> None:
    features = pd.DataFrame(
        {
            "batch": ["b001", "b001", "b001", "b002"],
            "account": ["small", "small", "small", "big"],
            "views": pd.array([100, 300, 200, 5_000], dtype="Int64"),
            "engagement_rate": pd.array([0.1, None, 0.3, 0.05], dtype="Float64"),
        }
    )

    summary = dataset_summary(features)

    assert {key: summary[key] for key in summary if key != "dataset_accounts_summary"} == {
        "dataset_videos": 4,
        "dataset_accounts": 2,
        "dataset_batches": 2,
        "dataset_median_views": 250.0,
        "dataset_median_engagement_rate": 0.1,
    }
    table = summary["dataset_accounts_summary"].value.splitlines()
    assert table[0] == ("| account | videos | median_views | max_views | median_engagement_rate |")
    assert table[2:] == [
        "| big | 1 | 5000 | 5000 | 0.05 |",
        "| small | 3 | 200 | 300 | 0.2 |",
    ]


def test_a_dataset_without_engagement_has_no_median_rather_than_nan() -> None:
    features = pd.DataFrame(
        {
            "batch": ["b001"],
            "account": ["a"],
            "views": pd.array([0], dtype="Int64"),
            "engagement_rate": pd.array([None], dtype="Float64"),
        }
    )

    assert dataset_summary(features)["dataset_median_engagement_rate"] is None
