"""The report's sections about the dataset itself: its overview, how views and engagement are
spread, its top and bottom videos, its accounts and its rising hashtags and sounds. They are apart
from the model's sections (model_sections.py) because they describe what was scraped, and read
the model only for the label and the predictions shown beside each video."""

from __future__ import annotations

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
from tiktok_virality.defs.report.markup import caption_cell, escaped, figure, link, paragraph, table
from tiktok_virality.defs.report.summaries import (
    Overview,
    account_summary,
    account_views,
    rising_trends,
    top_and_bottom,
)

TOP_VIDEOS = 10
MAX_ACCOUNTS_PLOTTED = 30
MAX_TRENDS_SHOWN = 12


def no_videos(dataset: str) -> str:
    """What a report of no video says instead of its numbers: what can have happened, and where
    to see which it was (the report does not read the rejected videos)."""
    return (
        "No video of this dataset passed quality control: none was scraped, or every one was "
        "rejected (fewer views than the minimum, older than the max age counted from when it was "
        "scraped, or incomplete), so there is nothing to describe or model. "
        f"`tiktok-virality status --dataset {dataset}` shows how many were scraped and rejected, "
        "and the errors."
    )


def overview_section(inputs: ReportInputs, overview: Overview) -> str:
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
        f'<div class="card"><div class="value">{escaped(value)}</div>'
        f'<div class="label">{escaped(label)}</div></div>'
        for value, label in cards
    )
    left_out = (
        paragraph(f"Left out by quality control: {'; '.join(inputs.left_out)}.")
        if inputs.left_out
        else ""
    )
    return (
        f'<div class="cards">{card_html}</div>\n'
        + left_out
        + paragraph(_model_status(inputs, overview))
    )


def _model_status(inputs: ReportInputs, overview: Overview) -> str:
    if overview.videos == 0:
        return no_videos(inputs.dataset)
    run = inputs.model_run
    multiple_k = run["parameters"]["viral_multiple"]
    label = (
        f"A video is viral when it has at least {multiple_k:g} × its account's median views "
        "(or, for an account of too few videos, × what an account of its size gets at that "
        "age; see Methods). "
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


def engagement_section(videos: pd.DataFrame) -> str:
    views = videos["views"].dropna().to_numpy(dtype=float)
    rates = videos["engagement_rate"].dropna().to_numpy(dtype=float)
    if len(views) == 0:
        return paragraph("No video has a view count yet.")
    figures = [
        figure("views-histogram", plots.views_histogram(views), "Views per video."),
    ]
    if len(rates):
        figures.append(
            figure(
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
        paragraph(
            "How views and engagement are spread over the videos. Views span orders of "
            "magnitude, so they are shown on a log scale; most of their spread is between "
            "accounts, which is why the virality label compares each video with its own "
            "account's median."
        )
        + f'<div class="plots">{"".join(figures)}</div>'
        + figure(
            "account-views",
            plots.account_views_plot(per_account),
            f"{shown}Views per video by account (box: middle half of its videos, line: median; "
            "dots: videos, viral ones highlighted).",
        )
    )


def videos_section(videos: pd.DataFrame) -> str:
    top, bottom = top_and_bottom(videos, TOP_VIDEOS)
    if top.empty:
        return paragraph("No video can be compared with its account's median views yet.")
    return (
        paragraph(
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
            caption_cell(video.caption)
            + f'<div class="note">{escaped(video.account)} · {escaped(day(video.created_at))}</div>',
            escaped(compact(video.views)),
            escaped(multiple(video.views_vs_account_median))
            + (' <span class="badge">viral</span>' if _is_true(video.viral) else ""),
            escaped(percent(video.engagement_rate)),
            escaped(multiple(video.predicted_multiple)),
            escaped(_driver(video.top_feature_1, video.top_value_1, video.top_effect_1)),
            f"{link(video.url, 'video')} · {link(video.cover_url, 'cover')}",
        ]
        for video in videos.itertuples(index=False)
    ]
    return table(columns, rows, table_id)


def accounts_section(videos: pd.DataFrame) -> str:
    if videos.empty:
        return paragraph("No account has a video in the dataset.")
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
            escaped(row.account),
            escaped(row.name if row.name is not None else MISSING),
            escaped(compact(row.followers)),
            escaped(whole(row.videos)),
            escaped(compact(row.median_views)),
            escaped(percent(row.median_engagement_rate)),
            escaped(multiple(row.best_multiple)),
            escaped(whole(row.viral_videos)),
        ]
        for row in summary.itertuples(index=False)
    ]
    return paragraph(
        "One row per account, by median views. “Viral videos” is empty for an account with "
        "too few videos to have a label."
    ) + table(columns, rows, "account-summary")


def trends_section(inputs: ReportInputs) -> str:
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
        why = (
            "the dataset has no video"
            if inputs.raw_videos.empty
            else "the videos have no posting time, hashtags or sound"
        )
        return paragraph(f"{rule} No hashtag or sound could be counted: {why}.")
    rising = rising_trends(inputs.trends)
    if rising.empty:
        return paragraph(f"{rule} None was rising in any {window:g}-day window of the dataset.")
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
            escaped(f"#{row.name}" if row.kind == "hashtag" else row.name),
            escaped(row.kind),
            escaped(f"{day(row.window_start)} – {day(row.window_end)}"),
            escaped(whole(row.videos)),
            escaped(percent(row.share)),
            escaped(percent(row.baseline_share)),
            escaped(whole(row.rising_windows)),
        ]
        for row in shown.itertuples(index=False)
    ]
    more = (
        paragraph(f"And {len(rising) - len(shown)} more, not shown.")
        if len(rising) > len(shown)
        else ""
    )
    return (
        paragraph(rule)
        + figure(
            "rising-trends",
            plots.trends_plot(shown),
            "Each one's share of the videos posted in its latest rising window, against its "
            "share before.",
        )
        + table(columns, rows, "trends-table")
        + more
    )


def _driver(feature: Any, value: Any, effect: Any) -> str:
    if is_missing(feature):
        return MISSING
    return f"{feature} = {value}: {multiple(effect)}"


def _is_true(value: Any) -> bool:
    return not is_missing(value) and bool(value)
