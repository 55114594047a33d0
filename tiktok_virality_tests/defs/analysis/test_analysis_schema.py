import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from tiktok_virality.defs.analysis.columns import (
    ANALYSIS_COLUMNS,
    ANALYSIS_COMPONENTS,
    ANALYSIS_KEY_COLUMNS,
    analysis_frame,
    flatten_analyses,
    flatten_analysis,
    partial_analysis,
)
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION, Pacing, VideoAnalysis, VisualStyle
from tiktok_virality.warehouse.tables import VIDEO_ANALYSES

FULL_RECORD: dict[str, Any] = {
    "visual": {
        "visual_style": "talking_head",
        "setting": "home",
        "people_on_screen": 1,
        "face_in_first_seconds": True,
        "visual_quality_score": 7.5,
    },
    "content_structure": {
        "hook_type": "question",
        "hook_score": 8,
        "pacing": "fast",
        "structure": "tutorial",
        "content_category": "food",
    },
    "engagement": {
        "has_call_to_action": True,
        "primary_emotion": "curiosity",
        "humor_score": 2,
        "relatability_score": 6.5,
    },
    "technical": {
        "has_text_overlay": False,
        "audio_type": "speech_and_music",
        "editing_score": 5,
        "production_quality_score": 6,
    },
    "trend": {"uses_trending_sound": False, "trend_format": None, "trend_alignment_score": 3},
    "improvement_suggestions": ["Show the finished loaf in the first second."],
    "summary": "A baker explains why sourdough turns out dense — and fixes it. 🍞",
}
ANALYSIS_AND_JSON_COLUMNS = [*ANALYSIS_COLUMNS, "analysis_json"]


