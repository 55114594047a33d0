"""The analysis schema: what an analyzer says about one video, as a versioned pydantic model.

Gemini receives `VideoAnalysis` as its `response_schema`, so the model keeps to what the Gemini API
accepts: nested models, string enums, bool, int, bounded float, list[str] and str | None. Every
field and enum has a description, because Gemini reads them as its instructions. No field has a
default, so Gemini has to fill every field. Every categorical enum has an `other` member, so
Gemini is never pushed into a wrong category. `Pacing` is the exception: slow, medium and fast
cover the whole scale.

Bump `SCHEMA_VERSION` whenever a field, an enum value or a meaning changes. Every row records the
version, so analyses made under different schemas are never mixed up by accident.

How an analysis becomes the columns of `video_analyses` is in columns.py: this module is what
Gemini is shown, and nothing else.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = "1"

Analyzer = Literal["offline", "gemini"]
InputKind = Literal["metadata", "video", "metadata_and_cover"]

Score = Annotated[float, Field(ge=0, le=10)]


class VisualStyle(StrEnum):
    """How the video is made, judged by what fills most of its screen time. talking_head: a person
    speaking to the camera; vlog: handheld footage following the creator through their day;
    acted_scene: a staged scene with characters; b_roll: footage of things, places or activities
    without a presenter; screen_recording: a phone or computer screen; hands_only: close-ups of
    hands cooking, making or unboxing something; green_screen: the creator in front of a picture or
    video background; animation: animation or motion graphics; photo_slideshow: still photos."""

    TALKING_HEAD = "talking_head"
    VLOG = "vlog"
    ACTED_SCENE = "acted_scene"
    B_ROLL = "b_roll"
    SCREEN_RECORDING = "screen_recording"
    HANDS_ONLY = "hands_only"
    GREEN_SCREEN = "green_screen"
    ANIMATION = "animation"
    PHOTO_SLIDESHOW = "photo_slideshow"
    OTHER = "other"


class Setting(StrEnum):
    """Where most of the video was filmed. virtual: no physical place is shown (screen recording,
    animation, graphics)."""

    HOME = "home"
    STUDIO = "studio"
    OFFICE = "office"
    STORE_OR_RESTAURANT = "store_or_restaurant"
    GYM = "gym"
    VEHICLE = "vehicle"
    OUTDOOR_URBAN = "outdoor_urban"
    OUTDOOR_NATURE = "outdoor_nature"
    EVENT_VENUE = "event_venue"
    VIRTUAL = "virtual"
    OTHER = "other"


class HookType(StrEnum):
    """How the first three seconds try to stop the viewer from scrolling. bold_claim: a strong or
    controversial statement; surprising_visual: an unexpected image or action; story_opener: the
    start of a personal story; problem_statement: names a problem the viewer has; direct_address:
    speaks to a kind of viewer ("if you are a…"); tease: promises a payoff later ("wait for the
    end"); statistic: a number or fact; trending_audio: relies on a recognizable sound; none: no
    attempt to hook."""

    QUESTION = "question"
    BOLD_CLAIM = "bold_claim"
    SURPRISING_VISUAL = "surprising_visual"
    STORY_OPENER = "story_opener"
    PROBLEM_STATEMENT = "problem_statement"
    DIRECT_ADDRESS = "direct_address"
    TEASE = "tease"
    STATISTIC = "statistic"
    TRENDING_AUDIO = "trending_audio"
    NONE = "none"
    OTHER = "other"


class Pacing(StrEnum):
    """How fast the video moves: cuts, speech and action. slow: long takes and calm delivery;
    medium: steady; fast: rapid cuts or very quick delivery."""

    SLOW = "slow"
    MEDIUM = "medium"
    FAST = "fast"


class Structure(StrEnum):
    """The narrative structure of the whole video. list: a countdown or list of items; skit: a
    comedic scene; before_after: a transformation; q_and_a: answers a question or a comment;
    opinion: a take, rant or commentary; montage: clips cut together without a narrative."""

    TUTORIAL = "tutorial"
    STORY = "story"
    LIST = "list"
    SKIT = "skit"
    REVIEW = "review"
    REACTION = "reaction"
    CHALLENGE = "challenge"
    DAY_IN_THE_LIFE = "day_in_the_life"
    BEFORE_AFTER = "before_after"
    Q_AND_A = "q_and_a"
    OPINION = "opinion"
    INTERVIEW = "interview"
    MONTAGE = "montage"
    OTHER = "other"


class ContentCategory(StrEnum):
    """The main topic of the video. entertainment: film, TV, books, celebrities; home: decor,
    cleaning, gardening; diy_crafts: making things by hand."""

    COMEDY = "comedy"
    DANCE = "dance"
    MUSIC = "music"
    FOOD = "food"
    FITNESS = "fitness"
    HEALTH = "health"
    BEAUTY = "beauty"
    FASHION = "fashion"
    LIFESTYLE = "lifestyle"
    TRAVEL = "travel"
    EDUCATION = "education"
    TECH = "tech"
    GAMING = "gaming"
    FINANCE = "finance"
    BUSINESS = "business"
    POLITICS = "politics"
    NEWS = "news"
    SPORTS = "sports"
    PETS = "pets"
    PARENTING = "parenting"
    RELATIONSHIPS = "relationships"
    DIY_CRAFTS = "diy_crafts"
    HOME = "home"
    ART = "art"
    AUTOMOTIVE = "automotive"
    ENTERTAINMENT = "entertainment"
    OTHER = "other"


class Emotion(StrEnum):
    """The emotion the video most wants the viewer to feel."""

    JOY = "joy"
    AMUSEMENT = "amusement"
    EXCITEMENT = "excitement"
    SURPRISE = "surprise"
    CURIOSITY = "curiosity"
    INSPIRATION = "inspiration"
    AWE = "awe"
    NOSTALGIA = "nostalgia"
    CALM = "calm"
    EMPATHY = "empathy"
    SADNESS = "sadness"
    ANGER = "anger"
    FEAR = "fear"
    DISGUST = "disgust"
    OTHER = "other"


class AudioType(StrEnum):
    """What the viewer mainly hears. speech: people talking on screen; voiceover: narration by
    someone not speaking on screen; music: music only; speech_and_music: speech or voiceover over
    music; none: silence; other: e.g. only sound effects or ambient sound."""

    SPEECH = "speech"
    VOICEOVER = "voiceover"
    MUSIC = "music"
    SPEECH_AND_MUSIC = "speech_and_music"
    NONE = "none"
    OTHER = "other"


class VisualAnalysis(BaseModel):
    """What the video looks like."""

    visual_style: VisualStyle = Field(description="The dominant visual style.")
    setting: Setting = Field(description="Where most of the video was filmed.")
    people_on_screen: int = Field(
        ge=0, description="How many different people appear on screen; 0 when nobody does."
    )
    face_in_first_seconds: bool = Field(
        description="A human face is visible within the first two seconds."
    )
    visual_quality_score: Score = Field(
        description="Visual appeal (lighting, framing, sharpness, colour), 0 = very poor, "
        "10 = striking."
    )


class ContentStructureAnalysis(BaseModel):
    """How the content is built: the hook, the pacing, the structure and the topic."""

    hook_type: HookType = Field(description="How the first three seconds grab attention.")
    hook_score: Score = Field(
        description="How strongly the first three seconds make a viewer keep watching, "
        "0 = no reason to stay, 10 = impossible to scroll past."
    )
    pacing: Pacing = Field(description="How fast the video moves.")
    structure: Structure = Field(description="The narrative structure of the whole video.")
    content_category: ContentCategory = Field(description="The main topic of the video.")


class EngagementAnalysis(BaseModel):
    """What invites the viewer to react."""

    has_call_to_action: bool = Field(
        description="The video or its caption asks viewers to follow, like, comment, share, "
        "save or click a link."
    )
    primary_emotion: Emotion = Field(
        description="The emotion the video most wants the viewer to feel."
    )
    humor_score: Score = Field(
        description="How funny the video is, 0 = not funny at all, 10 = hilarious."
    )
    relatability_score: Score = Field(
        description="How much a typical viewer sees their own life in it, 0 = not at all, "
        "10 = completely."
    )


class TechnicalAnalysis(BaseModel):
    """How the video is made technically: text, audio and editing."""

    has_text_overlay: bool = Field(description="Text is shown on screen (captions, titles).")
    audio_type: AudioType = Field(description="What the viewer mainly hears.")
    editing_score: Score = Field(
        description="Editing craft (cuts, transitions, timing), 0 = unedited or clumsy, "
        "10 = masterful."
    )
    production_quality_score: Score = Field(
        description="Overall production quality (picture, sound, editing together), "
        "0 = very poor, 10 = professional."
    )


class TrendAnalysis(BaseModel):
    """How the video relates to what is currently trending on TikTok."""

    uses_trending_sound: bool = Field(
        description="The sound is a recognizable trending sound or song that many videos use."
    )
    trend_format: str | None = Field(
        description="The recognizable trend format or meme the video follows, e.g. 'get ready "
        "with me', 'POV', 'tell me without telling me'; null when it follows none."
    )
    trend_alignment_score: Score = Field(
        description="How well the video fits current TikTok trends, 0 = not at all, 10 = perfectly."
    )


class VideoAnalysis(BaseModel):
    """An analysis of one TikTok video, made to study what makes videos go viral. Judge only what
    is seen and heard in the video and read in its caption; do not guess its view counts."""

    visual: VisualAnalysis = Field(description="What the video looks like.")
    content_structure: ContentStructureAnalysis = Field(
        description="The hook, pacing, structure and topic."
    )
    engagement: EngagementAnalysis = Field(description="What invites the viewer to react.")
    technical: TechnicalAnalysis = Field(description="Text, audio and editing.")
    trend: TrendAnalysis = Field(description="The fit with current TikTok trends.")
    improvement_suggestions: list[str] = Field(
        description="Three to five concrete changes, one sentence each, that would most likely "
        "make this video reach more viewers."
    )
    summary: str = Field(
        description="One paragraph describing what happens in the video and how it is presented."
    )
