"""The DuckDB tables the assets materialize into: one contract per table, shared by the assets (which
produce frames with these columns), the IO manager (which creates and evolves the tables with these
types) and the Dagster UI (which shows them as the asset's column schema)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    description: str


@dataclass(frozen=True)
class TableContract:
    name: str
    description: str
    columns: tuple[Column, ...]
    # What the Dagster UI shows of a stored partition.
    preview_columns: tuple[str, ...] = ("account", "video_id")

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def sql_types(self) -> dict[str, str]:
        return {column.name: column.sql_type for column in self.columns}

    def dagster_schema(self) -> dg.TableSchema:
        return dg.TableSchema(
            columns=[
                dg.TableColumn(name=c.name, type=c.sql_type, description=c.description)
                for c in self.columns
            ]
        )

    def empty_frame(self) -> pd.DataFrame:
        # Imported here: `status` reads the contracts' names and must not wait for pandas.
        import pandas as pd

        return pd.DataFrame({name: pd.Series(dtype="object") for name in self.column_names})


def _columns(*rows: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)


_KEY_COLUMNS = (
    ("dataset", "VARCHAR", "Dataset name (partition dimension)."),
    ("batch", "VARCHAR", "Account batch, e.g. b001 (partition dimension)."),
    ("account", "VARCHAR", "The planned account (TikTok username) the video was scraped for."),
    ("video_id", "VARCHAR", "TikTok video id (19 digits; a string, never a float)."),
)
VIDEO_IDENTITY_COLUMNS = [name for name, _, _ in _KEY_COLUMNS]
"""The columns every per-video table starts with: dataset, batch, account, video_id."""
VIDEO_KEY = ["dataset", "batch", "video_id"]
"""What tells the rows of one video apart from all others when tables are joined."""
ACCOUNT_KEY = ["dataset", "account"]
"""What groups an account's videos across its batches (its median views, its label)."""

PANDAS_DTYPES = {
    "BIGINT": "Int64",
    "INTEGER": "Int32",
    "DOUBLE": "Float64",
    "BOOLEAN": "boolean",
    "TIMESTAMPTZ": "datetime64[ns, UTC]",
}
"""The pandas dtype that holds each SQL type with its nulls (NumPy's int64 and bool cannot); the
other types (text, lists, JSON) are left to each frame."""

RAW_VIDEOS = TableContract(
    name="raw_videos",
    description="One row per scraped video, normalized from Apify's TikTok scraper items.",
    columns=_columns(
        *_KEY_COLUMNS,
        ("url", "VARCHAR", "The video's TikTok page."),
        ("author_id", "VARCHAR", "Author's TikTok user id."),
        ("author_name", "VARCHAR", "Author's username."),
        ("author_nickname", "VARCHAR", "Author's display name."),
        ("author_verified", "BOOLEAN", "Author has a verified badge."),
        ("author_followers", "BIGINT", "Author's followers at scrape time."),
        ("author_following", "BIGINT", "Accounts the author follows."),
        ("author_likes", "BIGINT", "Total likes the author has received."),
        ("author_video_count", "BIGINT", "Videos on the author's profile."),
        ("author_region", "VARCHAR", "Author's region code, e.g. US."),
        ("caption", "VARCHAR", "The video's description text."),
        ("language", "VARCHAR", "Caption language as detected by TikTok."),
        ("hashtags", "VARCHAR[]", "Hashtags, lower case, without '#'."),
        ("mentions", "VARCHAR[]", "Mentioned usernames, without '@'."),
        ("play_count", "BIGINT", "Views."),
        ("like_count", "BIGINT", "Likes (diggs)."),
        ("comment_count", "BIGINT", "Comments."),
        ("share_count", "BIGINT", "Shares."),
        ("save_count", "BIGINT", "Saves (collects); null in exports that lack it."),
        ("created_at", "TIMESTAMPTZ", "When the video was posted (UTC)."),
        ("music_id", "VARCHAR", "Sound id."),
        ("music_name", "VARCHAR", "Sound title."),
        ("music_author", "VARCHAR", "Sound author."),
        ("music_original", "BOOLEAN", "The sound is the creator's original sound."),
        (
            "duration_seconds",
            "INTEGER",
            "Video length; slideshows report their music track's length, or 0 in some exports.",
        ),
        ("width", "INTEGER", "Video width in pixels."),
        ("height", "INTEGER", "Video height in pixels."),
        ("video_url", "VARCHAR", "Downloadable media (Apify key-value store record or CDN)."),
        ("cover_url", "VARCHAR", "Cover image."),
        ("is_ad", "BOOLEAN", "Marked as an ad."),
        ("is_pinned", "BOOLEAN", "Pinned on the profile."),
        ("is_slideshow", "BOOLEAN", "A photo slideshow, not a video."),
        ("is_sponsored", "BOOLEAN", "Marked as sponsored."),
        ("slideshow_image_count", "INTEGER", "Images in a slideshow; 0 for videos."),
        ("scraped_at", "TIMESTAMPTZ", "When the item was scraped (UTC)."),
        ("raw_item", "JSON", "The Apify item as received, to re-derive columns without scraping."),
    ),
    preview_columns=("account", "video_id", "play_count", "created_at", "caption"),
)

