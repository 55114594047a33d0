"""The tables of the assets made from a whole dataset (the virality model's outputs), partitioned by
dataset: their contracts, apart from the per-batch video tables (`tables.py`) only to keep each
module small; the same `TableContract` serves both."""

from __future__ import annotations

from tiktok_virality.warehouse.contracts import VIDEO_KEY_COLUMNS, TableContract, columns_of

_DATASET_KEY = (("dataset", "VARCHAR", "Dataset name (partition)."),)
_MODELS_METRICS = [
    (model, metric)
    for model in ("model", "baseline_followers", "baseline_account_median")
    for metric in ("roc_auc", "pr_auc", "spearman", "spearman_relative")
]
_METRIC_MEANINGS = {
    "roc_auc": "ROC-AUC of the viral label",
    "pr_auc": "PR-AUC (average precision) of the viral label",
    "spearman": "Spearman correlation with log views",
    "spearman_relative": "Spearman correlation with views relative to the account's median",
}
_MODEL_NAMES = {
    "model": "the model",
    "baseline_followers": "the followers-only baseline",
    "baseline_account_median": "the account-median baseline",
}

MODEL_RUNS = TableContract(
    name="model_runs",
    description="One row per dataset: the virality model's latest cross-validated evaluation.",
    columns=columns_of(
        *_DATASET_KEY,
        ("trained_at", "TIMESTAMPTZ", "When the model was trained (UTC)."),
        ("evaluated", "BOOLEAN", "Whether the dataset was large enough to evaluate a model."),
        ("reason", "VARCHAR", "Why not, when it was not evaluated."),
        ("videos", "BIGINT", "Videos with features in the dataset."),
        ("accounts", "BIGINT", "Their accounts."),
        ("labelled_videos", "BIGINT", "Videos with a virality label (the ones modelled)."),
        ("labelled_accounts", "BIGINT", "Their accounts."),
        ("viral_videos", "BIGINT", "Labelled videos that are viral."),
        ("viral_share", "DOUBLE", "viral_videos / labelled_videos."),
        ("folds", "BIGINT", "Cross-validation folds used (accounts never span two)."),
        (
            "label_bases",
            "JSON",
            "Labelled videos per label basis: account_median, followers_and_age, age.",
        ),
        *(
            (
                f"{model}_{metric}",
                "DOUBLE",
                f"{_METRIC_MEANINGS[metric]}, out of fold, of {_MODEL_NAMES[model]}.",
            )
            for model, metric in _MODELS_METRICS
        ),
        ("residual_sd", "DOUBLE", "Spread of the out-of-fold errors behind viral_probability."),
        (
            "too_small",
            "VARCHAR",
            "Why the dataset is too small for a claim (under 10 viral videos or labelled "
            "accounts); null when it is not.",
        ),
        (
            "explained_share",
            "DOUBLE",
            "Share of the spread in relative log views the model explains, out of fold.",
        ),
        ("explained_share_low", "DOUBLE", "Its 95% interval's low end (accounts resampled)."),
        ("explained_share_high", "DOUBLE", "Its 95% interval's high end."),
        (
            "metric_intervals",
            "JSON",
            "95% interval [low, high] of every metric above, from resampling accounts.",
        ),
        (
            "time_ordered",
            "JSON",
            "The evaluation trained on older and tested on newer videos: videos, accounts, "
            "viral videos, values and intervals, or the reason it was not made.",
        ),
        ("parameters", "JSON", "Every model parameter (k, windows, folds, hyperparameters)."),
        ("selected_features", "VARCHAR[]", "The features the model used."),
        ("dropped_features", "JSON", "The columns left out, each with its reason."),
    ),
    preview_columns=("dataset", "evaluated", "model_roc_auc", "baseline_followers_roc_auc"),
)

