"""Small markdown tables, for previews of stored partitions in the Dagster UI."""

from collections.abc import Sequence

import pandas as pd

CELL_WIDTH = 40


def _cell(value: object) -> str:
    if pd.api.types.is_list_like(value):
        value = ", ".join(map(str, value))
    elif value is None or pd.isna(value):
        return ""
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def markdown_table(frame: pd.DataFrame, columns: Sequence[str], *, limit: int = 5) -> str:
    """The first `limit` rows of `frame`'s `columns`, each cell on one line and cut to a width."""
    if frame.empty:
        return "_no rows_"
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *(
            "| " + " | ".join(_cell(row[column]) for column in columns) + " |"
            for row in frame.head(limit).to_dict("records")
        ),
    ]
    if len(frame) > limit:
        lines.append(f"\n{limit} of {len(frame)} rows")
    return "\n".join(lines)
