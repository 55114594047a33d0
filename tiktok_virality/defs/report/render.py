"""One dataset's report as a self-contained HTML page: inline CSS and SVG plots, no script, no
remote image, font or stylesheet, so it works offline and from any folder. Every string that comes
from the data (captions, names, hashtags, sounds, URLs, reasons) is escaped, and only http(s) URLs
become links. The page depends on its inputs only: the time it shows is `generated_at`."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from tiktok_virality.defs.report import plots
from tiktok_virality.defs.report.formatting import (
    MISSING,
    compact,
    count_of,
    day,
    day_range,
    instant,
    is_missing,
    multiple,
    percent,
    score,
    whole,
)
from tiktok_virality.defs.report.inputs import ReportInputs
from tiktok_virality.defs.report.summaries import (
    VIDEO_KEY,
    Overview,
    account_summary,
    account_views,
    dataset_overview,
    rising_trends,
    top_and_bottom,
    video_table,
)

SECTIONS: Mapping[str, str] = {
    "overview": "Overview",
    "engagement": "Engagement distributions",
    "top-bottom-videos": "Top and bottom videos",
    "accounts": "Accounts",
    "feature-importance": "Feature importance",
    "model-vs-baselines": "The model against its baselines",
    "trends": "Rising hashtags and sounds",
    "methods": "Methods and caveats",
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
)
"""Every plot the page can show, each in a `<figure data-plot=name>`; a plot without data is
replaced by a sentence."""

TOP_VIDEOS = 10
MAX_ACCOUNTS_PLOTTED = 30
MAX_FEATURES_PLOTTED = 15
MAX_TRENDS_SHOWN = 12
CAPTION_EXCERPT = 90

METRIC_LABELS = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "spearman": "Spearman (views)",
    "spearman_relative": "Spearman (vs account)",
}
MODEL_LABELS = {
    "model": "the model",
    "baseline_followers": "followers only",
    "baseline_account_median": "account's usual views",
}
_WHITESPACE = re.compile(r"\s+")
_LINKABLE = re.compile(r"^https?://", re.IGNORECASE)


def render_report(inputs: ReportInputs) -> str:
    """The report page of one dataset (see the module docstring)."""
    videos = video_table(inputs)
    overview = dataset_overview(inputs, videos)
    bodies = {
        "overview": _overview_section(inputs, overview),
        "engagement": _engagement_section(videos),
        "top-bottom-videos": _videos_section(videos),
        "accounts": _accounts_section(videos),
        "feature-importance": _importance_section(inputs),
        "model-vs-baselines": _model_section(inputs),
        "trends": _trends_section(inputs),
        "methods": _methods_section(inputs, overview),
    }
    sections = "\n".join(
        f'<section id="{key}">\n<h2>{_text(SECTIONS[key])}</h2>\n{bodies[key]}\n</section>'
        for key in SECTIONS
    )
    navigation = " ".join(f'<a href="#{key}">{_text(title)}</a>' for key, title in SECTIONS.items())
    title = f"TikTok virality report: {inputs.dataset}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_text(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header class="page"><div class="wrap">
<h1>{_text(title)}</h1>
<p>{_text(f"{count_of(overview.videos, 'video')} from {count_of(overview.accounts, 'account')}")} ·
generated <time>{_text(instant(inputs.generated_at))}</time></p>
<nav>{navigation}</nav>
</div></header>
<main class="wrap">
{sections}
</main>
</body>
</html>
"""


def _overview_section(inputs: ReportInputs, overview: Overview) -> str:
    run = inputs.model_run
    viral = (
        f"{whole(overview.viral_videos)} of {whole(overview.labelled_videos)} labelled"
        if overview.labelled_videos
        else "no video labelled"
    )
    model_value, model_label = (
        (score(run["model_roc_auc"]), "model ROC-AUC (chance 0.50)")
        if run["evaluated"]
        else ("not evaluated", "model")
    )
    cards = [
        (whole(overview.videos), f"videos from {count_of(overview.accounts, 'account')}"),
        (percent(overview.viral_share), f"viral videos ({viral})"),
        (compact(overview.median_views), "median views per video"),
        (percent(overview.median_engagement_rate), "median engagement rate"),
        (day_range(overview.first_post, overview.last_post), "when the videos were posted"),
        (model_value, model_label),
    ]
    card_html = "".join(
        f'<div class="card"><div class="value">{_text(value)}</div>'
        f'<div class="label">{_text(label)}</div></div>'
        for value, label in cards
    )
    return f'<div class="cards">{card_html}</div>\n' + _paragraph(_model_status(inputs, overview))


