"""The CLI answers at once because its commands import what they need when they run: the parser,
the dispatch and the quick commands must not import Dagster, pandas or the graph. Checked in a
fresh interpreter, whose `sys.modules` holds what the imports pulled in; how long they take is the
benchmark's business (bench/cli_latency.py)."""

import subprocess
import sys

import pytest


def imported_after(*modules: str, watched: tuple[str, ...]) -> list[str]:
    code = (
        "import importlib, sys\n"
        f"for module in {list(modules)!r}: importlib.import_module(module)\n"
        f"print(' '.join(name for name in {list(watched)!r} if name in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return completed.stdout.split()


HEAVY = ("dagster", "pandas", "numpy", "sklearn", "google.genai", "apify_client")


@pytest.mark.parametrize(
    "modules",
    [
        # --help and argument errors: the dispatch and the parser.
        ("tiktok_virality.cli.main", "tiktok_virality.cli.parser"),
        # `dataset list` and `dataset show`.
        ("tiktok_virality.cli.dataset_commands",),
    ],
)
def test_the_parser_and_the_quick_commands_import_nothing_heavy(modules: tuple[str, ...]) -> None:
    assert imported_after(*modules, watched=HEAVY) == []


def test_status_imports_dagster_but_not_the_graph_nor_pandas() -> None:
    watched = (*HEAVY, "tiktok_virality.definitions")

    assert imported_after("tiktok_virality.cli.status_command", watched=watched) == ["dagster"]
