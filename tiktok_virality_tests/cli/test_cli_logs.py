"""What a user sees and what the logs keep: every line a run prints is in the dataset's log, every
refusal in errors.log with the credentials masked, and Dagster's first-run notice comes before the
CLI's own lines instead of in the middle of them."""

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tiktok_virality.cli.errors import EXIT_OUTPUT_CLOSED
from tiktok_virality.cli.main import EXIT_USAGE, main
from tiktok_virality.warehouse import storage
from tiktok_virality_tests.helpers import APIFY_TOKEN, hold_lock

# Slow: `pytest -m slow` runs it (CI does), the default suite does not (pyproject.toml).
pytestmark = pytest.mark.slow

NOTICE = ("Telemetry:", "Welcome to Dagster!")
CREDENTIALS = ("APIFY_API_TOKEN", "GOOGLE_API_KEY", "GEMINI_API_KEY", "TIKTOK_VIRALITY_DATABASE")


def environment(root: Path) -> dict[str, str]:
    """The CLI's environment as a user's terminal gives it (unbuffered: stdout and stderr
    interleaved as they are written), with its folders in `root`: a Dagster home that is new until
    a command makes it."""
    return {
        **{name: value for name, value in os.environ.items() if name not in CREDENTIALS},
        "TIKTOK_VIRALITY_DATA_DIR": str(root / "data"),
        "DAGSTER_HOME": str(root / "data" / "dagster_home"),
        "TIKTOK_VIRALITY_LOG_DIR": str(root / "logs"),
        "PYTHONUNBUFFERED": "1",
    }


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tiktok_virality.cli", *args],
        cwd=root,
        env=environment(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The output of a first offline run on a new home, and the folder it ran in."""
    root = tmp_path_factory.mktemp("first_run")
    run = cli(root, "run", "--dataset", "demo", "--offline")
    assert run.returncode == 0, run.stdout
    return run.stdout, root


def words(line: str) -> list[str]:
    """A line's words and numbers: the same in the terminal's table and the log's ASCII one."""
    return re.findall(r"[\w.'/:()-]+", line)


def test_dagster_s_first_run_notice_comes_before_the_cli_s_first_line(
    first_run: tuple[str, Path],
) -> None:
    output, _ = first_run
    first_line = output.index("created dataset 'demo'")

    assert all(output.index(text) < first_line for text in NOTICE)
    assert not any(text in output[first_line:] for text in NOTICE)


def test_every_line_a_run_prints_is_in_the_dataset_log(first_run: tuple[str, Path]) -> None:
    output, root = first_run
    printed = output[output.index("created dataset 'demo'") :].splitlines()
    log = (root / "logs" / "pipeline_demo.log").read_text(encoding="utf-8").splitlines()
    # Each log line without its time, level and logger.
    logged = {tuple(words(re.sub(r"^\S+ \S+ \w+ \[[\w.]+\] ", "", line))) for line in log}

    said = [tuple(words(line)) for line in printed if words(line)]
    assert len(said) >= 10  # the plan, each partition, the summary table, the model
    assert [line for line in said if line not in logged] == []


def test_with_telemetry_off_dagster_prints_and_records_nothing(tmp_path: Path) -> None:
    home = tmp_path / "data" / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")

    created = cli(tmp_path, "dataset", "create", "--dataset", "v1", "alpha")

    assert created.returncode == 0, created.stdout
    assert created.stdout.startswith("created dataset 'v1'")
    assert not (home / ".telemetry").exists()
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == ("telemetry:\n  enabled: false\n")


def test_a_run_refused_after_waiting_for_the_lock_leaves_both_lines_in_the_logs(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "create", "--dataset", "v1", "alpha"]) == 0
    # The lock wait's clock runs a minute a reading: the wait gives up at its third.
    readings = iter(range(0, 10_000, 61))
    monkeypatch.setattr(storage, "time", SimpleNamespace(monotonic=lambda: next(readings)))
    holder = hold_lock(data_dir / "tiktok_virality.duckdb")
    try:
        assert main(["run", "--dataset", "v1"]) == EXIT_USAGE
    finally:
        holder.communicate("release\n", timeout=30)

    terminal = capsys.readouterr().err
    assert "waiting for " in terminal and "stayed locked for 120 s" in terminal
    errors = (data_dir.parent / "logs" / "errors.log").read_text(encoding="utf-8")
    pipeline = (data_dir.parent / "logs" / "pipeline_v1.log").read_text(encoding="utf-8")
    for log in (errors, pipeline):
        assert re.search(r"WARNING \[tiktok_virality\.runs\.v1\] waiting for .+ is locked", log)
        assert re.search(r"ERROR \[tiktok_virality\.runs\.v1\] error: .+ stayed locked", log)


def test_a_refused_command_leaves_its_error_in_errors_log_masked(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APIFY_API_TOKEN", APIFY_TOKEN)
    missing = data_dir.parent / APIFY_TOKEN / "export.json"

    assert main(["dataset", "import", "--dataset", "imp", str(missing)]) == EXIT_USAGE

    assert "no such file" in capsys.readouterr().err
    logs = data_dir.parent / "logs"
    [line] = (logs / "errors.log").read_text(encoding="utf-8").splitlines()
    assert line.endswith(
        f"ERROR [tiktok_virality.runs.imp] error: {missing.parent.parent}/***/export.json: no such file"
    )
    assert not (logs / "pipeline_imp.log").exists()  # nothing was done to a dataset 'imp'


def test_output_cut_short_by_its_reader_is_no_failure(tmp_path: Path) -> None:
    assert cli(tmp_path, "dataset", "create", "--dataset", "v1", "alpha").returncode == 0
    show = subprocess.Popen(
        [sys.executable, "-m", "tiktok_virality.cli", "dataset", "show", "--dataset", "v1"],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert show.stdout is not None and show.stderr is not None
    show.stdout.close()  # as `| head` does once it has read enough

    assert (show.stderr.read(), show.wait()) == ("", EXIT_OUTPUT_CLOSED)
    assert not (tmp_path / "logs" / "errors.log").exists()
