"""The benchmarks (`python -m bench`) at their smoke sizes, so that they keep working: every
benchmark runs, its numbers are sane, calls are counted exactly, and the document has every
section. No timing is asserted: the figures themselves are the benchmarks' business."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.core import Section
from bench.machine import describe_machine
from bench.report import RunInfo, render_markdown
from bench.suite import BENCHMARKS, run_suite

# Slow: `pytest -m slow` runs it (CI does), the default suite does not (pyproject.toml).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sections(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Section]:
    run = run_suite(tmp_path_factory.mktemp("bench"), smoke=True)
    return {section.key: section for section in run}


def test_every_benchmark_runs_in_report_order(sections: dict[str, Section]) -> None:
    assert list(sections) == [benchmark.key for benchmark in BENCHMARKS]
    assert all(section.measurement.tables[0].rows for section in sections.values())


def test_analysis_compares_each_variant_with_its_bound_within_the_quota(
    sections: dict[str, Section],
) -> None:
    rows = sections["analysis"].measurement.tables[0].rows

    assert [row.videos for row in rows] == [8] * 6
    # One generateContent per video inline; upload start, chunk, generate and delete via Files.
    assert [row.requests_per_video for row in rows] == [1, 1, 1, 1, 4, 1]
    assert rows[0].max_in_flight == 1
    assert all(0 < row.ratio == pytest.approx(row.videos_per_second / row.bound) for row in rows)
    assert rows[3].bound_by == "quota"
    assert all(row.quota_kept for row in rows)
    assert rows[-1].cache_write_seconds == 0  # the diagnostic variant stores nothing


def test_scraping_makes_one_run_per_batch_or_per_account(sections: dict[str, Section]) -> None:
    per_batch, per_account = sections["scraping"].measurement.tables[0].rows

    assert (per_batch.batches, per_batch.runs) == (2, 2)
    assert (per_account.batches, per_account.runs) == (4, 4)
    assert per_batch.items == per_account.items == 4 * 3


def test_signals_are_measured_on_a_rendered_video_in_a_child_process(
    sections: dict[str, Section],
) -> None:
    (row,) = sections["signals"].measurement.tables[0].rows

    assert (row.resolution, row.seconds) == ("180×320", 3.0)
    assert row.real_time_per_core == pytest.approx(row.seconds / row.cpu_seconds)
    assert row.file_mb > 0


def test_parallel_runs_analyse_every_video_in_both_modes(sections: dict[str, Section]) -> None:
    measurement = sections["parallel_runs"].measurement
    sequential, side_by_side = measurement.tables[0].rows

    assert [sequential.mode, side_by_side.mode] == ["`--parallel 1`", "`--parallel 2`"]
    # The same videos analysed in either mode (those quality control keeps of 20).
    assert sequential.videos == side_by_side.videos > 0
    rows = (sequential, side_by_side)
    assert all(row.share_while_analysing > 0 and 0 < row.analysing_share <= 1 for row in rows)
    # One actor run at a time, or up to two at once: never more than the mode allows.
    assert 0 < sequential.actor_overlap <= 1 and 0 < side_by_side.actor_overlap <= 2
    assert (sequential.overlap_target, side_by_side.overlap_target) == (0.8, 1.6)
    assert all(row.outside_steps_per_step > 0 for row in rows)
    assert len(measurement.verdicts) == 3


def test_features_are_measured_per_size_in_child_processes(sections: dict[str, Section]) -> None:
    rows = sections["features"].measurement.tables[0].rows

    assert [row.videos for row in rows] == [1_000, 2_000, 4_000]
    assert [row.growth is None for row in rows] == [True, False, False]
    assert all(0 < row.inputs_mb <= row.peak_mb for row in rows)
    assert all(row.output_mb > 0 for row in rows)
    assert len(sections["features"].measurement.verdicts) == 3


def test_orchestration_accounts_for_the_whole_wall_time(sections: dict[str, Section]) -> None:
    rows = {row.part: row for row in sections["orchestration"].measurement.tables[0].rows}
    total = rows.pop("total wall time of the CLI run").seconds
    beyond = rows.pop("beyond the steps").seconds
    rows.pop("beyond the steps, without the CLI's start-up and exit")
    steps = next(row.seconds for part, row in rows.items() if part.startswith("steps"))

    assert sum(row.seconds for row in rows.values()) == pytest.approx(total)
    assert beyond == pytest.approx(total - steps)
    assert all(row.seconds >= 0 for row in rows.values())


def test_a_retry_repeats_exactly_the_calls_that_failed(sections: dict[str, Section]) -> None:
    measurement = sections["rerun"].measurement
    runs, generates = measurement.tables[0].rows

    assert (runs.first_run, runs.failed, runs.retry, runs.repeat_failed) == (2, 1, 1, 1)
    assert generates.failed >= 1 and generates.repeat_failed == generates.failed
    assert runs.repeat_succeeded == generates.repeat_succeeded == 0
    # The videos of the batch whose scrape failed are analysed for the first time on the retry.
    assert generates.first_time > 0
    assert [verdict.met for verdict in measurement.verdicts] == [True]


def test_duckdb_tables_grow_with_the_videos(sections: dict[str, Section]) -> None:
    rows = sections["duckdb"].measurement.tables[0].rows

    assert [row.videos for row in rows] == [500, 1_000, 2_000]
    assert all(row.raw_videos_mb > 0 and row.video_analyses_mb > 0 for row in rows)
    assert rows[0].file_mb < rows[-1].file_mb
    assert all(row.hashtags > 0 for row in rows)


def test_cli_latency_times_each_command_as_a_whole_process(sections: dict[str, Section]) -> None:
    measurement = sections["cli"].measurement
    rows = measurement.tables[0].rows

    # Python alone, --help, an argument error, dataset list, dataset show, status.
    assert [row.exit_code for row in rows] == [0, 0, 2, 0, 0, 0]
    assert all(row.runs == 2 and 0 < row.fastest <= row.median <= row.slowest for row in rows)
    assert [row.target for row in rows] == [None, 0.5, 0.5, 1.0, None, None]
    assert len(measurement.verdicts) == 3


def test_the_document_has_every_section_with_its_command(sections: dict[str, Section]) -> None:
    run = RunInfo(
        command="python -m bench --smoke",
        started_at=datetime(2025, 7, 1, tzinfo=UTC),
        seconds=1.0,
        machine=describe_machine(),
        load_average_at_end=(0.0, 0.0, 0.0),
    )

    document = render_markdown(list(sections.values()), run)

    assert document.startswith("# Benchmarks\n")
    for section in sections.values():
        assert f"## {section.title}" in document
        assert f"`{section.command}`" in document
        for verdict in section.measurement.verdicts:
            assert verdict.target in document
    assert "## Machine" in document and "## Targets" in document


def test_the_document_is_written_where_asked(tmp_path: Path) -> None:
    document = tmp_path / "benchmarks.md"

    assert main(["--smoke", "--only", "scraping", "--doc", str(document)]) == 0

    assert "## 2. Scraping" in document.read_text(encoding="utf-8")


def test_exports_runs_the_export_in_batches_by_volume_against_the_demo(
    sections: dict[str, Section],
) -> None:
    rows = sections["exports"].measurement.tables[0].rows

    assert [row.what for row in rows] == ["bundled demo", "60-video export"]
    assert [row.partitions for row in rows] == [2, 1]  # 60 videos: one batch of whole accounts
    assert rows[0].kept == 117 and 0 < rows[1].kept < 60  # some videos older than six months
    assert sections["exports"].measurement.verdicts[0].measured.endswith("×")
