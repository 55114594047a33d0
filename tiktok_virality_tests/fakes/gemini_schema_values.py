"""The default answer of the fake Gemini API (see :mod:`.gemini`): :func:`schema_value`, a
deterministic value valid against a request's response schema, Gemini's ``Schema`` or a JSON
Schema.

It is a module of its own because it is a small JSON Schema interpreter, tested on its own
(``test_schema_values_keep_to_bounds_enums_and_lengths``), with nothing of HTTP in it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .gemini_protocol import api_field


def schema_value(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A deterministic value valid against ``schema``: a Gemini ``Schema`` (``type: "OBJECT"``,
    ``nullable``, ``anyOf``, ``propertyOrdering``, ...) or a JSON Schema (``type: "object"`` or a
    list of types, ``$ref`` into ``$defs``, ``const``, ``exclusiveMinimum``, ...).

    Every property is filled (required or not); an enum gives its first value; a number lies in
    the middle of ``minimum``/``maximum`` (at the bound if only one is given, else 0); a string is
    ``"fake"`` (or a date/time for those formats, padded or cut to its length limits); an array
    has ``max(1, minItems)`` elements; a nullable value is ``None``.
    """
    root = schema if root is None else root
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return schema_value(_resolve_ref(ref, root), root)
    if "const" in schema:
        return schema["const"]
    if api_field(schema, "nullable") is True:
        return None
    for combinator in ("anyOf", "oneOf", "allOf"):
        branches = api_field(schema, combinator)
        if isinstance(branches, list) and branches:
            if combinator != "allOf" and any(_is_null(b, root) for b in branches):
                return None
            return schema_value(branches[0], root)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    value_of_type = _VALUE_OF_TYPE.get(_schema_type(schema), _string_of_schema)
    return value_of_type(schema, root)


def _schema_type(schema: dict[str, Any]) -> str | None:
    """The schema's type, lower-cased: the first of a list of types (``"null"`` if the list allows
    null or is empty), else ``object`` or ``array`` if it has ``properties`` or ``items``."""
    kind = schema.get("type")
    if isinstance(kind, list):
        if any(str(k).lower() == "null" for k in kind) or not kind:
            return "null"
        kind = kind[0]
    if kind is not None:
        return str(kind).lower()
    if isinstance(schema.get("properties"), dict):
        return "object"
    if "items" in schema:
        return "array"
    return None


def _object_value(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    order = api_field(schema, "propertyOrdering") or []
    names = [n for n in order if n in properties] + [n for n in properties if n not in order]
    return {name: schema_value(properties[name], root) for name in names}


def _array_value(schema: dict[str, Any], root: dict[str, Any]) -> list[Any]:
    count = max(1, int(api_field(schema, "minItems") or 0))
    max_items = api_field(schema, "maxItems")
    if max_items is not None:
        count = min(count, int(max_items))
    items = schema.get("items")
    return [schema_value(items if isinstance(items, dict) else {}, root) for _ in range(count)]


def _string_of_schema(schema: dict[str, Any], root: dict[str, Any]) -> str:
    return _string_value(schema)


_VALUE_OF_TYPE: dict[str | None, Callable[[dict[str, Any], dict[str, Any]], Any]] = {
    "object": _object_value,
    "array": _array_value,
    "integer": lambda schema, root: _number_value(schema, integer=True),
    "number": lambda schema, root: _number_value(schema, integer=False),
    "boolean": lambda schema, root: False,
    "null": lambda schema, root: None,
}
"""How :func:`schema_value` fills each type; any other (``string``, none) is a string."""


def _number_value(schema: dict[str, Any], *, integer: bool) -> int | float:
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open = schema.get("exclusiveMinimum")
    high_open = schema.get("exclusiveMaximum")
    # JSON Schema 2020-12: exclusiveMinimum is a number; draft 4: a flag on minimum.
    if isinstance(low_open, int | float) and not isinstance(low_open, bool):
        low, low_open = low_open, True
    if isinstance(high_open, int | float) and not isinstance(high_open, bool):
        high, high_open = high_open, True
    if integer:
        lo = None if low is None else math.floor(float(low)) + 1 if low_open else math.ceil(low)
        hi = None if high is None else math.ceil(float(high)) - 1 if high_open else math.floor(high)
        if lo is not None and hi is not None:
            return (lo + hi) // 2
        if lo is not None:
            return lo
        return 0 if hi is None else min(0, hi)
    if low is not None and high is not None:
        return (float(low) + float(high)) / 2
    if low is not None:
        return float(low) + (1.0 if low_open else 0.0)
    if high is not None:
        return min(0.0, float(high) - (1.0 if high_open else 0.0))
    return 0.0


def _string_value(schema: dict[str, Any]) -> str:
    value = {
        "date-time": "2025-01-01T00:00:00Z",
        "date": "2025-01-01",
        "time": "00:00:00",
        "email": "fake@example.com",
        "uri": "https://example.com/fake",
        "uuid": "00000000-0000-4000-8000-000000000000",
    }.get(str(schema.get("format")), "fake")
    min_length = int(api_field(schema, "minLength") or 0)
    max_length = api_field(schema, "maxLength")
    if len(value) < min_length:
        value = value + "x" * (min_length - len(value))
    if max_length is not None:
        value = value[: int(max_length)]
    return value


def _is_null(schema: Any, root: dict[str, Any]) -> bool:
    if not isinstance(schema, dict):
        return False
    if isinstance(schema.get("$ref"), str):
        schema = _resolve_ref(schema["$ref"], root)
    kind = schema.get("type")
    return str(kind).lower() == "null" or (isinstance(kind, list) and kind == ["null"])


def _resolve_ref(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#"):
        raise ValueError(f"FakeGemini resolves only local $refs, got {ref!r}")
    node: Any = root
    for token in [t for t in ref[1:].split("/") if t]:
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node