VIDEO_PREDICTIONS = TableContract(
    name="video_predictions",
    description=(
        "One row per labelled video: its label's basis, its out-of-fold prediction and what "
        "drove it."
    ),
    columns=columns_of(
        *VIDEO_KEY_COLUMNS,
        ("fold", "BIGINT", "The cross-validation fold the video was held out in."),
        ("views", "BIGINT", "Views."),
        (
            "label_basis",
            "VARCHAR",
            "What the views are compared with: account_median (the account's median, 3+ "
            "videos), followers_and_age (what an account of its size gets at that age) or age "
            "(what a video of that age gets; exports without follower counts).",
        ),
        (
            "expected_views",
            "DOUBLE",
            "The views compared with: the account's median, or the peer line's (fitted on the "
            "other folds).",
        ),
        ("viral_threshold_views", "DOUBLE", "k × expected_views."),
        ("viral", "BOOLEAN", "The virality label: views ≥ viral_threshold_views."),
        ("views_multiple", "DOUBLE", "Views / expected_views."),
        ("predicted_multiple", "DOUBLE", "The predicted views / expected_views."),
        ("viral_probability", "DOUBLE", "A score for ranking videos by virality, 0–1."),
        ("log_views", "DOUBLE", "ln(1 + views)."),
        ("predicted_log_views", "DOUBLE", "The predicted ln(1 + views)."),
        *(
            row
            for rank in (1, 2, 3)
            for row in (
                (f"top_feature_{rank}", "VARCHAR", f"The feature with effect no. {rank}."),
                (f"top_value_{rank}", "VARCHAR", "Its value for this video."),
                (
                    f"top_effect_{rank}",
                    "DOUBLE",
                    "Factor on the predicted views of this value against the usual one.",
                ),
            )
        ),
    ),
    preview_columns=(
        "account",
        "video_id",
        "views",
        "label_basis",
        "viral",
        "viral_probability",
        "top_feature_1",
    ),
)

FEATURE_IMPORTANCE = TableContract(
    name="feature_importance",
    description="One row per feature the model used, most important first.",
    columns=columns_of(
        *_DATASET_KEY,
        ("feature", "VARCHAR", "The feature."),
        ("rank", "BIGINT", "1 = the most important."),
        (
            "spearman_relative_drop",
            "DOUBLE",
            "Drop of spearman_relative when the feature is shuffled among held-out videos.",
        ),
        ("spearman_relative_drop_sd", "DOUBLE", "Its spread over the shuffles."),
        ("roc_auc_drop", "DOUBLE", "Drop of the ROC-AUC when it is shuffled."),
        ("roc_auc_drop_sd", "DOUBLE", "Its spread over the shuffles."),
        ("mean_abs_log_effect", "DOUBLE", "Mean |log effect| of the feature on the predictions."),
    ),
    preview_columns=("feature", "rank", "spearman_relative_drop", "roc_auc_drop"),
)

DRIVERS = TableContract(
    name="drivers",
    description=(
        "The model's top features as drivers: the videos having each against the others, in "
        "multiples of what their label compares them with."
    ),
    columns=columns_of(
        *_DATASET_KEY,
        ("rank", "BIGINT", "The feature's importance rank."),
        ("feature", "VARCHAR", "The feature."),
        (
            "having_it",
            "VARCHAR",
            "What having it means: a flag true, a number at or above its median, the most "
            "frequent category.",
        ),
        ("videos_with", "BIGINT", "Labelled videos having it."),
        ("videos_without", "BIGINT", "Labelled videos with a value, not having it."),
        (
            "median_multiple_with",
            "DOUBLE",
            "Median views_multiple of the videos having it; null when either group has fewer "
            "than 5 videos.",
        ),
        ("median_multiple_without", "DOUBLE", "The same of the others."),
        ("ratio", "DOUBLE", "median_multiple_with / median_multiple_without."),
        ("ratio_low", "DOUBLE", "Its 95% interval's low end (accounts resampled)."),
        ("ratio_high", "DOUBLE", "Its 95% interval's high end."),
    ),
    preview_columns=("rank", "having_it", "videos_with", "ratio", "ratio_low", "ratio_high"),
)

TRENDS = TableContract(
    name="trends",
    description="Hashtags and sounds per time window of a dataset, and whether they were rising.",
    columns=columns_of(
        *_DATASET_KEY,
        ("kind", "VARCHAR", "hashtag or sound."),
        ("item", "VARCHAR", "The hashtag, or the sound's id."),
        ("name", "VARCHAR", "The hashtag, or the sound's name."),
        ("window_start", "TIMESTAMPTZ", "Start of the window (UTC)."),
        ("window_end", "TIMESTAMPTZ", "End of the window (UTC)."),
        ("videos", "BIGINT", "The dataset's videos posted in the window using it."),
        ("share", "DOUBLE", "Their share of the window's videos."),
        ("baseline_videos", "BIGINT", "Videos using it in the baseline weeks before the window."),
        ("baseline_share", "DOUBLE", "Their share of the baseline's videos."),
        ("rising", "BOOLEAN", "Rising at the window's end (enough videos, share grown enough)."),
    ),
    preview_columns=("kind", "name", "window_end", "videos", "rising"),
)
