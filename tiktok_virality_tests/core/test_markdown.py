import numpy as np
import pandas as pd

from tiktok_virality.core.markdown import markdown_table


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
