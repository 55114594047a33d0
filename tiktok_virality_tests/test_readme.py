"""The README is the user's manual: it must document every column the tables have."""

from pathlib import Path

import pytest

from tiktok_virality.tables import ASSET_TABLES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("contract", ASSET_TABLES, ids=lambda contract: contract.name)
def test_every_column_is_documented_with_its_type_and_meaning(contract) -> None:
    section = README.split(f"#### `{contract.name}`")[1].split("####")[0]
    for column in contract.columns:
        assert f"| `{column.name}` | {column.sql_type} | {column.description} |" in section
