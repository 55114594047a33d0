"""The report's sections about the virality model: which features it relies on, how it scores
against its baselines and what that means, and how every number of the page was made (methods and
caveats). They are apart from the dataset's sections (dataset_sections.py) because they read the
model's run, metrics and importance rather than the videos."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tiktok_virality.defs.model.label import LABEL_BASIS_DESCRIPTIONS, LabelBasis
from tiktok_virality.defs.report import plots
from tiktok_virality.defs.report.formatting import (
    count_of,
    instant,
    is_missing,
    multiple,
    percent,
    score,
    whole,
)
from tiktok_virality.defs.report.inputs import ReportInputs
from tiktok_virality.defs.report.markup import escaped, figure, paragraph, table
from tiktok_virality.defs.report.summaries import Overview
from tiktok_virality.warehouse.contracts import VIDEO_KEY

MAX_FEATURES_PLOTTED = 15
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


def importance_section(inputs: ReportInputs) -> str:
    importance = inputs.importance.sort_values("rank", kind="stable").reset_index(drop=True)
    if importance.empty:
        return paragraph(
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
            escaped(whole(row.rank)),
            escaped(row.feature),
            escaped(
                f"{score(row.spearman_relative_drop)} ± {score(row.spearman_relative_drop_sd)}"
            ),
            escaped(f"{score(row.roc_auc_drop)} ± {score(row.roc_auc_drop_sd)}"),
            escaped(multiple(math.exp(row.mean_abs_log_effect))),
        ]
        for row in importance.itertuples(index=False)
    ]
    return (
        paragraph(
            "How much the model's ranking of held-out videos (the rank correlation of predicted "
            "and actual views against their account's median) gets worse when one feature's "
            "values are shuffled: the more it drops, the more the model relies on the feature. "
            "A drop near 0 means the feature adds nothing the others do not. “Typical effect” "
            "is the average factor by which a video's value of the feature, against the usual "
            "value, moves its predicted views."
        )
        + figure(
            "feature-importance",
            plots.importance_plot(plotted),
            (
                f"The {len(plotted)} most important of {len(importance)} features"
                if len(plotted) < len(importance)
                else f"All {len(importance)} features"
            )
            + " (± their spread over the shuffles).",
        )
        + table(columns, rows, "importance-table")
    )


def model_section(inputs: ReportInputs) -> str:
    run = inputs.model_run
    if not run["evaluated"] and not run["videos"]:
        return paragraph("The model was not evaluated: the dataset has no video to model.")
    if not run["evaluated"]:
        return paragraph(
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
    values = {
        f"{row.model}_{metric}": getattr(row, metric)
        for row in metrics.itertuples(index=False)
        for metric in METRIC_LABELS
    }
    viral_multiple = float(run["parameters"]["viral_multiple"])
    return (
        (paragraph(f"Caution: {run['too_small']}.") if run.get("too_small") else "")
        + figure(
            "model-vs-baselines",
            plots.metrics_plot(metrics, chance, METRIC_LABELS, MODEL_LABELS),
            "Out-of-fold scores of the model and of ranking by one number (higher is better); "
            "dashed: what guessing scores.",
        )
        + "<h3>What this means</h3>"
        + paragraph(_model_meaning(run))
        + paragraph("Scores in brackets: 95% intervals from resampling the accounts.")
        + table(
            columns,
            _metric_rows(values, run.get("metric_intervals") or {}, chance),
            "metrics-table",
        )
        + _time_ordered_section(run.get("time_ordered") or {}, columns, chance)
        + figure(
            "predictions",
            plots.predictions_plot(
                inputs.predictions.sort_values(VIDEO_KEY, ignore_index=True), viral_multiple
            ),
            "Each labelled video's predicted against its actual views relative to its "
            "account's median, predicted by a model that never saw the account.",
        )
    )


def _metric_rows(
    values: Mapping[str, Any], intervals: Mapping[str, Any], chance: Mapping[str, float]
) -> list[list[str]]:
    """A row per metric: each model's score with its 95% interval, and what guessing scores."""
    return [
        [
            escaped(label),
            *(
                escaped(
                    _with_interval(
                        values.get(f"{model}_{metric}"), intervals.get(f"{model}_{metric}")
                    )
                )
                for model in MODEL_LABELS
            ),
            escaped(score(chance[metric])),
        ]
        for metric, label in METRIC_LABELS.items()
    ]


def _with_interval(value: Any, interval: Any) -> str:
    low, high = interval or (None, None)
    if is_missing(low) or is_missing(high):
        return score(value)
    return f"{score(value)} ({score(low)} to {score(high)})"


def _explained(run: Mapping[str, Any]) -> str:
    share = run.get("explained_share")
    if share is None:
        return ""
    low, high = run.get("explained_share_low"), run.get("explained_share_high")
    interval = (
        ""
        if low is None or high is None
        else f" (95% interval {percent(low, 0)} to {percent(high, 0)})"
    )
    return (
        f"Beyond the creator's level — what the label compares each video with — the model "
        f"explains {percent(share, 0)}{interval} of the spread in views."
    )


