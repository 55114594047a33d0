import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tiktok_virality.defs.analysis.columns import ANALYSIS_COLUMNS
from tiktok_virality.defs.analysis.offline import (
    CATEGORY_KEYWORDS,
    _category_of_keyword,
    analyze_offline,
    detect_call_to_action,
    detect_content_category,
)
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION, ContentCategory
from tiktok_virality.warehouse.tables import RAW_VIDEOS, VIDEO_ANALYSES

ANALYZED_AT = datetime(2025, 7, 8, 12, 30, tzinfo=UTC)
DERIVED_COLUMNS = {"has_call_to_action", "content_category", "visual_style"}


def _videos(*rows: dict[str, Any]) -> pd.DataFrame:
    """raw_videos rows: the given values, defaults for the keys, None for everything else."""
    defaults = {"dataset": "v1", "batch": "b001", "account": "crumbs", "is_slideshow": False}
    records = [
        {
            **{name: None for name in RAW_VIDEOS.column_names},
            **defaults,
            "video_id": str(7_500_000_000_000_000_000 + number),
            "hashtags": [],
            **row,
        }
        for number, row in enumerate(rows)
    ]
    return pd.DataFrame(records, columns=RAW_VIDEOS.column_names)


def _analyze(*rows: dict[str, Any]) -> pd.DataFrame:
    return analyze_offline(_videos(*rows), analyzed_at=ANALYZED_AT)


@pytest.mark.parametrize(
    "caption",
    [
        "Follow for part 2!",
        "follow me for more sourdough",
        "👇 Comment “FinalRound” and I’ll DM you the link.",
        "comment below your favourite bread",
        "Let me know in the comments what to bake next",
        "Full recipe: link in bio 🔗",
        "Save this for later ✨",
        "Share this with a friend who bakes",
        "Tag someone who needs this",
        "Use code CRUMBS10 for 10% off",
        "Smash that like button",
        "Double tap if you agree",
        "Let me know what you think",
        "Tell me below which loaf wins",
        "Drop your favourite in the comments",
        "Hit subscribe for more",
        "Smash that subscribe button",
        "Tap the heart if you'd eat this",
    ],
)
def test_call_to_action_in_the_caption_is_detected(caption: str) -> None:
    assert _analyze({"caption": caption})["has_call_to_action"].tolist() == [True]


@pytest.mark.parametrize(
    "caption",
    [
        "I like this song so much",
        "My followers asked for this one",
        "The comments on my last video were wild",
        "Stop doing the bench press like this",
        "How I save $500 a month on groceries",
        "Shared kitchen, shared chaos",
        "",
    ],
)
def test_caption_without_a_call_to_action_is_false(caption: str) -> None:
    assert _analyze({"caption": caption})["has_call_to_action"].tolist() == [False]


def test_call_to_action_is_unknown_without_a_caption() -> None:
    assert detect_call_to_action(pd.Series([None, np.nan], dtype="object")).tolist() == [
        None,
        None,
    ]


def test_category_comes_from_hashtags_and_caption_words() -> None:
    analyses = _analyze(
        {"caption": "Morning zoomies #dogsoftiktok #fyp", "hashtags": ["dogsoftiktok", "fyp"]},
        {"caption": "My sourdough finally rose", "hashtags": []},
        {"caption": "Cozy Sunday #fyp", "hashtags": ["fyp", "viral"]},
        {"caption": "dinner reviewed", "hashtags": np.array(["tech", "ai"])},
        {"caption": None, "hashtags": None},
    )

    assert analyses["content_category"].tolist() == ["pets", "food", None, "tech", None]


def test_category_hashtags_in_the_caption_count_once_and_ties_go_to_the_first_listed() -> None:
    categories = detect_content_category(
        # Counted twice, "#gym #gym" would outweigh the two food words.
        pd.Series(["#gym #gym dinner bread", "Dinner at the gym"], index=[4, 9]),
        pd.Series([["gym"], []], index=[4, 9]),
    )

    assert list(CATEGORY_KEYWORDS).index("food") < list(CATEGORY_KEYWORDS).index("fitness")
    assert categories.to_dict() == {4: "food", 9: "food"}


def test_category_keywords_are_words_the_caption_can_match() -> None:
    # Caption words are lower-cased runs of a-z and 0-9; any other keyword would never match one.
    for category, keywords in CATEGORY_KEYWORDS.items():
        for keyword in keywords:
            assert re.fullmatch(r"[a-z0-9]+", keyword), (category, keyword)
            analyses = _analyze({"caption": f"Today: {keyword.upper()}!"})
            assert analyses["content_category"].tolist() == [category.value], keyword


