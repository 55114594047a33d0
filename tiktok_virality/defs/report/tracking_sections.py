"""The report's sections about a dataset followed over time (tracking_views.py computes them):
growth curves and outlier alerts, the best time to post, the competitor benchmark and the
adoption speed of sounds and hashtags. Every value from the data is escaped (markup.py)."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from tiktok_virality.defs.model.selection import EARLY_VELOCITY_FEATURES
from tiktok_virality.defs.report.formatting import compact, day, instant, multiple, percent, whole
from tiktok_virality.defs.report.inputs import ReportInputs
from tiktok_virality.defs.report.markup import escaped, figure, link, paragraph, table
from tiktok_virality.defs.report.plots import render_svg
from tiktok_virality.defs.report.tracking_views import (
    ADOPTION_WINDOW_DAYS,
    MIN_CELL_VIDEOS,
    TrackingInputs,
    account_benchmark,
    adoption_speed,
    growth_curves,
    posting_heatmap,
)

TRACKING_SECTIONS = {
    "growth": "Growth and outlier alerts",
    "best-time": "Best time to post",
    "benchmark": "Competitor benchmark",
    "adoption": "Sounds and hashtags by adoption speed",
}
"""The tracking sections, in the page's order: `<section id=key>` headed by the value."""
TRACKING_PLOTS = ("growth-curves",)
MAX_ADOPTIONS_SHOWN = 15
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def tracking_sections(inputs: ReportInputs) -> dict[str, str]:
    """The body of each of `TRACKING_SECTIONS`."""
    tracking = inputs.tracking or TrackingInputs(
        snapshots=pd.DataFrame(), alerts=pd.DataFrame(), videos=pd.DataFrame()
    )
    return {
        "growth": _growth_section(inputs, tracking),
        "best-time": _best_time_section(tracking),
        "benchmark": _benchmark_section(tracking),
        "adoption": _adoption_section(tracking),
    }


def _growth_section(inputs: ReportInputs, tracking: TrackingInputs) -> str:
    if tracking.snapshots.empty:
        return paragraph(
            "No snapshots yet. Each scrape keeps every video's counts; refresh the dataset "
            f"(`tiktok-virality refresh --dataset {inputs.dataset}`, or on a cadence with "
            f"`tiktok-virality track --dataset {inputs.dataset} --every 6h`) to follow its "
            "videos' growth."
        )
    curves = growth_curves(tracking.snapshots)
    scrapes = tracking.snapshots["scraped_at"].nunique()
    parts = [
        paragraph(
            f"{whole(scrapes)} scrapes, {whole(len(tracking.snapshots))} snapshots, the last at "
            f"{instant(tracking.snapshots['scraped_at'].max())}. {_early_velocity_note(inputs)}"
        )
    ]
    if curves.empty:
        parts.append(paragraph("No video has been seen twice yet: no growth curve to draw."))
    else:
        parts.append(
            figure(
                "growth-curves",
                _growth_plot(curves),
                "Views by age of the videos that gained the most views while tracked (one point "
                "a scrape; log scale).",
            )
        )
    parts.append(_alerts_table(tracking.alerts))
    return "\n".join(parts)


def _early_velocity_note(inputs: ReportInputs) -> str:
    used = [
        f for f in inputs.model_run.get("selected_features") or [] if f in EARLY_VELOCITY_FEATURES
    ]
    if used:
        return (
            "The model uses early velocity (views per hour within a video's first day): its "
            "predictions are for videos a day old, not before posting."
        )
    return "The model does not use early velocity (too few videos were seen in their first day)."


def _growth_plot(curves: pd.DataFrame) -> str:
    def draw(canvas: Figure) -> None:
        axes = canvas.subplots()
        for _, points in curves.groupby("rank", sort=True):
            video_id = str(points["video_id"].iloc[0])
            axes.plot(
                points["age_hours"],
                points["views"],
                marker="o",
                ms=3,
                label=f"@{points['account'].iloc[0]} · …{video_id[-6:]}",
            )
        axes.set_xlabel("age (hours since posting)")
        axes.set_ylabel("views")
        axes.set_yscale("log")
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: compact(value)))
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)

    return render_svg("growth-curves", (9.6, 3.6), "Line chart of views by age", draw)


def _alerts_table(alerts: pd.DataFrame) -> str:
    if alerts.empty:
        return paragraph("No outlier alert: no video reached k × its baseline while young.")
    rows = [
        (
            escaped(f"@{alert['account']}"),
            link(alert["url"], str(alert["video_id"])),
            escaped(compact(alert["views"])),
            escaped(f"{alert['age_hours']:.0f} h"),
            escaped(multiple(alert["multiple"])),
            escaped("account median" if alert["baseline"] == "account_median" else "size"),
            escaped(instant(alert["raised_at"])),
        )
        for _, alert in alerts.iterrows()
    ]
    columns = [
        ("account", "text"),
        ("video", "links"),
        ("views", "num"),
        ("age", "num"),
        ("× baseline", "num"),
        ("baseline", "text"),
        ("raised", "text"),
    ]
    return "<h3>Outlier alerts</h3>" + table(columns, rows, "alerts-table")


