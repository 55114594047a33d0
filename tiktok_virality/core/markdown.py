"""Small markdown tables and readable numbers, for the metadata of stored partitions in the
Dagster UI (previews, summaries, model scores)."""

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

CELL_WIDTH = 40
SIGNIFICANT_DIGITS = 3


def readable(value: float) -> float:
    """`value` without float noise, for people to read: at most 3 decimals, but 3 significant
    digits of a small fraction (0.8108108108108109 → 0.811, 0.000412345 → 0.000412,
    12345.6789 → 12345.679). The UI shows floats in full, and 16 digits say nothing more."""
    if not math.isfinite(value) or value == 0:
        return float(value)
    leading_zeros = -math.floor(math.log10(abs(value))) - 1
    return round(float(value), max(SIGNIFICANT_DIGITS, SIGNIFICANT_DIGITS + leading_zeros))


def _cell(value: object) -> str:
    if pd.api.types.is_list_like(value):
        value = ", ".join(map(str, value))
    elif value is None or pd.isna(value):
        return ""
    elif isinstance(value, float | np.floating):
        value = np.format_float_positional(readable(float(value)), trim="-")
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
