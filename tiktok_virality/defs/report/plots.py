"""The report's plots as inline SVG: matplotlib figures made without pyplot (no GUI backend, no
global figure state), written with stable ids and no date, so the same data gives the same bytes.
Text stays text (`svg.fonttype = none`), escaped by matplotlib, and is never parsed as mathtext:
a `$` in a sound's name is just a dollar sign."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from tiktok_virality.defs.report.formatting import compact, percent

MODEL_COLOR = "#2563eb"
BASELINE_COLORS = ("#94a3b8", "#cbd5e1")
VIRAL_COLOR = "#ea580c"
PLAIN_COLOR = "#64748b"
CHANCE_COLOR = "#111827"
# Inches: SVG sizes are in points, shown at 4/3 px per point, so 9.6 in is the page's 920 px.
_WIDTH = 9.6
_STYLE = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#94a3b8",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e2e8f0",
    "grid.linewidth": 0.8,
    "xtick.color": "#334155",
    "ytick.color": "#334155",
    "axes.labelcolor": "#334155",
    "legend.frameon": False,
    "figure.dpi": 100,
}
_SVG_START = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
# Log axes spanning fewer decades than this get ticks at 1, 2 and 5 × each power of ten.
_FEW_DECADES = 2.0


def render_svg(
    name: str, size: tuple[float, float], description: str, draw: Callable[[Figure], None]
) -> str:
    """`draw` on a new figure of `size` inches, as an `<svg>` element to inline in HTML, labelled
    with `description` for screen readers. `name` prefixes its ids (and salts matplotlib's
    hashed ones), so two plots of one page never share an id."""
    with mpl.rc_context({**_STYLE, "svg.hashsalt": name}):
        figure = Figure(figsize=size, layout="constrained")
        draw(figure)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _SVG_START.sub("", buffer.getvalue(), count=1)
    # Every plot names its parts figure_1, axes_1...: prefixed, a page's ids stay unique.
    svg = (
        svg.replace(' id="', f' id="{name}-')
        .replace('href="#', f'href="#{name}-')
        .replace("url(#", f"url(#{name}-")
    )
    label = html.escape(description, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def views_histogram(views: np.ndarray) -> str:
    """Videos by views, on a log axis, with the median marked."""

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        counted = np.maximum(views, 1)
        low, high = np.log10(counted.min()), np.log10(counted.max())
        bins = np.logspace(low, high if high > low else low + 1, 25)
        axes.hist(counted, bins=bins, color=MODEL_COLOR, alpha=0.85, edgecolor="white")
        _log_axis(axes, "x", counted, compact)
        _median_line(axes, float(np.median(views)), compact)
        axes.set_xlabel("views (log scale)")
        _video_count_axis(axes)

    return render_svg("views-histogram", (_WIDTH / 2, 3.0), "Histogram of views per video", draw)


def engagement_histogram(rates: np.ndarray) -> str:
    """Videos by engagement rate (percent), with the median marked."""

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        axes.hist(100 * rates, bins=25, color=MODEL_COLOR, alpha=0.85, edgecolor="white")
        _median_line(axes, float(100 * np.median(rates)), lambda value: f"{value:.1f}%")
        axes.set_xlabel("engagement rate (% of views)")
        _video_count_axis(axes)

    return render_svg(
        "engagement-histogram", (_WIDTH / 2, 3.0), "Histogram of engagement rates", draw
    )


def account_views_plot(accounts: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> str:
    """Per account, a box of its videos' views (log axis) with every video as a dot, the viral
    ones highlighted; accounts from the lowest median (bottom) to the highest (top)."""

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        names = [name for name, _, _ in accounts]
        axes.boxplot(
            [views for _, views, _ in accounts],
            orientation="horizontal",
            tick_labels=names,
            showfliers=False,
            widths=0.6,
            medianprops={"color": MODEL_COLOR, "linewidth": 2},
            boxprops={"color": PLAIN_COLOR},
            whiskerprops={"color": PLAIN_COLOR},
            capprops={"color": PLAIN_COLOR},
        )
        # A fixed seed: the dots' spread is only there to keep them apart, the same each time.
        jitter = np.random.default_rng(0)
        for position, (_, views, viral) in enumerate(accounts, start=1):
            offsets = position + jitter.uniform(-0.18, 0.18, len(views))
            axes.scatter(views[~viral], offsets[~viral], s=9, color=PLAIN_COLOR, alpha=0.5, lw=0)
            axes.scatter(views[viral], offsets[viral], s=22, color=VIRAL_COLOR, lw=0)
        _log_axis(axes, "x", np.concatenate([views for _, views, _ in accounts]), compact)
        axes.set_xlabel("views per video (log scale)")
        axes.grid(axis="y", visible=False)
        if any(viral.any() for _, _, viral in accounts):
            axes.scatter([], [], s=22, color=VIRAL_COLOR, label="viral video")
            axes.legend(loc="lower right")

    height = 1.0 + 0.3 * len(accounts)
    return render_svg(
        "account-views", (_WIDTH, height), "Box plot of views per video for each account", draw
    )


def importance_plot(importance: pd.DataFrame) -> str:
    """The features' permutation importance (drop of the relative Spearman, ± its spread), most
    important on top."""

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        positions = np.arange(len(importance))[::-1]
        drops = importance["spearman_relative_drop"].to_numpy(dtype=float)
        axes.barh(
            positions,
            drops,
            xerr=importance["spearman_relative_drop_sd"].to_numpy(dtype=float),
            color=np.where(drops > 0, MODEL_COLOR, BASELINE_COLORS[0]),
            error_kw={"ecolor": PLAIN_COLOR, "capsize": 2, "lw": 0.8},
        )
        axes.set_yticks(positions, importance["feature"].astype(str).tolist())
        axes.axvline(0, color=CHANCE_COLOR, lw=0.8)
        axes.set_xlabel("drop in rank correlation when the feature is shuffled")
        axes.grid(axis="y", visible=False)

    height = 1.0 + 0.26 * len(importance)
    return render_svg(
        "feature-importance", (_WIDTH, height), "Bar chart of the features' importance", draw
    )


def metrics_plot(
    metrics: pd.DataFrame,
    chance: Mapping[str, float],
    metric_labels: Mapping[str, str],
    model_labels: Mapping[str, str],
) -> str:
    """Grouped bars: per metric (`metric_labels`, in order), one bar per model (`model_labels`, in
    order: the model, then the baselines), its value written above it, and the chance level of the
    metric as a dashed line across the group."""

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        values = metrics.set_index("model")
        width = 0.8 / len(model_labels)
        groups = np.arange(len(metric_labels))
        colors = (MODEL_COLOR, *BASELINE_COLORS)
        for index, (model, label) in enumerate(model_labels.items()):
            heights = [float(values.loc[model, metric]) for metric in metric_labels]
            bars = axes.bar(
                groups + (index - (len(model_labels) - 1) / 2) * width,
                np.nan_to_num(heights),
                width * 0.92,
                color=colors[index],
                label=label,
            )
            axes.bar_label(bars, labels=[f"{height:.2f}" for height in heights], fontsize=7)
        for group, metric in enumerate(metric_labels):
            axes.hlines(
                chance[metric],
                group - 0.45,
                group + 0.45,
                color=CHANCE_COLOR,
                lw=1.2,
                linestyles="dashed",
                label="chance level" if group == 0 else None,
            )
        lowest = float(np.nanmin(values[list(metric_labels)].to_numpy(dtype=float)))
        axes.set_ylim(min(0.0, lowest - 0.1), 1.08)
        axes.set_xticks(groups, list(metric_labels.values()))
        axes.axhline(0, color=PLAIN_COLOR, lw=0.8)
        axes.grid(axis="x", visible=False)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=4)

    return render_svg(
        "model-vs-baselines", (_WIDTH, 3.6), "Bar chart of the model's metrics and baselines", draw
    )


def predictions_plot(predictions: pd.DataFrame, viral_multiple: float) -> str:
    """Per video, its predicted against its actual views relative to its account's median (log
    axes), the viral threshold and the line of perfect predictions marked."""

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        predicted = predictions["predicted_multiple"].to_numpy(dtype=float)
        actual = predictions["views_multiple"].to_numpy(dtype=float)
        viral = predictions["viral"].fillna(False).to_numpy(dtype=bool)
        axes.scatter(
            predicted[~viral],
            actual[~viral],
            s=12,
            color=PLAIN_COLOR,
            alpha=0.6,
            lw=0,
            label="not viral",
        )
        axes.scatter(predicted[viral], actual[viral], s=22, color=VIRAL_COLOR, lw=0, label="viral")
        shown = np.concatenate([predicted, actual])
        shown = shown[np.isfinite(shown) & (shown > 0)]
        low, high = shown.min() / 1.3, shown.max() * 1.3
        axes.plot(
            [low, high],
            [low, high],
            color=CHANCE_COLOR,
            lw=0.8,
            ls="dotted",
            label="prediction = actual",
        )
        axes.axhline(
            viral_multiple,
            color=VIRAL_COLOR,
            lw=0.8,
            ls="dashed",
            label=f"viral threshold (×{viral_multiple:g})",
        )
        for which in ("x", "y"):
            _log_axis(axes, which, np.array([low, high]), lambda value: f"×{value:g}")
        axes.set_xlim(low, high)
        axes.set_ylim(low, high)
        axes.set_xlabel("predicted views / account median (out of fold)")
        axes.set_ylabel("actual views / account median")
        axes.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))

    return render_svg(
        "predictions", (_WIDTH * 0.8, 3.8), "Scatter plot of predicted against actual views", draw
    )


def trends_plot(rising: pd.DataFrame) -> str:
    """Per rising hashtag or sound, its share of videos in its latest rising window against its
    share in the baseline weeks before, the most recent on top."""

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        positions = np.arange(len(rising))[::-1]
        labels = [
            f"#{name}" if kind == "hashtag" else f"♪ {name}"
            for kind, name in zip(rising["kind"], rising["name"], strict=True)
        ]
        axes.barh(
            positions + 0.2,
            rising["baseline_share"],
            0.4,
            color=BASELINE_COLORS[0],
            label="share in the baseline before it",
        )
        axes.barh(
            positions - 0.2,
            rising["share"],
            0.4,
            color=VIRAL_COLOR,
            label="share in its latest rising window",
        )
        axes.set_yticks(positions, labels)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: percent(value, 0)))
        axes.set_xlabel("share of the dataset's videos posted in the window")
        axes.grid(axis="y", visible=False)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)

    height = 1.5 + 0.34 * len(rising)
    return render_svg(
        "rising-trends", (_WIDTH, height), "Bar chart of rising hashtags and sounds", draw
    )


def _log_axis(axes: Axes, which: str, values: np.ndarray, label: Callable[[float], str]) -> None:
    """A log scale on the `which` ("x" or "y") axis with plain labels (never matplotlib's
    mathtext powers of ten): at each power of ten, and at 2 and 5 × it too when `values` span few
    decades."""
    if which == "x":
        axes.set_xscale("log")
        axis = axes.xaxis
    else:
        axes.set_yscale("log")
        axis = axes.yaxis
    positive = values[values > 0]
    decades = np.log10(positive.max() / positive.min()) if len(positive) else 0.0
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades < _FEW_DECADES else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: label(value)))
    axis.set_minor_formatter(NullFormatter())


def _video_count_axis(axes: Axes) -> None:
    axes.set_ylabel("videos")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _median_line(axes: Axes, median: float, label: Callable[[float], str]) -> None:
    axes.axvline(median, color=VIRAL_COLOR, lw=1.2, ls="dashed")
    axes.annotate(
        f"median {label(median)}",
        (median, 1),
        xycoords=("data", "axes fraction"),
        xytext=(4, -4),
        textcoords="offset points",
        va="top",
        color=VIRAL_COLOR,
        fontsize=8,
    )
