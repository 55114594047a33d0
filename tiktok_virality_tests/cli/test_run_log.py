import logging
import re
from pathlib import Path

import pytest

from tiktok_virality.cli.run_log import command_log, log_line, say
from tiktok_virality.warehouse.storage import connect
from tiktok_virality_tests.helpers import hold_lock


def lines(path: Path) -> list[str]:
    """The log's lines without their timestamps."""
    return [line.split(" ", 2)[2] for line in path.read_text(encoding="utf-8").splitlines()]


def test_what_is_said_goes_to_the_terminal_and_the_dataset_log_and_warnings_to_errors_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with command_log(tmp_path, "v1", secrets=["s3cret-token"]):
        say("v1/b001 done")
        say("v1/b002 FAILED: 401 for token s3cret-token", logging.ERROR)
        log_line("the summary table, as plain text")

    assert capsys.readouterr().out == ("v1/b001 done\nv1/b002 FAILED: 401 for token s3cret-token\n")
    assert lines(tmp_path / "pipeline_v1.log") == [
        "INFO [tiktok_virality.runs.v1] v1/b001 done",
        "ERROR [tiktok_virality.runs.v1] v1/b002 FAILED: 401 for token ***",
        "INFO [tiktok_virality.runs.v1] the summary table, as plain text",
    ]
    assert lines(tmp_path / "errors.log") == [
        "ERROR [tiktok_virality.runs.v1] v1/b002 FAILED: 401 for token ***"
    ]
    first = (tmp_path / "pipeline_v1.log").read_text(encoding="utf-8")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}Z ", first)


def test_a_refusal_starts_no_dataset_log_and_goes_to_errors_log(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    with command_log(logs, "dmeo", secrets=[]) as log:
        log.error("error: dataset 'dmeo' does not exist")

    assert not (logs / "pipeline_dmeo.log").exists()
    assert lines(logs / "errors.log") == [
        "ERROR [tiktok_virality.runs.dmeo] error: dataset 'dmeo' does not exist"
    ]

    # Once something was done to the dataset, its failures are part of its log.
    with command_log(logs, "dmeo", secrets=[]) as log:
        say("created dataset 'dmeo'")
        log.error("error: stopped")
    assert [line.split("] ")[1] for line in lines(logs / "pipeline_dmeo.log")] == [
        "created dataset 'dmeo'",
        "error: stopped",
    ]


def test_a_command_that_logs_nothing_creates_no_file(tmp_path: Path) -> None:
    with command_log(tmp_path / "logs", None, secrets=[]):
        pass

    assert not (tmp_path / "logs").exists()


def test_an_unexpected_error_is_logged_with_its_traceback_masked(tmp_path: Path) -> None:
    with command_log(tmp_path, "v1", secrets=["s3cret-token"]) as log:
        try:
            raise RuntimeError("the server echoed s3cret-token")
        except RuntimeError:
            log.exception("failed with an unexpected error")

    errors = (tmp_path / "errors.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in errors
    assert "RuntimeError: the server echoed ***" in errors
    assert "s3cret-token" not in errors


def test_the_wait_for_a_locked_database_is_shown_and_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "locked.duckdb"
    holder = hold_lock(database)

    def release(seconds: float) -> None:
        holder.communicate("release\n", timeout=30)

    with command_log(tmp_path, None, secrets=[]), connect(database, sleep=release):
        pass

    [waiting] = capsys.readouterr().err.splitlines()
    assert waiting.startswith(f"waiting for {database}: it is locked by another process (PID ")
    assert lines(tmp_path / "errors.log") == [f"WARNING [tiktok_virality.runs] {waiting}"]


def test_logs_are_appended_and_handlers_are_released(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loggers = [
        logging.getLogger(name) for name in ("tiktok_virality.runs.v1", "tiktok_virality.warehouse")
    ]
    before = [list(logger.handlers) for logger in loggers]
    for run in range(2):
        with command_log(tmp_path, "v1", secrets=[]):
            say(f"run {run}")
    say("after the command: on the terminal only")

    assert len(lines(tmp_path / "pipeline_v1.log")) == 2
    assert [logger.handlers for logger in loggers] == before
    assert capsys.readouterr().out.endswith("after the command: on the terminal only\n")