def _best_time_section(tracking: TrackingInputs) -> str:
    cells = (
        posting_heatmap(tracking.videos, tracking.time_zone) if not tracking.videos.empty else None
    )
    if cells is None or cells.empty:
        return paragraph("No video with a posting time and an account median: nothing to map.")
    by_cell = {(row.weekday, row.hour): row for row in cells.itertuples()}
    head = "".join(f'<th class="num">{hour}</th>' for hour in range(24))
    body = []
    for weekday, name in enumerate(_WEEKDAYS):
        tds = []
        for hour in range(24):
            cell = by_cell.get((weekday, hour))
            if cell is None:
                tds.append('<td class="cell empty"></td>')
                continue
            title = (
                f"{name} {hour}:00 · {cell.videos} videos · median {multiple(cell.median_multiple)}"
            )
            style = "" if cell.sparse else f' style="background:{_heat(cell.median_multiple)}"'
            css = "cell sparse" if cell.sparse else "cell"
            tds.append(
                f'<td class="{css}"{style} title="{escaped(title)}">'
                f"{escaped(multiple(cell.median_multiple))}<br><small>n={cell.videos}</small></td>"
            )
        body.append(f"<tr><th>{name}</th>{''.join(tds)}</tr>")
    return (
        paragraph(
            f"When the videos were posted ({tracking.time_zone}), and the median multiple of their "
            f"account's median views. Greyed cells hold fewer than {MIN_CELL_VIDEOS} videos."
        )
        + f'<div class="table-scroll"><table id="best-time-heatmap" class="heatmap"><thead><tr>'
        f"<th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _heat(value: float) -> str:
    """Orange above the account's median, slate below, stronger the further (up to ×4 or ÷4)."""
    strength = min(abs(math.log2(max(value, 1e-6))) / 2, 1.0)
    color = "234, 88, 12" if value >= 1 else "100, 116, 139"
    return f"rgba({color}, {0.12 + 0.6 * strength:.2f})"


def _benchmark_section(tracking: TrackingInputs) -> str:
    if tracking.videos.empty:
        return paragraph("No videos.")
    benchmark = account_benchmark(tracking.videos)
    rows = [
        (
            escaped(f"@{row.account}"),
            escaped(whole(row.videos)),
            escaped(f"{row.posts_per_week:.1f}"),
            escaped(compact(row.median_views)),
            escaped(percent(row.engagement_rate)),
            escaped(percent(row.outlier_share, 0)),
            escaped(multiple(row.trend_4_weeks)),
        )
        for row in benchmark.itertuples()
    ]
    columns = [
        ("account", "text"),
        ("videos", "num"),
        ("posts / week", "num"),
        ("median views", "num"),
        ("engagement", "num"),
        ("outliers", "num"),
        ("last 4 weeks", "num"),
    ]
    return paragraph(
        "Per account: posts a week over its scraped videos, median views and engagement "
        "rate, share of outliers (viral videos), and the median views of the last 4 weeks' "
        "posts against its earlier ones (young posts are still growing)."
    ) + table(columns, rows, "benchmark-table")


def _adoption_section(tracking: TrackingInputs) -> str:
    adoption = adoption_speed(tracking.videos) if not tracking.videos.empty else pd.DataFrame()
    if adoption.empty:
        return paragraph("No hashtag or sound used by two accounts or more.")
    rows = [
        (
            escaped(row.kind),
            escaped(row.name),
            escaped(day(row.first_seen)),
            escaped(whole(row.accounts)),
            escaped(whole(row.adopted_within_window)),
            escaped(f"{row.median_days_to_adopt:.1f}"),
        )
        for row in adoption.head(MAX_ADOPTIONS_SHOWN).itertuples()
    ]
    columns = [
        ("kind", "text"),
        ("hashtag or sound", "text"),
        ("first used", "text"),
        ("accounts", "num"),
        (f"within {ADOPTION_WINDOW_DAYS} days", "num"),
        ("median days to adopt", "num"),
    ]
    return paragraph(
        "Hashtags and sounds that several tracked accounts took up, fastest first: accounts "
        f"using it within {ADOPTION_WINDOW_DAYS} days of its first use here, then the median "
        "days the others took."
    ) + table(columns, rows, "adoption-table")
