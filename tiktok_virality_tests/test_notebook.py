"""The exploration notebook runs clean, in a Jupyter kernel, on the tables of a fresh offline demo
run, shows the stored values, and leaves the data directory as it found it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

from tiktok_virality.cli.main import main

# Slow: `pytest -m slow` runs it (CI does), the default suite does not (pyproject.toml).
pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_virality.ipynb"


def fingerprint(directory: Path) -> dict[str, tuple[int, str]]:
    """Every file below `directory`: its size and SHA-256."""
    return {
        str(path.relative_to(directory)): (
            path.stat().st_size,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def outputs_by_tag(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The text a tagged code cell showed: its printed text and its results' plain text."""
    texts: dict[str, str] = {}
    for cell in notebook.cells:
        for tag in cell.metadata.get("tags", []):
            texts[tag] = "".join(
                output.get("text", "") + output.get("data", {}).get("text/plain", "")
                for output in cell.get("outputs", [])
            )
    return texts


def test_the_notebook_walks_through_a_demo_run_without_writing(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["run", "--dataset", "demo", "--offline"]) == 0
    database = data_dir / "tiktok_virality.duckdb"
    with duckdb.connect(str(database), read_only=True) as connection:
        [(videos, labelled, roc_auc)] = connection.execute(
            "SELECT videos, labelled_videos, model_roc_auc FROM model_runs WHERE dataset = 'demo'"
        ).fetchall()
    before = fingerprint(data_dir)
    # The kernel inherits the environment: the data directory above, and an IPython profile of
    # its own rather than the developer's.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)

    NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells[0].source.endswith('DATASET = "demo"')
    assert all(cell.execution_count for cell in code_cells)
    assert not [
        output for cell in code_cells for output in cell.outputs if output.output_type == "error"
    ]
    shown = outputs_by_tag(notebook)
    assert f"database: {database}" in shown["open"]
    # Per table: its rows in all, and of the dataset (the only one).
    rows = {"raw_videos": videos, "video_features": videos, "video_predictions": labelled}
    for table, count in {**rows, "model_runs": 1}.items():
        assert re.search(rf"{table}\s+{count}\s+{count}$", shown["tables"], re.MULTILINE), table
    assert re.search(rf"\nmodel\s+{roc_auc:.3f}", shown["metrics"])
    assert "chance" in shown["metrics"]
    assert "viral among the 10 videos rated highest" in shown["precision"]
    assert "hashtag" in shown["trends"]
    assert fingerprint(data_dir) == before