def test_a_keyword_in_two_categories_is_refused() -> None:
    keywords = {
        ContentCategory.FOOD: frozenset({"bread", "dinner"}),
        ContentCategory.HOME: frozenset({"plants", "dinner"}),
    }

    with pytest.raises(ValueError, match="keyword 'dinner' is listed in two categories"):
        _category_of_keyword(keywords)
    assert _category_of_keyword({ContentCategory.FOOD: frozenset({"bread"})}) == {"bread": "food"}


def test_slideshows_get_the_photo_slideshow_style_and_videos_no_style() -> None:
    analyses = _analyze(
        {"caption": "Swipe →", "is_slideshow": True},
        {"caption": "A video", "is_slideshow": False},
        {"caption": "Unknown", "is_slideshow": None},
    )

    assert analyses["visual_style"].tolist() == ["photo_slideshow", None, None]


def test_fields_that_need_watching_the_video_stay_null() -> None:
    analyses = _analyze(
        {
            "caption": "Comment “BREAD” and I’ll DM you the recipe #baking",
            "hashtags": ["baking"],
            "music_original": True,
            "music_name": "original sound - Crumbs",
            "duration_seconds": 12,
            "is_slideshow": True,
        }
    )

    for column in set(ANALYSIS_COLUMNS) - DERIVED_COLUMNS:
        assert analyses[column].tolist() == [None], column
    assert analyses[sorted(DERIVED_COLUMNS)].iloc[0].to_dict() == {
        "content_category": "food",
        "has_call_to_action": True,
        "visual_style": "photo_slideshow",
    }


def test_rows_are_marked_offline_metadata_analyses_of_their_videos() -> None:
    videos = _videos({"caption": "one"}, {"caption": "two", "account": "loaves"}).set_axis([7, 2])

    analyses = analyze_offline(videos, analyzed_at=ANALYZED_AT)

    assert list(analyses.columns) == VIDEO_ANALYSES.column_names
    assert analyses[["dataset", "batch", "account", "video_id"]].to_dict("records") == videos[
        ["dataset", "batch", "account", "video_id"]
    ].to_dict("records")
    assert analyses["analyzer"].tolist() == ["offline", "offline"]
    assert analyses["model"].tolist() == [None, None]
    assert analyses["input_kind"].tolist() == ["metadata", "metadata"]
    assert analyses["schema_version"].tolist() == [SCHEMA_VERSION, SCHEMA_VERSION]
    assert analyses["analyzed_at"].tolist() == [pd.Timestamp(ANALYZED_AT)] * 2


def test_analysis_json_holds_the_partial_record_with_its_nulls() -> None:
    analyses = _analyze({"caption": "Link in bio #cats", "hashtags": ["cats"]})

    record = json.loads(analyses["analysis_json"].iloc[0])

    assert record["engagement"]["has_call_to_action"] is True
    assert record["content_structure"]["content_category"] == "pets"
    assert record["content_structure"]["hook_score"] is None
    assert record["visual"]["visual_style"] is None
    assert record["technical"]["audio_type"] is None
    assert record["trend"]["uses_trending_sound"] is None
    assert record["summary"] is None


def test_empty_input_gives_an_empty_frame_with_the_columns() -> None:
    analyses = analyze_offline(RAW_VIDEOS.empty_frame(), analyzed_at=ANALYZED_AT)

    assert analyses.empty
    assert list(analyses.columns) == VIDEO_ANALYSES.column_names


def test_many_videos_get_one_row_each_in_order() -> None:
    captions = ["Follow for more #dog", "quiet walk #hiking", "plain"] * 10_000
    videos = _videos(*({"caption": caption} for caption in captions))
    videos["hashtags"] = [["dog"], ["hiking"], []] * 10_000

    analyses = analyze_offline(videos, analyzed_at=ANALYZED_AT)

    assert analyses["video_id"].tolist() == videos["video_id"].tolist()
    assert analyses["has_call_to_action"].tolist()[:3] == [True, False, False]
    assert analyses["content_category"].tolist()[-3:] == ["pets", "travel", None]
    assert analyses["content_category"].value_counts().to_dict() == {
        "pets": 10_000,
        "travel": 10_000,
    }


def test_real_apify_caption_is_read(apify_fixtures: Path) -> None:
    item = json.loads((apify_fixtures / "profile_items_2025.json").read_text(encoding="utf-8"))[0]

    analyses = _analyze(
        {"caption": item["text"], "hashtags": [tag["name"] for tag in item["hashtags"]]}
    )

    assert analyses["has_call_to_action"].tolist() == [True]
    assert analyses["content_category"].tolist() == ["tech"]
