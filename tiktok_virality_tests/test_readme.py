"""The README is the user's manual: it must document every column the tables have."""

from pathlib import Path

import pytest

from tiktok_virality.warehouse.contracts import TableContract
from tiktok_virality.warehouse.tables import ASSET_TABLES, RAW_VIDEOS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
RAW_COLUMNS_REFERENCE = "| *all the columns of `raw_videos`* | | |"


@pytest.mark.parametrize("contract", ASSET_TABLES, ids=lambda contract: contract.name)
def test_every_column_is_documented_with_its_type_and_meaning(contract: TableContract) -> None:
    section = README.split(f"#### `{contract.name}`")[1].split("####")[0]
    columns = contract.columns
    if RAW_COLUMNS_REFERENCE in section:
        columns = tuple(column for column in columns if column not in RAW_VIDEOS.columns)
    for column in columns:
        assert f"| `{column.name}` | {column.sql_type} | {column.description} |" in section