REJECTED_VIDEOS = TableContract(
    name="rejected_videos",
    description=(
        "Scraped videos that failed quality control, with the rules they failed; kept out of the "
        "analyses and features."
    ),
    columns=(
        *RAW_VIDEOS.columns,
        Column(
            "rejection_reasons",
            "VARCHAR[]",
            "Rules failed: required_fields, valid_ranges, not_in_future, min_views, max_age.",
        ),
    ),
    preview_columns=("account", "video_id", "play_count", "rejection_reasons"),
)

VIDEO_ANALYSES = TableContract(
    name="video_analyses",
    description="One row per analysed video: the analysis schema flattened into columns.",
    columns=_columns(
        *_KEY_COLUMNS,
        ("analyzer", "VARCHAR", "'offline' (metadata only) or 'gemini'."),
        ("model", "VARCHAR", "Model that produced the analysis; null for the offline analyzer."),
        ("schema_version", "VARCHAR", "Version of the analysis schema."),
        (
            "input_kind",
            "VARCHAR",
            "What was analysed: 'metadata', 'video' or 'metadata_and_cover'.",
        ),
        ("analyzed_at", "TIMESTAMPTZ", "When the analysis was made (UTC)."),
        ("visual_style", "VARCHAR", "Visual style, e.g. talking_head, b_roll, screen_recording."),
        ("setting", "VARCHAR", "Where it was filmed, e.g. home, studio, outdoor_nature."),
        ("people_on_screen", "INTEGER", "People visible in the video."),
        ("face_in_first_seconds", "BOOLEAN", "A face appears in the first two seconds."),
        ("visual_quality_score", "DOUBLE", "Visual appeal, 0-10."),
        (
            "hook_type",
            "VARCHAR",
            "How the first seconds grab attention, e.g. question, bold_claim.",
        ),
        ("hook_score", "DOUBLE", "Strength of the hook, 0-10."),
        ("pacing", "VARCHAR", "slow, medium or fast."),
        ("structure", "VARCHAR", "Narrative structure, e.g. tutorial, story, list, skit."),
        ("content_category", "VARCHAR", "Topic, e.g. tech, food, politics, comedy."),
        ("has_call_to_action", "BOOLEAN", "Asks viewers to follow, comment, share or click."),
        ("primary_emotion", "VARCHAR", "Dominant emotion, e.g. joy, surprise, curiosity."),
        ("humor_score", "DOUBLE", "How funny, 0-10."),
        ("relatability_score", "DOUBLE", "How relatable, 0-10."),
        ("has_text_overlay", "BOOLEAN", "On-screen text is used."),
        ("audio_type", "VARCHAR", "speech, voiceover, music, speech_and_music, none or other."),
        ("editing_score", "DOUBLE", "Editing craft (cuts, transitions), 0-10."),
        ("production_quality_score", "DOUBLE", "Overall production quality, 0-10."),
        ("uses_trending_sound", "BOOLEAN", "The sound is a recognizable trend."),
        ("trend_format", "VARCHAR", "A recognizable trend format, if any."),
        ("trend_alignment_score", "DOUBLE", "Fit with current trends, 0-10."),
        ("improvement_suggestions", "VARCHAR[]", "Concrete suggestions to improve the video."),
        ("summary", "VARCHAR", "One-paragraph description of the video."),
        ("analysis_json", "JSON", "The full analysis record as produced."),
    ),
    preview_columns=("video_id", "analyzer", "input_kind", "hook_score", "content_category"),
)

