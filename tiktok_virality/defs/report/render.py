"""One dataset's report as a self-contained HTML page: inline CSS and SVG plots, no script, no
remote image, font or stylesheet, so it works offline and from any folder. Every string that comes
from the data (captions, names, hashtags, sounds, URLs, reasons) is escaped, and only http(s) URLs
become links (markup.py). The page depends on its inputs only: the time it shows is `generated_at`.

This module is the page's frame: its sections in order, its header and its stylesheet. The
sections' contents are in dataset_sections.py (what was scraped) and model_sections.py (what the
model makes of it)."""

from __future__ import annotations

from collections.abc import Mapping

from tiktok_virality.defs.report.cost_section import cost_section
from tiktok_virality.defs.report.dataset_sections import (
    accounts_section,
    engagement_section,
    overview_section,
    trends_section,
    videos_section,
)
from tiktok_virality.defs.report.formatting import count_of, instant
from tiktok_virality.defs.report.inputs import ReportInputs
from tiktok_virality.defs.report.markup import escaped
from tiktok_virality.defs.report.model_sections import (
    drivers_section,
    importance_section,
    methods_section,
    model_section,
)
from tiktok_virality.defs.report.summaries import dataset_overview, video_table
from tiktok_virality.defs.report.tracking_sections import (
    TRACKING_PLOTS,
    TRACKING_SECTIONS,
    tracking_sections,
)

SECTIONS: Mapping[str, str] = {
    "overview": "Overview",
    "engagement": "Engagement distributions",
    "top-bottom-videos": "Top and bottom videos",
    "accounts": "Accounts",
    "feature-importance": "Feature importance",
    "drivers": "Drivers",
    "model-vs-baselines": "The model against its baselines",
    "trends": "Rising hashtags and sounds",
    **TRACKING_SECTIONS,
    "methods": "Methods and caveats",
    "costs": "What it cost",
}
"""The page's sections in order: `<section id=key>` headed by `<h2>value</h2>`."""

PLOTS = (
    "views-histogram",
    "engagement-histogram",
    "account-views",
    "feature-importance",
    "model-vs-baselines",
    "predictions",
    "rising-trends",
    *TRACKING_PLOTS,
)
"""Every plot the page can show, each in a `<figure data-plot=name>`; a plot without data is
replaced by a sentence."""


def render_report(inputs: ReportInputs) -> str:
    """The report page of one dataset (see the module docstring)."""
    videos = video_table(inputs)
    overview = dataset_overview(inputs, videos)
    bodies = {
        "overview": overview_section(inputs, overview),
        "engagement": engagement_section(videos),
        "top-bottom-videos": videos_section(videos),
        "accounts": accounts_section(videos),
        "feature-importance": importance_section(inputs),
        "drivers": drivers_section(inputs),
        "model-vs-baselines": model_section(inputs),
        "trends": trends_section(inputs),
        **tracking_sections(inputs),
        "methods": methods_section(inputs, overview),
        "costs": cost_section(inputs),
    }
    sections = "\n".join(
        f'<section id="{key}">\n<h2>{escaped(SECTIONS[key])}</h2>\n{bodies[key]}\n</section>'
        for key in SECTIONS
    )
    navigation = " ".join(
        f'<a href="#{key}">{escaped(title)}</a>' for key, title in SECTIONS.items()
    )
    title = f"TikTok virality report: {inputs.dataset}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escaped(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header class="page"><div class="wrap">
<h1>{escaped(title)}</h1>
<p>{escaped(f"{count_of(overview.videos, 'video')} from {count_of(overview.accounts, 'account')}")} ·
generated <time>{escaped(instant(inputs.generated_at))}</time></p>
<nav>{navigation}</nav>
</div></header>
<main class="wrap">
{sections}
</main>
</body>
</html>
"""


_STYLE = """
:root { --ink: #0f172a; --muted: #475569; --line: #e2e8f0; --accent: #2563eb;
  --viral: #ea580c; --paper: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
.wrap { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
header.page { background: var(--ink); color: #fff; padding: 28px 0 18px; }
header.page h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header.page p { margin: 0 0 14px; color: #cbd5e1; }
nav { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 14px; }
nav a { color: #bfdbfe; text-decoration: none; }
nav a:hover { text-decoration: underline; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 20px 26px 12px; margin: 22px 0; }
h2 { margin: 0 0 10px; font-size: 21px; }
h3 { margin: 20px 0 8px; font-size: 16px; }
p { max-width: 78ch; }
a { color: var(--accent); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px;
  margin-bottom: 6px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .value { font-size: 21px; font-weight: 650; }
.card .label { color: var(--muted); font-size: 13px; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 8px 16px; }
figure { margin: 14px 0; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.table-scroll { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.video { min-width: 300px; }
td.links { white-space: nowrap; }
td .note { font-size: 12px; }
tbody tr:nth-child(even) { background: #f8fafc; }
.badge { background: var(--viral); color: #fff; border-radius: 4px; padding: 0 5px;
  font-size: 11px; font-weight: 600; }
.note { color: var(--muted); }
details { margin: 10px 0; }
summary { cursor: pointer; color: var(--accent); }
ul { padding-left: 20px; max-width: 85ch; }
li { margin: 4px 0; }
table.heatmap { width: auto; }
table.heatmap td.cell { text-align: center; font-size: 11px; min-width: 34px; padding: 3px 2px; }
table.heatmap td.sparse { background: #e2e8f0; color: #94a3b8; }
table.heatmap td.empty { background: #f8fafc; }
"""
