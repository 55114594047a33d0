"""The benchmarks' own arithmetic, which their figures rest on: the default suite checks it, the
smoke run (`test_bench_smoke.py`) checks that every benchmark runs."""

import pytest

from bench.core import max_in_window
from bench.parallel_runs import covered_seconds


@pytest.mark.parametrize(
    ("spans", "covered"),
    [
        ([], 0.0),
        ([(0.0, 2.0)], 2.0),
        ([(0.0, 2.0), (1.0, 3.0)], 3.0),  # overlapping: counted once
        ([(5.0, 6.0), (0.0, 1.0)], 2.0),  # apart, in any order
        ([(0.0, 10.0), (2.0, 3.0), (4.0, 12.0)], 12.0),  # one inside another
    ],
)
def test_covered_seconds_is_the_length_of_the_union_of_the_spans(
    spans: list[tuple[float, float]], covered: float
) -> None:
    assert covered_seconds(spans) == covered


def test_max_in_window_counts_a_half_open_window() -> None:
    # 0, 30 and 59.9 fall in [0, 60); 60 starts a window of its own with 30 and 59.9.
    assert max_in_window([0.0, 30.0, 59.9, 60.0], 60.0) == 3
    assert max_in_window([], 60.0) == 0