def drivers_section(inputs: ReportInputs) -> str:
    """The top features as drivers: how many videos have each, and their typical multiple of
    their creator's level against the others', with 95% intervals."""
    run = inputs.model_run
    if not run["evaluated"] or inputs.drivers.empty:
        return paragraph("No drivers: the model was not evaluated.")
    columns = [
        ("Rank", "num"),
        ("Videos having", ""),
        ("Videos", "num"),
        ("Others", "num"),
        ("Median multiple", "num"),
        ("Others' median", "num"),
        ("Ratio (95% interval)", "num"),
    ]
    rows = [
        [
            escaped(whole(row.rank)),
            escaped(row.having_it),
            escaped(whole(row.videos_with)),
            escaped(whole(row.videos_without)),
            escaped(multiple(row.median_multiple_with)),
            escaped(multiple(row.median_multiple_without)),
            escaped(
                "too few videos"
                if is_missing(row.ratio)
                else _with_interval(row.ratio, (row.ratio_low, row.ratio_high))
            ),
        ]
        for row in inputs.drivers.sort_values("rank").itertuples(index=False)
    ]
    return (
        paragraph(
            "For each of the model's most important features: how many labelled videos have it, "
            "and the median of their views as a multiple of what their label compares them with "
            "(their account's median, or what their peers get), against the other videos'. A "
            "ratio of 1.5 means videos having it typically reach half as many views again; an "
            "interval that spans 1 says the dataset cannot tell. Associations, not causes."
        )
        + paragraph(_explained(run))
        + (paragraph(f"Caution: {run['too_small']}.") if run.get("too_small") else "")
        + table(columns, rows, "drivers-table")
    )


def _time_ordered_section(
    evaluation: Mapping[str, Any], columns: list[tuple[str, str]], chance: Mapping[str, float]
) -> str:
    heading = "<h3>Trained on older videos, tested on newer ones</h3>"
    if not evaluation.get("values"):
        reason = evaluation.get("reason") or "not made"
        return heading + paragraph(f"This evaluation was not made: {reason}.")
    intro = (
        f"The model fitted on the older videos only, scored on the "
        f"{count_of(evaluation['videos'], 'newest video')} ({whole(evaluation['viral_videos'])} "
        "viral): does what it learned still hold later?"
        + (f" Caution: {evaluation['too_small']}." if evaluation.get("too_small") else "")
    )
    rows = _metric_rows(evaluation["values"], evaluation["intervals"], chance)
    return heading + paragraph(intro) + table(columns, rows, "time-ordered-table")


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


def label_explanation(run: Mapping[str, Any]) -> str:
    """What each labelled video was compared with, and for how many videos."""
    parameters = run["parameters"]
    bases = run.get("label_bases") or {}
    described = {
        LabelBasis.ACCOUNT_MEDIAN: (
            f"{LABEL_BASIS_DESCRIPTIONS[LabelBasis.ACCOUNT_MEDIAN]} (accounts with at least "
            f"{parameters['min_account_videos']} videos; the median counts the video itself)"
        ),
        LabelBasis.FOLLOWERS_AND_AGE: LABEL_BASIS_DESCRIPTIONS[LabelBasis.FOLLOWERS_AND_AGE]
        + ", fitted on the other folds' videos for the evaluated ones",
        LabelBasis.AGE: LABEL_BASIS_DESCRIPTIONS[LabelBasis.AGE],
    }
    parts = [
        f"for {count_of(bases[basis.value], 'video')}, {text}"
        for basis, text in described.items()
        if bases.get(basis.value)
    ]
    return (
        f"Label: viral = at least {float(parameters['viral_multiple']):g} × the views a video is "
        "compared with: " + ("; ".join(parts) or "no video is labelled") + "."
    )


def methods_section(inputs: ReportInputs, overview: Overview) -> str:
    run = inputs.model_run
    parameters = run["parameters"]
    dropped = run["dropped_features"] or {}
    scraped = (
        f" (up to {instant(overview.last_scrape)})" if overview.last_scrape is not None else ""
    )
    points = [
        "Data: the latest videos of the dataset's accounts that passed quality control, with "
        f"their counts as scraped{scraped}. A young video has had less time to collect views; "
        "the model sees its age.",
        label_explanation(run),
        "Model: gradient-boosted trees predicting each video's views relative to what its "
        f"label compares them with, from {len(run['selected_features'])} features known before it was posted or "
        "from the video itself; engagement counts, which grow with views, are left out "
        f"({len(dropped)} columns in all, listed below).",
        f"Validation: {parameters['folds']}-fold cross-validation by account (an account's "
        "videos are never both in training and in test); every score is computed on the "
        "pooled held-out predictions. The baselines rank videos by their account's followers, "
        "or by the median views of the account's other videos.",
        "Feature importance: permutation importance on held-out videos; the typical effect "
        "compares each video's prediction with the prediction for the usual value of the "
        "feature (occlusion).",
        (
            f"Analyses: by the {', '.join(overview.analyzers)} analyzer."
            if overview.analyzers
            else "Analyses: none; no video was analysed."
        )
        + (
            " The offline analyzer reads only a video's metadata, so its ai_* features echo the "
            "caption rather than the picture."
            if "offline" in overview.analyzers
            else ""
        ),
        "Caveats: a dataset of a few accounts is a small, hand-picked corner of TikTok; the "
        "model finds associations, not causes; with few viral videos every score is rough.",
    ]
    dropped_rows = [[escaped(feature), escaped(reason)] for feature, reason in dropped.items()]
    return (
        "<ul>"
        + "".join(f"<li>{escaped(point)}</li>" for point in points)
        + "</ul>"
        + "<details><summary>Columns left out of the model, and why</summary>"
        + table([("Column", ""), ("Reason", "")], dropped_rows, "dropped-features")
        + "</details>"
        + paragraph(
            "Parameters: "
            + ", ".join(f"{name} = {value}" for name, value in sorted(parameters.items()))
            + "."
        )
    )