def _model_status(inputs: ReportInputs, overview: Overview) -> str:
    run = inputs.model_run
    multiple_k = run["parameters"]["viral_multiple"]
    label = (
        f"A video is viral when it has at least {multiple_k:g} × its account's median views. "
        f"Counts as scraped up to {instant(overview.last_scrape)}."
    )
    trained = f" (trained {instant(run['trained_at'])})" if run.get("trained_at") else ""
    if not run["evaluated"]:
        return f"{label} The model was not evaluated{trained}: {run['reason']}."
    return (
        f"{label} The model{trained} was cross-validated in {run['folds']} folds of accounts on "
        f"{count_of(run['labelled_videos'], 'labelled video')} of "
        f"{count_of(run['labelled_accounts'], 'account')}: every score below is for accounts it "
        "had not seen."
    )


def _engagement_section(videos: pd.DataFrame) -> str:
    views = videos["views"].dropna().to_numpy(dtype=float)
    rates = videos["engagement_rate"].dropna().to_numpy(dtype=float)
    if len(views) == 0:
        return _paragraph("No video has a view count yet.")
    figures = [
        _figure("views-histogram", plots.views_histogram(views), "Views per video."),
    ]
    if len(rates):
        figures.append(
            _figure(
                "engagement-histogram",
                plots.engagement_histogram(rates),
                "Engagement rate: (likes + comments + shares + saves) / views.",
            )
        )
    per_account = account_views(videos, MAX_ACCOUNTS_PLOTTED)
    shown = (
        f"The {MAX_ACCOUNTS_PLOTTED} accounts with the most videos. "
        if videos["account"].nunique() > MAX_ACCOUNTS_PLOTTED
        else ""
    )
    return (
        _paragraph(
            "How views and engagement are spread over the videos. Views span orders of "
            "magnitude, so they are shown on a log scale; most of their spread is between "
            "accounts, which is why the virality label compares each video with its own "
            "account's median."
        )
        + f'<div class="plots">{"".join(figures)}</div>'
        + _figure(
            "account-views",
            plots.account_views_plot(per_account),
            f"{shown}Views per video by account (box: middle half of its videos, line: median; "
            "dots: videos, viral ones highlighted).",
        )
    )


def _videos_section(videos: pd.DataFrame) -> str:
    top, bottom = top_and_bottom(videos, TOP_VIDEOS)
    if top.empty:
        return _paragraph("No video can be compared with its account's median views yet.")
    return (
        _paragraph(
            "Videos ranked by their views against their account's median — the measure the "
            "virality label uses — so a small account's breakout ranks above a big account's "
            "ordinary video. “Predicted” is the model's out-of-fold estimate of the same "
            "ratio, “main driver” the feature that moved it most (its value, and the factor on "
            "predicted views against the usual value). Links open TikTok and the cover image."
        )
        + f"<h3>Top {len(top)}: furthest above their account's median</h3>"
        + _video_rows_table(top, "top-videos")
        + f"<h3>Bottom {len(bottom)}: furthest below their account's median</h3>"
        + _video_rows_table(bottom, "bottom-videos")
    )


def _video_rows_table(videos: pd.DataFrame, table_id: str) -> str:
    columns = [
        ("Video", "video"),
        ("Views", "num"),
        ("vs account median", "num"),
        ("Engagement", "num"),
        ("Predicted", "num"),
        ("Main driver", ""),
        ("Links", "links"),
    ]
    rows = [
        [
            _caption_cell(video.caption)
            + f'<div class="note">{_text(video.account)} · {_text(day(video.created_at))}</div>',
            _text(compact(video.views)),
            _text(multiple(video.views_vs_account_median))
            + (' <span class="badge">viral</span>' if _is_true(video.viral) else ""),
            _text(percent(video.engagement_rate)),
            _text(multiple(video.predicted_multiple)),
            _text(_driver(video.top_feature_1, video.top_value_1, video.top_effect_1)),
            f"{_link(video.url, 'video')} · {_link(video.cover_url, 'cover')}",
        ]
        for video in videos.itertuples(index=False)
    ]
    return _table(columns, rows, table_id)


