import numpy as np
import pandas as pd
import pytest

from tiktok_virality.core.markdown import markdown_table, readable


def test_cells_are_one_line_escaped_cut_and_blank_when_missing() -> None:
    frame = pd.DataFrame(
        {
            "caption": ["a | b\nsecond line", "x" * 60, None],
            "tags": [["fyp", "tech"], np.array(["min_views"]), []],
            "views": [10, pd.NA, float("nan")],
        }
    )

    table = markdown_table(frame, ["caption", "tags", "views"]).splitlines()

    assert table[0] == "| caption | tags | views |"
    assert table[2] == "| a \\| b second line | fyp, tech | 10 |"
    assert table[3] == f"| {'x' * 39}… | min_views |  |"
    assert table[4] == "|  |  |  |"


def test_long_frames_are_cut_with_a_count_and_empty_ones_say_so() -> None:
    frame = pd.DataFrame({"video_id": [str(n) for n in range(12)]})

    assert markdown_table(frame, ["video_id"], limit=3).endswith("3 of 12 rows")
    assert markdown_table(frame.iloc[0:0], ["video_id"]) == "_no rows_"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.8108108108108109, 0.811),
        (0.000412345, 0.000412),
        (-0.0123456, -0.0123),
        (12345.6789, 12345.679),
        (2.5, 2.5),
        (0.0, 0.0),
    ],
)
def test_numbers_lose_their_float_noise_but_keep_three_significant_digits(
    value: float, shown: float
) -> None:
    assert readable(value) == shown


def test_float_cells_are_readable_and_never_in_exponent_notation() -> None:
    frame = pd.DataFrame(
        {"score": [0.8108108108108109, 5000.0, 1e-9], "share": pd.array([0.25, None, 1], "Float64")}
    )

    table = markdown_table(frame, ["score", "share"]).splitlines()

    assert table[2:] == ["| 0.811 | 0.25 |", "| 5000 |  |", "| 0.000000001 | 1 |"]
