"""The report of one dataset: a self-contained HTML page (inline CSS and SVG, no script, nothing
remote) with its engagement, its top and bottom videos, its accounts, the virality model's feature
importance and scores against its baselines, and its rising hashtags and sounds.

- `inputs.py`: `ReportInputs` (from a `ModelRun`, from the stored tables' frames, or read from
  DuckDB by `load_report_inputs`) and the columns it needs of each table (`TABLE_COLUMNS`).
- `summaries.py`: the numbers shown (pure functions of frames).
- `plots.py`: the plots, as inline SVG.
- `render.py`: `render_report(inputs) -> str`, the page; `SECTIONS` and `PLOTS` name its parts.
- `dataset_sections.py`, `model_sections.py`: the sections' contents, about the videos and about
  the model.
- `markup.py`: the escaped HTML pieces (text, paragraphs, tables, figures, links) they are made of.
"""

from tiktok_virality.defs.report.inputs import (
    TABLE_COLUMNS,
    ReportInputs,
    load_report_inputs,
    run_record_from_row,
)
from tiktok_virality.defs.report.render import PLOTS, SECTIONS, render_report

__all__ = [
    "PLOTS",
    "SECTIONS",
    "TABLE_COLUMNS",
    "ReportInputs",
    "load_report_inputs",
    "render_report",
    "run_record_from_row",
]
