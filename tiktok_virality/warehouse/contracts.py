"""What a table contract is: the columns (names, SQL types, meanings) of a DuckDB table the assets
materialize into, shared by the assets (which produce frames with these columns), the IO manager
(which creates and evolves the tables with these types) and the Dagster UI (which shows them as the
asset's column schema). The contracts themselves are in `tables.py` and `model_tables.py`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    description: str


@dataclass(frozen=True)
class TableContract:
    name: str
    description: str
    columns: tuple[Column, ...]
    # What the Dagster UI shows of a stored partition.
    preview_columns: tuple[str, ...] = ("account", "video_id")

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def sql_types(self) -> dict[str, str]:
        return {column.name: column.sql_type for column in self.columns}

    def dagster_schema(self) -> dg.TableSchema:
        return dg.TableSchema(
            columns=[
                dg.TableColumn(name=c.name, type=c.sql_type, description=c.description)
                for c in self.columns
            ]
        )

    def empty_frame(self) -> pd.DataFrame:
        # Imported here: `status` reads the contracts' names and must not wait for pandas.
        import pandas as pd

        return pd.DataFrame({name: pd.Series(dtype="object") for name in self.column_names})


def columns_of(*rows: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)


VIDEO_KEY_COLUMNS = (
    ("dataset", "VARCHAR", "Dataset name (partition dimension)."),
    ("batch", "VARCHAR", "Account batch, e.g. b001 (partition dimension)."),
    ("account", "VARCHAR", "The planned account (TikTok username) the video was scraped for."),
    ("video_id", "VARCHAR", "TikTok video id (19 digits; a string, never a float)."),
)
VIDEO_IDENTITY_COLUMNS = [name for name, _, _ in VIDEO_KEY_COLUMNS]
"""The columns every per-video table starts with: dataset, batch, account, video_id."""
VIDEO_KEY = ["dataset", "batch", "video_id"]
"""What tells the rows of one video apart from all others when tables are joined."""
ACCOUNT_KEY = ["dataset", "account"]
"""What groups an account's videos across its batches (its median views, its label)."""

PANDAS_DTYPES = {
    "BIGINT": "Int64",
    "INTEGER": "Int32",
    "DOUBLE": "Float64",
    "BOOLEAN": "boolean",
    "TIMESTAMPTZ": "datetime64[ns, UTC]",
}
"""The pandas dtype that holds each SQL type with its nulls (NumPy's int64 and bool cannot); the
other types (text, lists, JSON) are left to each frame."""