def _accounts_section(videos: pd.DataFrame) -> str:
    summary = account_summary(videos)
    columns = [
        ("Account", ""),
        ("Name", ""),
        ("Followers", "num"),
        ("Videos", "num"),
        ("Median views", "num"),
        ("Median engagement", "num"),
        ("Best video vs median", "num"),
        ("Viral videos", "num"),
    ]
    rows = [
        [
            _text(row.account),
            _text(row.name if row.name is not None else MISSING),
            _text(compact(row.followers)),
            _text(whole(row.videos)),
            _text(compact(row.median_views)),
            _text(percent(row.median_engagement_rate)),
            _text(multiple(row.best_multiple)),
            _text(whole(row.viral_videos)),
        ]
        for row in summary.itertuples(index=False)
    ]
    return _paragraph(
        "One row per account, by median views. “Viral videos” is empty for an account with "
        "too few videos to have a label."
    ) + _table(columns, rows, "account-summary")


def _importance_section(inputs: ReportInputs) -> str:
    importance = inputs.importance.sort_values("rank", kind="stable").reset_index(drop=True)
    if importance.empty:
        return _paragraph(
            "No feature importance: the model was not evaluated (see “The model against its "
            "baselines”)."
        )
    plotted = importance.head(MAX_FEATURES_PLOTTED)
    columns = [
        ("Rank", "num"),
        ("Feature", ""),
        ("Drop in rank correlation", "num"),
        ("Drop in ROC-AUC", "num"),
        ("Typical effect on views", "num"),
    ]
    rows = [
        [
            _text(whole(row.rank)),
            _text(row.feature),
            _text(f"{score(row.spearman_relative_drop)} ± {score(row.spearman_relative_drop_sd)}"),
            _text(f"{score(row.roc_auc_drop)} ± {score(row.roc_auc_drop_sd)}"),
            _text(multiple(math.exp(row.mean_abs_log_effect))),
        ]
        for row in importance.itertuples(index=False)
    ]
    return (
        _paragraph(
            "How much the model's ranking of held-out videos (the rank correlation of predicted "
            "and actual views against their account's median) gets worse when one feature's "
            "values are shuffled: the more it drops, the more the model relies on the feature. "
            "A drop near 0 means the feature adds nothing the others do not. “Typical effect” "
            "is the average factor by which a video's value of the feature, against the usual "
            "value, moves its predicted views."
        )
        + _figure(
            "feature-importance",
            plots.importance_plot(plotted),
            (
                f"The {len(plotted)} most important of {len(importance)} features"
                if len(plotted) < len(importance)
                else f"All {len(importance)} features"
            )
            + " (± their spread over the shuffles).",
        )
        + _table(columns, rows, "importance-table")
    )


def _model_section(inputs: ReportInputs) -> str:
    run = inputs.model_run
    if not run["evaluated"]:
        return _paragraph(
            f"The model was not evaluated: {run['reason']}. With "
            f"{count_of(run['labelled_videos'], 'labelled video')} of "
            f"{count_of(run['labelled_accounts'], 'account')} ({whole(run['viral_videos'])} "
            "viral), "
            "there is nothing to compare with the baselines yet; scrape more accounts or more "
            "videos per account."
        )
    metrics = inputs.metrics
    chance = _chance_levels(run)
    columns = [("Metric", ""), *((label, "num") for label in MODEL_LABELS.values())]
    columns.append(("Chance", "num"))
    values = metrics.set_index("model")
    rows = [
        [
            _text(label),
            *(_text(score(values.loc[model, metric])) for model in MODEL_LABELS),
            _text(score(chance[metric])),
        ]
        for metric, label in METRIC_LABELS.items()
    ]
    viral_multiple = float(run["parameters"]["viral_multiple"])
    return (
        _figure(
            "model-vs-baselines",
            plots.metrics_plot(metrics, chance, METRIC_LABELS, MODEL_LABELS),
            "Out-of-fold scores of the model and of ranking by one number (higher is better); "
            "dashed: what guessing scores.",
        )
        + "<h3>What this means</h3>"
        + _paragraph(_model_meaning(run))
        + _table(columns, rows, "metrics-table")
        + _figure(
            "predictions",
            plots.predictions_plot(
                inputs.predictions.sort_values(VIDEO_KEY, ignore_index=True), viral_multiple
            ),
            "Each labelled video's predicted against its actual views relative to its "
            "account's median, predicted by a model that never saw the account.",
        )
    )