def _with(record: dict[str, Any], component: str, field: str, value: Any) -> dict[str, Any]:
    return {**record, component: {**record[component], field: value}}


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every (sub)schema of a JSON schema document."""
    if isinstance(node, dict):
        yield node
        for child in node.values():
            yield from _schemas(child)
    elif isinstance(node, list):
        for child in node:
            yield from _schemas(child)


def test_json_schema_is_gemini_friendly_and_fully_described() -> None:
    schema = VideoAnalysis.model_json_schema()
    definitions = schema["$defs"]

    for subschema in _schemas(schema):
        # Gemini fills every field: no defaults, no optional fields left out.
        assert "default" not in subschema
        properties = subschema.get("properties", {})
        assert subschema.get("required", []) == list(properties)
        for name, property_schema in properties.items():
            # A field of an enum or model type may be described by its type's definition.
            referenced = definitions.get(property_schema.get("$ref", "").split("/")[-1], {})
            assert property_schema.get("description") or referenced.get("description"), name
        if "enum" in subschema:
            assert subschema["type"] == "string"
            assert subschema.get("description"), subschema["title"]
    for name, definition in definitions.items():
        assert definition.get("description"), name
        if "enum" in definition and name != Pacing.__name__:
            assert "other" in definition["enum"], name
    assert definitions["Pacing"]["enum"] == ["slow", "medium", "fast"]
    assert definitions["AudioType"]["enum"][:5] == [
        "speech",
        "voiceover",
        "music",
        "speech_and_music",
        "none",
    ]


def test_scores_are_bounded_0_to_10_in_the_json_schema() -> None:
    definitions = VideoAnalysis.model_json_schema()["$defs"]
    scores = {
        (component, name): field
        for component, definition in definitions.items()
        for name, field in definition.get("properties", {}).items()
        if name.endswith("_score")
    }

    assert len(scores) == 7
    assert all(field["minimum"] == 0 and field["maximum"] == 10 for field in scores.values())
    assert definitions["VisualAnalysis"]["properties"]["people_on_screen"]["minimum"] == 0


def test_analysis_columns_are_the_table_contract_columns() -> None:
    names = VIDEO_ANALYSES.column_names
    contract_columns = names[names.index("analyzed_at") + 1 : names.index("analysis_json")]

    assert list(ANALYSIS_COLUMNS) == contract_columns
    assert ANALYSIS_KEY_COLUMNS == ("dataset", "batch", "account", "video_id")
    assert list(ANALYSIS_COMPONENTS) == [
        "visual",
        "content_structure",
        "engagement",
        "technical",
        "trend",
    ]


def test_full_analysis_flattens_to_exactly_the_analysis_columns() -> None:
    analysis = VideoAnalysis.model_validate(FULL_RECORD)

    row = flatten_analysis(analysis)

    assert list(row) == ANALYSIS_AND_JSON_COLUMNS
    assert row["visual_style"] == "talking_head"
    assert type(row["visual_style"]) is str
    assert type(row["audio_type"]) is str
    assert row["hook_score"] == 8.0
    assert row["people_on_screen"] == 1
    assert row["has_call_to_action"] is True
    assert row["trend_format"] is None
    assert row["improvement_suggestions"] == ["Show the finished loaf in the first second."]
    assert json.loads(row["analysis_json"]) == analysis.model_dump(mode="json")
    assert VideoAnalysis.model_validate_json(row["analysis_json"]) == analysis
    assert "🍞" in row["analysis_json"]


def test_full_record_as_a_mapping_flattens_like_the_model() -> None:
    assert flatten_analysis(FULL_RECORD) == flatten_analysis(
        VideoAnalysis.model_validate(FULL_RECORD)
    )


def test_partial_record_flattens_with_nulls_for_everything_unknown() -> None:
    row = flatten_analysis(
        {"engagement": {"has_call_to_action": False}, "visual": None, "summary": None}
    )

    assert list(row) == ANALYSIS_AND_JSON_COLUMNS
    assert row["has_call_to_action"] is False
    assert all(row[column] is None for column in ANALYSIS_COLUMNS if column != "has_call_to_action")
    record = json.loads(row["analysis_json"])
    assert list(record) == list(VideoAnalysis.model_fields)
    assert record["engagement"] == {
        "has_call_to_action": False,
        "primary_emotion": None,
        "humor_score": None,
        "relatability_score": None,
    }
    assert record["visual"]["visual_style"] is None
    assert record["improvement_suggestions"] is None


def test_partial_analysis_nests_known_columns_and_gives_enum_values_as_strings() -> None:
    record = partial_analysis(
        {"visual_style": VisualStyle.PHOTO_SLIDESHOW, "content_category": "food", "summary": None}
    )

    assert record["visual"]["visual_style"] == "photo_slideshow"
    assert type(record["visual"]["visual_style"]) is str
    assert record["content_structure"]["content_category"] == "food"
    assert record["content_structure"]["hook_score"] is None
    assert record["summary"] is None
    assert flatten_analysis(record)["visual_style"] == "photo_slideshow"


def test_score_of_11_is_rejected_in_full_and_partial_records() -> None:
    too_high = _with(FULL_RECORD, "content_structure", "hook_score", 11)

    with pytest.raises(ValidationError, match="less than or equal to 10"):
        VideoAnalysis.model_validate(too_high)
    with pytest.raises(ValueError, match="less than or equal to 10"):
        flatten_analysis(too_high)
    with pytest.raises(ValueError, match="less than or equal to 10"):
        partial_analysis({"humor_score": 11})


@pytest.mark.parametrize(
    ("component", "field", "value"),
    [
        ("visual", "people_on_screen", -1),
        ("visual", "visual_quality_score", -0.5),
        ("content_structure", "pacing", "very_fast"),
        ("technical", "audio_type", "podcast"),
    ],
)
def test_invalid_values_are_rejected(component: str, field: str, value: Any) -> None:
    invalid = _with(FULL_RECORD, component, field, value)

    with pytest.raises(ValidationError):
        VideoAnalysis.model_validate(invalid)
    with pytest.raises(ValueError):
        flatten_analysis({component: {field: value}})


@pytest.mark.parametrize(
    "record",
    [{"visuals": {}}, {"visual": {"style": "vlog"}}, {"engagement": {"hook_score": 5}}],
)
def test_fields_the_schema_does_not_have_are_rejected(record: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not "):
        flatten_analysis(record)


def test_partial_analysis_rejects_unknown_columns() -> None:
    with pytest.raises(ValueError, match="hook"):
        partial_analysis({"hook": "question"})


def test_analysis_frame_has_the_contract_columns_and_copies_the_video_keys() -> None:
    videos = pd.DataFrame(
        {
            "dataset": ["v1", "v1"],
            "batch": ["b001", "b001"],
            "account": ["crumbs", "crumbs"],
            "video_id": ["7524354452762037512", "7523974796150295297"],
            "caption": ["first", "second"],
        },
        index=[5, 3],
    )
    analyzed_at = datetime(2025, 7, 8, 14, 0, tzinfo=timezone(timedelta(hours=2)))

    frame = analysis_frame(
        videos,
        flatten_analyses([VideoAnalysis.model_validate(FULL_RECORD), {"summary": "Only this."}]),
        analyzer="gemini",
        model="gemini-2.5-flash",
        input_kind="video",
        analyzed_at=analyzed_at,
    )

    assert list(frame.columns) == VIDEO_ANALYSES.column_names
    assert frame["video_id"].tolist() == ["7524354452762037512", "7523974796150295297"]
    assert frame["model"].tolist() == ["gemini-2.5-flash"] * 2
    assert frame["schema_version"].tolist() == [SCHEMA_VERSION] * 2
    assert frame["analyzed_at"].tolist() == [pd.Timestamp("2025-07-08 12:00", tz=UTC)] * 2
    assert frame["visual_style"].tolist() == ["talking_head", None]
    assert frame["summary"].tolist() == [FULL_RECORD["summary"], "Only this."]


def test_analysis_frame_rejects_naive_times_and_mismatched_counts() -> None:
    videos = pd.DataFrame({name: ["x"] for name in ANALYSIS_KEY_COLUMNS})
    one_analysis = flatten_analyses([{}])

    with pytest.raises(ValueError, match="timezone"):
        analysis_frame(
            videos,
            one_analysis,
            analyzer="offline",
            model=None,
            input_kind="metadata",
            analyzed_at=datetime(2025, 7, 8),
        )
    with pytest.raises(ValueError, match="2 analyses for 1 videos"):
        analysis_frame(
            videos,
            flatten_analyses([{}, {}]),
            analyzer="offline",
            model=None,
            input_kind="metadata",
            analyzed_at=datetime(2025, 7, 8, tzinfo=UTC),
        )
