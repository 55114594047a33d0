"""`tiktok-virality ui`: `dagster dev` on the CLI's own Dagster home, without the warning that
`dagster dev` is superseded."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.config import DAGSTER_DEV_SUPERSEDED_FILTER


def test_ui_starts_dagster_dev_on_the_clis_home(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[tuple[str, list[str], dict[str, str]]] = []

    def execve(path: str, argv: list[str], environment: dict[str, str]) -> Any:
        started.append((path, argv, environment))
        return 0

    monkeypatch.setenv("PYTHONWARNINGS", "default::DeprecationWarning")
    monkeypatch.setattr(os, "execve", execve)

    main(["ui", "--port", "3111"])

    [(path, argv, environment)] = started
    assert path == sys.executable
    assert argv[1:] == [
        "-m", "dagster", "dev", "-m", "tiktok_virality.definitions", "--port", "3111"
    ]  # fmt: skip
    home = data_dir / "dagster_home"
    assert environment["DAGSTER_HOME"] == str(home)
    assert (home / "dagster.yaml").is_file()
    # The user's own filters stay, before ours.
    assert environment["PYTHONWARNINGS"] == (
        f"default::DeprecationWarning,{DAGSTER_DEV_SUPERSEDED_FILTER}"
    )
    assert "http://127.0.0.1:3111" in capsys.readouterr().out


def test_the_filter_silences_the_superseded_warning_and_no_other() -> None:
    """The warning as Dagster raises it (`dagster_shared`'s SupersessionWarning), under the
    filter the UI runs with: silenced; another FutureWarning still shows."""
    script = (
        "import warnings\n"
        "from dagster_shared.utils.warnings import SupersessionWarning\n"
        "warnings.warn('Function `dev_command` is superseded and its usage is discouraged. "
        "Use \\'dg dev\\' instead.', SupersessionWarning)\n"
        "warnings.warn('something else', FutureWarning)\n"
    )
    environment = {**os.environ, "PYTHONWARNINGS": DAGSTER_DEV_SUPERSEDED_FILTER}
    shown = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True
    ).stderr

    assert "dev_command" not in shown
    assert "something else" in shown
