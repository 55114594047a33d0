import logging
import re
from pathlib import Path

from tiktok_virality.cli.run_log import run_log


def test_the_pipeline_log_gets_everything_and_errors_log_the_failures(tmp_path: Path) -> None:
    with run_log(tmp_path, "v1", secrets=["s3cret-token"]) as log:
        log.info("v1/b001 done")
        log.error("v1/b002 FAILED: 401 for token s3cret-token")

    pipeline = (tmp_path / "pipeline_v1.log").read_text(encoding="utf-8").splitlines()
    errors = (tmp_path / "errors.log").read_text(encoding="utf-8").splitlines()
    assert [line.split(" ", 2)[2] for line in pipeline] == [
        "INFO [tiktok_virality.runs.v1] v1/b001 done",
        "ERROR [tiktok_virality.runs.v1] v1/b002 FAILED: 401 for token ***",
    ]
    assert len(errors) == 1 and errors[0].endswith("v1/b002 FAILED: 401 for token ***")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}Z ", pipeline[0])


def test_logs_are_appended_run_after_run_and_handlers_are_released(tmp_path: Path) -> None:
    for run in range(2):
        with run_log(tmp_path, "v1", secrets=[]) as log:
            log.info(f"run {run}")

    assert len((tmp_path / "pipeline_v1.log").read_text(encoding="utf-8").splitlines()) == 2
    handlers = logging.getLogger("tiktok_virality.runs.v1").handlers
    assert not any(isinstance(handler, logging.FileHandler) for handler in handlers)
