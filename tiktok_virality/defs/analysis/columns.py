"""An analysis as the columns of `video_analyses`, derived from the schema so that fields are
named in one place only (schema.py).

A *record* is the JSON form of an analysis: `VideoAnalysis.model_dump(mode="json")`, or the record
of an analyzer that fills only some fields (`partial_analysis`), with None meaning "not known".
`flatten_analysis` turns either one into the analysis columns of `video_analyses`, and
`analysis_frame` adds the video's key and the analysis' provenance. It is apart from the schema
because the schema is what Gemini is shown, while this is how every analyzer's answer is stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from tiktok_virality.defs.analysis.schema import (
    SCHEMA_VERSION,
    Analyzer,
    InputKind,
    VideoAnalysis,
)
from tiktok_virality.warehouse.tables import RAW_VIDEOS, VIDEO_ANALYSES


def _nested_model(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _component_columns() -> dict[str, tuple[str, ...]]:
    components: dict[str, tuple[str, ...]] = {}
    for name, field in VideoAnalysis.model_fields.items():
        component = _nested_model(field)
        if component is not None:
            components[name] = tuple(component.model_fields)
    return components


def _column_fields() -> dict[str, FieldInfo]:
    """Each analysis column → the schema field it holds, in schema order."""
    columns: dict[str, FieldInfo] = {}
    for name, field in VideoAnalysis.model_fields.items():
        component = _nested_model(field)
        columns.update(component.model_fields if component is not None else {name: field})
    return columns


ANALYSIS_COMPONENTS: Mapping[str, tuple[str, ...]] = MappingProxyType(_component_columns())
"""Each nested component of `VideoAnalysis` → its fields, which become columns of the same name.
The other top-level fields (improvement_suggestions, summary) are columns themselves."""

_COLUMN_FIELDS = _column_fields()
ANALYSIS_COLUMNS: tuple[str, ...] = tuple(_COLUMN_FIELDS)
"""The analysis columns of `video_analyses`, visual_style … summary, in schema order."""

ANALYSIS_JSON_COLUMN = "analysis_json"

ANALYSIS_KEY_COLUMNS: tuple[str, ...] = tuple(
    name for name in VIDEO_ANALYSES.column_names if name in RAW_VIDEOS.column_names
)
"""The columns an analysis row copies from its video: dataset, batch, account, video_id."""

# Per column, so that a partial record gets the same checks as a full VideoAnalysis.
_COLUMN_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(Annotated[field.annotation, field]) for name, field in _COLUMN_FIELDS.items()
}


def partial_analysis(known: Mapping[str, Any]) -> dict[str, Any]:
    """The record of an analysis that knows only some columns: the `known` values (by column name)
    validated like in `VideoAnalysis` and in JSON form, every other field None.

    Raises ValueError for a name that is not an analysis column or a value the schema rejects.
    """
    _reject_unknown(known, ANALYSIS_COLUMNS, "analysis columns")
    values = {
        column: None
        if known.get(column) is None
        else _COLUMN_ADAPTERS[column].dump_python(
            _COLUMN_ADAPTERS[column].validate_python(known[column]), mode="json"
        )
        for column in ANALYSIS_COLUMNS
    }
    return {
        name: (
            {column: values[column] for column in ANALYSIS_COMPONENTS[name]}
            if name in ANALYSIS_COMPONENTS
            else values[name]
        )
        for name in VideoAnalysis.model_fields
    }


def flatten_analysis(analysis: VideoAnalysis | Mapping[str, Any]) -> dict[str, Any]:
    """The analysis columns of a `video_analyses` row plus `analysis_json`, the record as JSON text.

    `analysis` is a full `VideoAnalysis` or a record (nested like `VideoAnalysis`) in which any
    component or field may be None or missing; its values are validated and missing fields become
    None, in the columns and in the JSON alike. Enum values come out as plain strings.
    Raises ValueError for a field the schema does not have or a value it rejects.
    """
    if isinstance(analysis, VideoAnalysis):
        record = analysis.model_dump(mode="json")
    else:
        record = partial_analysis(_record_columns(analysis))
    return {
        **_record_columns(record),
        ANALYSIS_JSON_COLUMN: json.dumps(record, ensure_ascii=False),
    }


def flatten_analyses(analyses: Iterable[VideoAnalysis | Mapping[str, Any]]) -> pd.DataFrame:
    """`flatten_analysis` of each analysis: a frame of the analysis columns and `analysis_json`."""
    return pd.DataFrame(
        [flatten_analysis(analysis) for analysis in analyses],
        columns=[*ANALYSIS_COLUMNS, ANALYSIS_JSON_COLUMN],
    )


def analysis_frame(
    videos: pd.DataFrame,
    flattened: pd.DataFrame,
    *,
    analyzer: Analyzer,
    model: str | None,
    input_kind: InputKind,
    analyzed_at: datetime,
) -> pd.DataFrame:
    """`video_analyses` rows with exactly its columns: the i-th row of `flattened` (as made by
    `flatten_analyses`) is the analysis of the i-th video, whose key columns are copied.

    Raises ValueError when the row counts differ or `analyzed_at` has no timezone (the column is
    UTC).
    """
    if len(flattened) != len(videos):
        raise ValueError(f"{len(flattened)} analyses for {len(videos)} videos")
    if analyzed_at.tzinfo is None:
        raise ValueError(f"analyzed_at must be timezone-aware, got {analyzed_at!r}")
    provenance = (
        videos[list(ANALYSIS_KEY_COLUMNS)]
        .reset_index(drop=True)
        .assign(
            analyzer=analyzer,
            model=model,
            schema_version=SCHEMA_VERSION,
            input_kind=input_kind,
            analyzed_at=pd.Timestamp(analyzed_at).tz_convert("UTC"),
        )
    )
    analyses = flattened.reset_index(drop=True)[[*ANALYSIS_COLUMNS, ANALYSIS_JSON_COLUMN]]
    return pd.concat([provenance, analyses], axis=1)[VIDEO_ANALYSES.column_names]


def _record_columns(record: Mapping[str, Any]) -> dict[str, Any]:
    """The column values of a nested record; missing components and fields are None."""
    _reject_unknown(record, VideoAnalysis.model_fields, "VideoAnalysis fields")
    columns: dict[str, Any] = {}
    for name in VideoAnalysis.model_fields:
        if name not in ANALYSIS_COMPONENTS:
            columns[name] = record.get(name)
            continue
        component = record.get(name) or {}
        _reject_unknown(component, ANALYSIS_COMPONENTS[name], f"{name} fields")
        columns.update({column: component.get(column) for column in ANALYSIS_COMPONENTS[name]})
    return columns


def _reject_unknown(given: Iterable[str], allowed: Iterable[str], what: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"not {what}: {', '.join(unknown)}")
