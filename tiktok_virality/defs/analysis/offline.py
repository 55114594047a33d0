"""The offline analyzer: an analysis built only from what a video's metadata honestly tells.

It runs without credentials, so the pipeline works end to end on the bundled sample. It never
pretends to have watched the video: rows are marked `analyzer = 'offline'` and
`input_kind = 'metadata'`, and only three fields are filled:

- `has_call_to_action`: the caption asks viewers to follow, comment, like, share, save, tag, or
  click a link ("link in bio", "comment X and I'll DM you"…). It is null when the caption is
  unknown. A call to action that is only spoken in the video is not seen, so False means "none in
  the caption".
- `content_category`: the category whose keywords (`CATEGORY_KEYWORDS`) appear most often among
  the hashtags and the caption's words. It is null when no keyword appears.
- `visual_style`: `photo_slideshow` for a slideshow, which the metadata states. It is null for
  videos, because the metadata does not say how a video is filmed.

Everything else stays null. The scores, hook, emotion and summary need someone to watch the video.
The sound is not derived either: "original sound" does not say whether it is speech or music, and
whether a sound is trending is not in the metadata.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from tiktok_virality.defs.analysis.columns import (
    ANALYSIS_COLUMNS,
    ANALYSIS_JSON_COLUMN,
    analysis_frame,
    flatten_analysis,
    partial_analysis,
)
from tiktok_virality.defs.analysis.schema import ContentCategory, VisualStyle

_CALL_TO_ACTION_PHRASES = (
    r"follow (?:me|us|along|for|@)",
    r"(?:hit|smash|tap|press) (?:the|that) (?:follow|like|heart)",
    # Without an article only after "hit"/"smash": "bench press like this" is no call to action.
    r"(?:hit|smash) (?:follow|like)",
    r"comment (?:below|down|your|if|what|which|with|[\"“'‘])",
    r"(?:tell me|tell us|drop|leave|share)\b[^.!?\n]{0,30}\b(?:in the comments|below)",
    r"let me know",
    r"(?:save|bookmark) (?:this|it)\b",
    r"save for later",
    r"(?:share|send) (?:this|it) (?:with|to)\b",
    r"tag (?:a |your |someone|them|@)",
    r"double tap",
    r"link in (?:my |the )?bio",
    r"(?:click|tap|check|hit) (?:the |my )?link",
    r"use (?:my )?code\b",
    r"shop (?:now|the)\b",
    r"sign up\b",
    r"subscribe\b",  # also "hit subscribe", "smash that subscribe button"
    r"dm me\b",
    r"i[’']?ll dm you",
    r"(?:duet|stitch) this",
)
CALL_TO_ACTION_PATTERN = re.compile(
    r"\b(?:" + "|".join(_CALL_TO_ACTION_PHRASES) + ")", re.IGNORECASE
)
"""A caption phrase that asks viewers to act: follow, like, comment, share, save, tag, click…"""

_CATEGORY_KEYWORD_LISTS = {
    ContentCategory.COMEDY: (
        "comedy comedytok funny humor humour meme memes joke jokes prank skit skits"
    ),
    ContentCategory.DANCE: "dance dancetok dancing dancer dancechallenge choreography",
    ContentCategory.MUSIC: (
        "music musictok newmusic song songs singer singing guitar piano rapper musician"
    ),
    ContentCategory.FOOD: (
        "food foodtok foodie recipe recipes easyrecipe cooking baking bake dinner lunch breakfast "
        "mealprep chef sourdough bread"
    ),
    ContentCategory.FITNESS: (
        "fitness fitnesstok gym gymtok workout workouts exercise deadlift squat cardio yoga "
        "pilates strengthtraining"
    ),
    ContentCategory.HEALTH: (
        "health healthy healthtips wellness nutrition mentalhealth doctor nurse therapy"
    ),
    ContentCategory.BEAUTY: (
        "beauty beautytok makeup skincare skincaretips grwm nails hairstyle haircare lipstick "
        "mascara serum sunscreen"
    ),
    ContentCategory.FASHION: (
        "fashion fashiontok outfit outfits ootd streetwear thrift thrifted styling"
    ),
    ContentCategory.LIFESTYLE: (
        "lifestyle dayinmylife ditl routine morningroutine nightroutine selfcare vlog"
    ),
    ContentCategory.TRAVEL: (
        "travel traveltok vacation trip wanderlust hiking hike backpacking roadtrip itinerary hotel"
    ),
    ContentCategory.EDUCATION: (
        "education edutok learn learning learnontiktok study studytok science history math "
        "didyouknow lesson"
    ),
    ContentCategory.TECH: (
        "tech techtok technology ai aitools chatgpt gadget gadgets iphone android laptop coding "
        "programming software app apps"
    ),
    ContentCategory.GAMING: (
        "gaming gamingtok gamer videogames fortnite minecraft playstation xbox nintendo"
    ),
    ContentCategory.FINANCE: (
        "finance financetok moneytok money personalfinance investing invest stocks crypto budget "
        "budgeting savings debt"
    ),
    ContentCategory.BUSINESS: (
        "business entrepreneur startup marketing smallbusiness career careertok jobsearch "
        "interview sidehustle"
    ),
    ContentCategory.POLITICS: (
        "politics political election elections government senate congress parliament"
    ),
    ContentCategory.NEWS: "news breakingnews headlines",
    ContentCategory.SPORTS: "sports football soccer basketball nba nfl tennis baseball cricket f1",
    ContentCategory.PETS: (
        "pets pet pettok dog dogs puppy dogsoftiktok cat cats kitten catsoftiktok"
    ),
    ContentCategory.PARENTING: "parenting momlife dadlife momtok toddler newborn",
    ContentCategory.RELATIONSHIPS: (
        "relationship relationships dating couple couples boyfriend girlfriend marriage"
    ),
    ContentCategory.DIY_CRAFTS: "diy crafts craft handmade crochet knitting woodworking",
    ContentCategory.HOME: (
        "homedecor interiordesign cleaning cleantok organizing gardening plants homeimprovement"
    ),
    ContentCategory.ART: "art arttok artist drawing painting sketch illustration",
    ContentCategory.AUTOMOTIVE: "car cars cartok carsoftiktok automotive motorcycle",
    ContentCategory.ENTERTAINMENT: "movie movies film netflix celebrity anime booktok",
}
CATEGORY_KEYWORDS: Mapping[ContentCategory, frozenset[str]] = MappingProxyType(
    {category: frozenset(words.split()) for category, words in _CATEGORY_KEYWORD_LISTS.items()}
)
"""Lower-case hashtags and caption words that point to a category. On a tie in the number of
matches, the category listed first wins."""


def _category_of_keyword(
    keywords_by_category: Mapping[ContentCategory, frozenset[str]],
) -> dict[str, str]:
    """The category value of each keyword; raises ValueError for a keyword in two categories."""
    category_of_keyword: dict[str, str] = {}
    for category, keywords in keywords_by_category.items():
        for keyword in keywords:
            if keyword in category_of_keyword:
                raise ValueError(f"keyword {keyword!r} is listed in two categories")
            category_of_keyword[keyword] = category.value
    return category_of_keyword


_CATEGORY_OF_KEYWORD = _category_of_keyword(CATEGORY_KEYWORDS)
_CATEGORY_ORDER = [category.value for category in CATEGORY_KEYWORDS]
_HASHTAG_IN_TEXT = re.compile(r"#\w+")
_WORD = re.compile(r"[a-z0-9]+")


def detect_call_to_action(captions: pd.Series) -> pd.Series:
    """Per caption, True when it contains a call to action, False when not, None when unknown."""
    found = captions.astype("string").str.contains(CALL_TO_ACTION_PATTERN)
    return _with_none(found)


def detect_content_category(captions: pd.Series, hashtags: pd.Series) -> pd.Series:
    """Per video, the `ContentCategory` value whose keywords appear most often among its hashtags
    and caption words, or None when none appears. `hashtags` holds lists (or arrays) of names;
    the result has the index of `captions`."""
    positions = pd.RangeIndex(len(captions))
    # Hashtags in the caption are counted once, through the hashtags list.
    caption_words = (
        pd.Series(captions.to_numpy(), index=positions, dtype="string")
        .str.replace(_HASHTAG_IN_TEXT, " ", regex=True)
        .str.lower()
        .str.findall(_WORD)
        .explode()
    )
    hashtag_words = (
        pd.Series(hashtags.to_numpy(), index=positions, dtype="object")
        .explode()
        .astype("string")
        .str.lower()
    )
    categories = pd.concat([caption_words, hashtag_words]).map(_CATEGORY_OF_KEYWORD).dropna()
    counts = (
        categories.groupby(level=0)
        .value_counts()
        .unstack(fill_value=0)
        .reindex(columns=_CATEGORY_ORDER, fill_value=0)
    )
    return _with_none(counts.idxmax(axis=1).reindex(positions)).set_axis(captions.index)


def analyze_offline(videos: pd.DataFrame, *, analyzed_at: datetime) -> pd.DataFrame:
    """One `video_analyses` row per video (in order) from its metadata alone.

    `videos` has the `raw_videos` columns; the analysis uses the key columns, `caption`,
    `hashtags` and `is_slideshow`.
    """
    is_slideshow = videos["is_slideshow"].eq(True).fillna(False).to_numpy(dtype=bool)
    known_values = zip(
        detect_call_to_action(videos["caption"]),
        detect_content_category(videos["caption"], videos["hashtags"]),
        np.where(is_slideshow, VisualStyle.PHOTO_SLIDESHOW.value, None),
        strict=True,
    )
    # Validating a record per video takes 2.3 s for 60,000 videos, but videos share few distinct
    # combinations of known values (at most 3 × 27 × 2): each one is validated once.
    flatten_once = functools.cache(_flattened_analysis)
    flattened = pd.DataFrame(
        [flatten_once(*values) for values in known_values],
        columns=[*ANALYSIS_COLUMNS, ANALYSIS_JSON_COLUMN],
    )
    return analysis_frame(
        videos,
        flattened,
        analyzer="offline",
        model=None,
        input_kind="metadata",
        analyzed_at=analyzed_at,
    )


def _flattened_analysis(
    has_call_to_action: bool | None, content_category: str | None, visual_style: str | None
) -> dict[str, Any]:
    """The analysis columns and `analysis_json` of an analysis knowing only these three values."""
    return flatten_analysis(
        partial_analysis(
            {
                "has_call_to_action": has_call_to_action,
                "content_category": content_category,
                "visual_style": visual_style,
            }
        )
    )


def _with_none(values: pd.Series) -> pd.Series:
    """An object series with Python values and None for missing ones."""
    return values.astype("object").where(values.notna(), None)