VIDEO_FEATURES = TableContract(
    name="video_features",
    description="One row per video: features for modelling virality.",
    columns=_columns(
        *_KEY_COLUMNS,
        ("views", "BIGINT", "Views."),
        ("likes", "BIGINT", "Likes."),
        ("comments", "BIGINT", "Comments."),
        ("shares", "BIGINT", "Shares."),
        ("saves", "BIGINT", "Saves; null where the export lacks them."),
        ("like_rate", "DOUBLE", "likes / views; null when views = 0."),
        ("comment_rate", "DOUBLE", "comments / views; null when views = 0."),
        ("share_rate", "DOUBLE", "shares / views; null when views = 0."),
        ("save_rate", "DOUBLE", "saves / views; null when views = 0 or saves unknown."),
        (
            "engagement_rate",
            "DOUBLE",
            "(likes + comments + shares + saves) / views, saves counted as 0 when unknown.",
        ),
        ("caption_length", "INTEGER", "Characters in the caption."),
        ("hashtag_count", "INTEGER", "Hashtags used; null when the export does not say."),
        ("mention_count", "INTEGER", "Accounts mentioned; null when the export does not say."),
        ("original_sound", "BOOLEAN", "Uses the creator's original sound."),
        ("duration_seconds", "INTEGER", "Length in seconds."),
        ("is_slideshow", "BOOLEAN", "A photo slideshow."),
        ("is_ad", "BOOLEAN", "Marked as an ad."),
        ("is_pinned", "BOOLEAN", "Pinned on the profile."),
        ("post_hour_utc", "INTEGER", "Hour of posting, 0-23, UTC."),
        ("post_weekday_utc", "INTEGER", "Weekday of posting, 0 = Monday, UTC."),
        ("age_days", "DOUBLE", "Days between posting and scraping."),
        ("views_per_day", "DOUBLE", "views / age_days; null when the age is 0."),
        ("analyzer", "VARCHAR", "Analyzer behind the ai_* features; null without an analysis."),
        ("ai_hook_score", "DOUBLE", "Analysis hook_score."),
        ("ai_has_call_to_action", "BOOLEAN", "Analysis has_call_to_action."),
        ("ai_humor_score", "DOUBLE", "Analysis humor_score."),
        ("ai_relatability_score", "DOUBLE", "Analysis relatability_score."),
        ("ai_visual_quality_score", "DOUBLE", "Analysis visual_quality_score."),
        ("ai_production_quality_score", "DOUBLE", "Analysis production_quality_score."),
        ("ai_trend_alignment_score", "DOUBLE", "Analysis trend_alignment_score."),
        ("ai_has_text_overlay", "BOOLEAN", "Analysis has_text_overlay."),
        ("ai_uses_trending_sound", "BOOLEAN", "Analysis uses_trending_sound."),
        ("ai_face_in_first_seconds", "BOOLEAN", "Analysis face_in_first_seconds."),
        ("ai_pacing", "VARCHAR", "Analysis pacing."),
        ("ai_primary_emotion", "VARCHAR", "Analysis primary_emotion."),
        ("ai_content_category", "VARCHAR", "Analysis content_category."),
        ("followers", "BIGINT", "Author's followers at scrape time."),
        ("account_median_views", "DOUBLE", "Median views of the account's videos in the dataset."),
        ("views_vs_account_median", "DOUBLE", "views / account_median_views; null when it is 0."),
        ("log_views", "DOUBLE", "ln(1 + views): the regression target."),
        (
            "relative_log_views",
            "DOUBLE",
            "ln(1 + views) − ln(1 + the account's median views); null without a label.",
        ),
        (
            "viral_threshold_views",
            "DOUBLE",
            "3 × the account's median views (k = 3); null without a label.",
        ),
        (
            "viral",
            "BOOLEAN",
            "The virality label: views ≥ viral_threshold_views; null when the account has fewer "
            "than 3 videos with views or a median of 0.",
        ),
    ),
    preview_columns=("account", "video_id", "views", "engagement_rate", "views_vs_account_median"),
)

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
    columns=_columns(
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
    columns=_columns(
        *_KEY_COLUMNS,
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
    columns=_columns(
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
    columns=_columns(
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
    columns=_columns(
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

VIDEO_TABLES = (RAW_VIDEOS, REJECTED_VIDEOS, VIDEO_ANALYSES, VIDEO_FEATURES)
MODEL_TABLES = (MODEL_RUNS, VIDEO_PREDICTIONS, FEATURE_IMPORTANCE, TRENDS, DRIVERS)
ASSET_TABLES = VIDEO_TABLES + MODEL_TABLES
