"""Only an explicit request creates a dataset: a mistyped name is refused, with the closest names and
the commands that create one, and writes nothing; the bundled sample is made under the quick start's
name by `run --offline`, and under any other name by `dataset create --sample`."""

from pathlib import Path

import pytest

from tiktok_virality.cli.main import EXIT_USAGE, main
from tiktok_virality.defs.datasets.operations import SAMPLE_DATASET
from tiktok_virality_tests.helpers import assert_refused_writing_nothing, query

README = Path(__file__).resolve().parents[2] / "README.md"


def test_a_mistyped_name_is_refused_with_the_closest_dataset_and_writes_nothing(
    existing_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = assert_refused_writing_nothing(
        existing_data,
        [
            ["run", "--dataset", "exisitng", "--offline"],
            ["run", "--dataset", "exisitng"],
            ["status", "--dataset", "exisitng"],
            ["dataset", "show", "--dataset", "exisitng"],
            ["dataset", "delete", "--dataset", "exisitng", "--yes"],
        ],
        capsys,
    )

    for error in errors:
        assert "dataset 'exisitng' does not exist; did you mean 'existing'?" in error
        assert "dataset create --dataset exisitng --accounts FILE" in error
        assert "dataset import --dataset exisitng FILE" in error
        assert "dataset create --sample --dataset exisitng" in error


def test_a_mistyped_name_on_a_new_folder_points_to_the_quick_start_and_creates_nothing(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--dataset", "dmeo", "--offline"]) == EXIT_USAGE

    error = capsys.readouterr().err
    assert "dataset 'dmeo' does not exist; there are no datasets yet." in error
    assert "`tiktok-virality run --dataset demo --offline`" in error
    assert not data_dir.exists()
    # Only the refusal itself is kept, in the error log.
    assert [path.name for path in (tmp_path / "logs").iterdir()] == ["errors.log"]
    assert "dataset 'dmeo' does not exist" in (tmp_path / "logs" / "errors.log").read_text()


def test_a_name_far_from_every_dataset_lists_them(
    existing_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [error] = assert_refused_writing_nothing(
        existing_data, [["run", "--dataset", "zzz", "--offline"]], capsys
    )

    assert "dataset 'zzz' does not exist; the datasets are existing." in error


def test_the_sample_is_made_by_run_only_under_the_quick_start_name_and_with_offline(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The README's quick start runs it under the name `run` creates it with.
    assert f"tiktok-virality run --dataset {SAMPLE_DATASET} --offline" in README.read_text()

    assert main(["run", "--dataset", SAMPLE_DATASET]) == EXIT_USAGE

    assert f"`tiktok-virality run --dataset {SAMPLE_DATASET} --offline` creates it" in (
        capsys.readouterr().err
    )
    assert not data_dir.exists()


def test_dataset_create_sample_makes_the_sample_under_any_name(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "create", "--sample", "--dataset", "trial", "--batch-size", "3"]) == 0

    assert "created dataset 'trial' from the bundled sample: 9 accounts in 3 batches" in (
        capsys.readouterr().out
    )
    assert query(data_dir, "SELECT dataset, origin FROM datasets") == [("trial", "bundled sample")]
    assert query(data_dir, "SELECT count(DISTINCT account) FROM export_items") == [(9,)]

    assert main(["dataset", "create", "--sample", "--dataset", "mixed", "alice"]) == EXIT_USAGE
    assert "give no others" in capsys.readouterr().err
    assert query(data_dir, "SELECT dataset FROM datasets") == [("trial",)]