def _chance_levels(run: Mapping[str, Any]) -> dict[str, float]:
    return {
        "roc_auc": 0.5,
        "pr_auc": float(run["viral_share"] or 0.0),
        "spearman": 0.0,
        "spearman_relative": 0.0,
    }


def _model_meaning(run: Mapping[str, Any]) -> str:
    model_auc = run["model_roc_auc"]
    best_baseline = max(
        (run[f"{model}_roc_auc"] or 0.0, label)
        for model, label in MODEL_LABELS.items()
        if model != "model"
    )
    verdict = (
        "clearly better than"
        if model_auc is not None and model_auc >= best_baseline[0] + 0.05
        else "not clearly better than"
    )
    sentences = [
        f"On accounts it never saw in training, the model ranks a viral video above a non-viral "
        f"one {percent(model_auc, 0)} of the time (ROC-AUC {score(model_auc)}); ranking by "
        f"followers does so {percent(run['baseline_followers_roc_auc'], 0)} of the time and by "
        f"the account's usual views {percent(run['baseline_account_median_roc_auc'], 0)}, where "
        f"guessing gives 50%: the model is {verdict} its best baseline ({best_baseline[1]}).",
        f"Its precision–recall score (PR-AUC) is {score(run['model_pr_auc'])}, where guessing "
        f"scores the share of viral videos, {score(run['viral_share'])}.",
        f"Ranking videos by their raw views, followers alone reach a rank correlation of "
        f"{score(run['baseline_followers_spearman'])} (the model "
        f"{score(run['model_spearman'])}): big accounts get more views. Against each account's "
        f"own median, the model reaches {score(run['model_spearman_relative'])} where the "
        f"baselines are near 0 ({score(run['baseline_followers_spearman_relative'])} and "
        f"{score(run['baseline_account_median_spearman_relative'])}) — that is the part of "
        "virality that content, not account size, explains.",
    ]
    viral_videos = run["viral_videos"] or 0
    if viral_videos < 30:
        sentences.append(
            f"These scores rest on {whole(viral_videos)} viral videos: one video more or less "
            "moves them visibly, so read them as a rough indication."
        )
    return " ".join(sentences)


def _trends_section(inputs: ReportInputs) -> str:
    parameters = inputs.model_run["parameters"]
    window = float(parameters["trend_window_days"])
    rule = (
        f"A hashtag or sound is rising when at least {parameters['trend_min_videos']} of the "
        f"dataset's videos of the past {window:g} days use it and its share of those videos is "
        f"at least {float(parameters['trend_growth']):g} × its share in the "
        f"{float(parameters['trend_baseline_days']):g} days before — rising among these "
        "accounts, not on all of TikTok."
    )
    if inputs.trends.empty:
        return _paragraph(
            f"{rule} No hashtag or sound could be counted: the videos have no posting time, "
            "hashtags or sound."
        )
    rising = rising_trends(inputs.trends)
    if rising.empty:
        return _paragraph(f"{rule} None was rising in any {window:g}-day window of the dataset.")
    shown = rising.head(MAX_TRENDS_SHOWN)
    columns = [
        ("Hashtag or sound", ""),
        ("Kind", ""),
        ("Latest rising window", "num"),
        ("Videos in it", "num"),
        ("Share", "num"),
        ("Share before", "num"),
        ("Windows rising", "num"),
    ]
    rows = [
        [
            _text(f"#{row.name}" if row.kind == "hashtag" else row.name),
            _text(row.kind),
            _text(f"{day(row.window_start)} – {day(row.window_end)}"),
            _text(whole(row.videos)),
            _text(percent(row.share)),
            _text(percent(row.baseline_share)),
            _text(whole(row.rising_windows)),
        ]
        for row in shown.itertuples(index=False)
    ]
    more = (
        _paragraph(f"And {len(rising) - len(shown)} more, not shown.")
        if len(rising) > len(shown)
        else ""
    )
    return (
        _paragraph(rule)
        + _figure(
            "rising-trends",
            plots.trends_plot(shown),
            "Each one's share of the videos posted in its latest rising window, against its "
            "share before.",
        )
        + _table(columns, rows, "trends-table")
        + more
    )


