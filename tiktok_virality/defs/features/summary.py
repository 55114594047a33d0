"""A dataset at a glance, shown with each stored partition of its features in the Dagster UI: how
many videos and accounts it holds so far, their typical reach and engagement, and a line per
account."""

from typing import Any

import dagster as dg
import pandas as pd

from tiktok_virality.core.markdown import markdown_table

SUMMARY_COLUMNS = ("batch", "account", "views", "engagement_rate")
ACCOUNTS_SHOWN = 20


def dataset_summary(features: pd.DataFrame) -> dict[str, Any]:
    """Metadata describing all of a dataset's feature rows (`SUMMARY_COLUMNS` at least); the
    markdown table lists the accounts by median views, most viewed first."""
    numbers = features.astype({"views": "Float64", "engagement_rate": "Float64"})
    by_account = (
        numbers.groupby("account", sort=False)
        .agg(
            videos=("views", "size"),
            median_views=("views", "median"),
            max_views=("views", "max"),
            median_engagement_rate=("engagement_rate", "median"),
        )
        .reset_index()
        .sort_values(["median_views", "account"], ascending=[False, True])
    )
    by_account["median_engagement_rate"] = by_account["median_engagement_rate"].round(4)
    return {
        "dataset_videos": len(features),
        "dataset_accounts": int(features["account"].nunique()),
        "dataset_batches": int(features["batch"].nunique()),
        "dataset_median_views": _number(numbers["views"].median()),
        "dataset_median_engagement_rate": _number(numbers["engagement_rate"].median(), 4),
        "dataset_accounts_summary": dg.MetadataValue.md(
            markdown_table(by_account, list(by_account.columns), limit=ACCOUNTS_SHOWN)
        ),
    }


def _number(value: object, digits: int = 1) -> float | None:
    return None if pd.isna(value) else round(float(value), digits)
