"""The DuckDB tables the assets materialize into, one contract per table (`contracts.py`): the
per-batch video tables here, the model's in `model_tables.py`, and every table in `ASSET_TABLES`."""

from __future__ import annotations

from tiktok_virality.warehouse.contracts import (
    VIDEO_KEY_COLUMNS,
    Column,
    TableContract,
    columns_of,
)
from tiktok_virality.warehouse.model_tables import (
    DRIVERS,
    FEATURE_IMPORTANCE,
    MODEL_RUNS,
    TRENDS,
    VIDEO_PREDICTIONS,
)

RAW_VIDEOS = TableContract(
    name="raw_videos",
    description="One row per scraped video, normalized from Apify's TikTok scraper items.",
    columns=columns_of(
        *VIDEO_KEY_COLUMNS,
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
    columns=columns_of(
        *VIDEO_KEY_COLUMNS,
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

VIDEO_SIGNALS = TableContract(
    name="video_signals",
    description=(
        "One row per scraped video: what its file measures (cuts, faces, picture, sound, on-screen "
        "text; `defs/signals/`); null where the file is missing or cannot be measured, with why."
    ),
    columns=columns_of(
        *VIDEO_KEY_COLUMNS,
        ("cuts_per_10s", "DOUBLE", "Shot cuts per 10 seconds (PySceneDetect content detector)."),
        ("mean_shot_seconds", "DOUBLE", "Mean shot length, seconds: duration / (cuts + 1)."),
        ("first_cut_seconds", "DOUBLE", "Seconds to the first cut; the duration when none."),
        ("face_frame_share", "DOUBLE", "Share of sampled frames with a face, 0-1."),
        (
            "face_area_share",
            "DOUBLE",
            "Largest face box / frame area, mean over frames with a face, 0-1 (0: no face).",
        ),
        ("brightness", "DOUBLE", "Mean luma of the sampled frames, 0-1."),
        ("colourfulness", "DOUBLE", "Hasler–Süsstrunk colourfulness M (0 grey, ≥82 highly)."),
        ("motion_energy", "DOUBLE", "Mean absolute luma change between samples, 0-1."),
        ("motion_energy_first_2s", "DOUBLE", "motion_energy over the first 2 seconds."),
        ("loudness_lufs", "DOUBLE", "Integrated loudness, LUFS (ITU-R BS.1770-4; floor −70)."),
        ("silence_share", "DOUBLE", "Share of 50 ms frames below −50 dBFS, 0-1."),
        ("onset_rate", "DOUBLE", "Sound onsets (notes, syllables) per second."),
        (
            "speech_likeness",
            "DOUBLE",
            "Share of low-energy 25 ms frames, 0-1: high for speech, low for music (heuristic).",
        ),
        ("text_frame_share", "DOUBLE", "Share of text-checked frames with on-screen text, 0-1."),
        ("text_in_first_2s", "BOOLEAN", "On-screen text in the first 2 seconds."),
        ("media_seconds", "DOUBLE", "Seconds of video decoded (at most the first 180)."),
        (
            "signals_note",
            "VARCHAR",
            "Why signals are null (no file, unreadable, no sound); null when none is.",
        ),
    ),
    preview_columns=(
        "video_id",
        "cuts_per_10s",
        "face_frame_share",
        "loudness_lufs",
        "signals_note",
    ),
)

_NOT_SIGNALS = {"dataset", "batch", "account", "video_id", "media_seconds", "signals_note"}
_MEASURED_FEATURE_COLUMNS = tuple(
    (column.name, column.sql_type, f"Measured: {column.description}")
    for column in VIDEO_SIGNALS.columns
    if column.name not in _NOT_SIGNALS
)
SIGNAL_COLUMNS = tuple(name for name, _, _ in _MEASURED_FEATURE_COLUMNS)
"""The measured signals, which join the features under their own names."""

VIDEO_FEATURES = TableContract(
    name="video_features",
    description="One row per video: features for modelling virality.",
    columns=columns_of(
        *VIDEO_KEY_COLUMNS,
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
        # Velocity, from the video's snapshots (defs/features/velocity.py); null without them.
        ("snapshots", "INTEGER", "Scrapes that saw the video (video_snapshots)."),
        ("views_per_hour", "DOUBLE", "Views gained per hour between its last two snapshots."),
        ("views_gained_since_previous", "BIGINT", "Views gained since the previous snapshot."),
        ("views_at_24h", "DOUBLE", "Views at 24 h of age, interpolated between snapshots."),
        ("views_at_48h", "DOUBLE", "Views at 48 h of age, interpolated between snapshots."),
        (
            "early_views_per_hour",
            "DOUBLE",
            "Views per hour at its last snapshot within its first 24 h, when seen again later.",
        ),
        *_MEASURED_FEATURE_COLUMNS,
    ),
    preview_columns=("account", "video_id", "views", "engagement_rate", "views_vs_account_median"),
)

VIDEO_TABLES = (RAW_VIDEOS, REJECTED_VIDEOS, VIDEO_ANALYSES, VIDEO_FEATURES, VIDEO_SIGNALS)
MODEL_TABLES = (MODEL_RUNS, VIDEO_PREDICTIONS, FEATURE_IMPORTANCE, TRENDS, DRIVERS)
ASSET_TABLES = VIDEO_TABLES + MODEL_TABLES