def _methods_section(inputs: ReportInputs, overview: Overview) -> str:
    run = inputs.model_run
    parameters = run["parameters"]
    dropped = run["dropped_features"] or {}
    analyzers = ", ".join(overview.analyzers) or "none"
    points = [
        "Data: the latest videos of the dataset's accounts that passed quality control, with "
        f"their counts as scraped (up to {instant(overview.last_scrape)}). A young video has "
        "had less time to collect views; the model sees its age.",
        f"Label: viral = at least {float(parameters['viral_multiple']):g} × the account's median "
        f"views, for accounts with at least {parameters['min_account_videos']} videos; the "
        "median counts the video itself.",
        "Model: gradient-boosted trees predicting each video's views relative to its account's "
        f"median from {len(run['selected_features'])} features known before it was posted or "
        "from the video itself; engagement counts, which grow with views, are left out "
        f"({len(dropped)} columns in all, listed below).",
        f"Validation: {parameters['folds']}-fold cross-validation by account (an account's "
        "videos are never both in training and in test); every score is computed on the "
        "pooled held-out predictions. The baselines rank videos by their account's followers, "
        "or by the median views of the account's other videos.",
        "Feature importance: permutation importance on held-out videos; the typical effect "
        "compares each video's prediction with the prediction for the usual value of the "
        "feature (occlusion).",
        f"Analyses: by the {analyzers} analyzer."
        + (
            " The offline analyzer reads only a video's metadata, so its ai_* features echo the "
            "caption rather than the picture."
            if "offline" in overview.analyzers
            else ""
        ),
        "Caveats: a dataset of a few accounts is a small, hand-picked corner of TikTok; the "
        "model finds associations, not causes; with few viral videos every score is rough.",
    ]
    dropped_rows = [[_text(feature), _text(reason)] for feature, reason in dropped.items()]
    return (
        "<ul>"
        + "".join(f"<li>{_text(point)}</li>" for point in points)
        + "</ul>"
        + "<details><summary>Columns left out of the model, and why</summary>"
        + _table([("Column", ""), ("Reason", "")], dropped_rows, "dropped-features")
        + "</details>"
        + _paragraph(
            "Parameters: "
            + ", ".join(f"{name} = {value}" for name, value in sorted(parameters.items()))
            + "."
        )
    )


def _driver(feature: Any, value: Any, effect: Any) -> str:
    if is_missing(feature):
        return MISSING
    return f"{feature} = {value}: {multiple(effect)}"


def _is_true(value: Any) -> bool:
    return not is_missing(value) and bool(value)


def _caption_cell(caption: Any) -> str:
    if is_missing(caption) or not str(caption).strip():
        return f'<span class="note">{MISSING}</span>'
    flat = _WHITESPACE.sub(" ", str(caption)).strip()
    excerpt = flat if len(flat) <= CAPTION_EXCERPT else flat[: CAPTION_EXCERPT - 1] + "…"
    return f'<span title="{_text(flat[:500])}">{_text(excerpt)}</span>'


def _link(url: Any, label: str) -> str:
    """An anchor to an http(s) URL; anything else (none, javascript:, data:) is not linked."""
    if is_missing(url) or not _LINKABLE.match(str(url)):
        return f'<span class="note">{MISSING}</span>'
    return f'<a href="{_text(url)}" target="_blank" rel="noopener noreferrer">{_text(label)}</a>'


def _table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]], table_id: str) -> str:
    """A table of cells already in HTML; `columns` are (heading, CSS class) pairs."""
    head = "".join(f'<th class="{css}">{_text(heading)}</th>' for heading, css in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{css}">{cell}</td>' for (_, css), cell in zip(columns, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _figure(name: str, svg: str, caption: str) -> str:
    return f'<figure data-plot="{name}">{svg}<figcaption>{_text(caption)}</figcaption></figure>'


def _paragraph(text: str) -> str:
    return f"<p>{_text(text)}</p>"


def _text(value: Any) -> str:
    return html.escape(str(value), quote=True)


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
"""
