"""Apify dataset exports as users download them from the Apify console: a JSON array, JSON Lines
(one object per line) or CSV with nested fields flattened into `authorMeta/fans`, `hashtags/0/name`
columns.

The format is read from the content, not the extension: users rename files, and the console names
every download `dataset_...`. Items come back as plain dicts shaped like the items of the Apify API;
CSV cells stay strings, because the normalizer coerces every source the same way.

JSON's escapes can spell half of an emoji's surrogate pair, which UTF-8 (and so DuckDB) cannot
store: such halves become U+FFFD, as the normalizer repairs them (`without_lone_surrogates`).

A file cut inside an item is an error, never a partial item: JSON then does not parse, and the
console writes every cell of every CSV row (quoting every non-empty one), so a CSV row with fewer
cells than the header, or a quoted cell still open at the end of the file, is a cut-off export. A
JSON Lines or CSV file cut exactly between two lines cannot be told from a shorter export: it reads
as the items before the cut.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tiktok_virality.core.errors import UserError
from tiktok_virality.defs.scraping.normalize import without_lone_surrogates

_CSV_PATH_SEPARATOR = "/"
# A flattened column name: a field name, then field names or list indices, separated by '/'.
_CSV_COLUMN_PATTERN = re.compile(r"[A-Za-z_$][\w$-]*(?:/(?:\d+|[A-Za-z_$][\w$-]*))*", re.ASCII)


# Fields only a TikTok video item of Apify's TikTok scrapers has (beside its `id`), whichever
# actor version, input type or export format wrote it.
_TIKTOK_VIDEO_FIELDS = (
    "authorMeta",
    "webVideoUrl",
    "playCount",
    "diggCount",
    "createTimeISO",
    "videoMeta",
    "musicMeta",
)
# The fields of the error item Apify writes for an account it could not scrape.
_APIFY_ERROR_FIELDS = ("input", "url")
# What a refused file is shown to hold: the first fields of its first items.
_ITEMS_SAMPLED = 20
_FIELDS_SHOWN = 8


class ExportError(UserError, ValueError):
    """A file that is not a readable Apify export; the message names the file and the place."""


def read_export(path: Path) -> list[dict[str, Any]]:
    """The items of an Apify dataset export (JSON array, JSON Lines or flattened CSV).

    Raises ExportError for an empty or non-UTF-8 file, invalid or truncated JSON, JSON that is not
    an array of objects, a CSV without a header row, and a CSV row without exactly one cell per
    column (a truncated or edited export). Nothing is returned on error.
    """
    text = _read_utf8(path)
    content = text.lstrip()
    if not content:
        raise ExportError(f"{path}: the file is empty")
    first_char = content[0]
    if first_char == "[":
        return without_lone_surrogates(_object_array(_parse_json_document(text, path), path))
    if first_char == "{":
        return without_lone_surrogates(_parse_json_lines(text, path))
    _reject_json_scalar(text, path)
    return _parse_csv(text, path)


def check_tiktok_export(items: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Refuse a file none of whose items is a TikTok video or an Apify error item: some other
    CSV or JSON (a spreadsheet, another actor's output) would otherwise be refused item by item
    for naming no account, which does not say that the whole file is of the wrong kind. A file
    with some such items among videos is an export: its odd items are refused one by one."""
    if not items or any(_is_tiktok_item(item) for item in items):
        return
    fields = list(dict.fromkeys(key for item in items[:_ITEMS_SAMPLED] for key in item))
    shown = ", ".join(repr(field[:40]) for field in fields[:_FIELDS_SHOWN]) + (
        ", …" if len(fields) > _FIELDS_SHOWN else ""
    )
    raise ExportError(
        f"{path}: this does not look like an Apify TikTok export: expected items with an `id` "
        "and TikTok fields such as `authorMeta.name`, `webVideoUrl`, `playCount` (in a CSV, "
        "columns like `authorMeta/name`), or Apify's error items (`error` and `input`); the "
        f"file's items have the fields {shown or 'none'}. A list of accounts to scrape goes to "
        "`tiktok-virality dataset create --accounts FILE` instead"
    )


def _is_tiktok_item(item: Mapping[str, Any]) -> bool:
    if item.get("id") not in (None, ""):
        return any(item.get(field) not in (None, "") for field in _TIKTOK_VIDEO_FIELDS)
    return item.get("error") not in (None, "") and any(
        item.get(field) not in (None, "") for field in _APIFY_ERROR_FIELDS
    )


def write_export_json(items: Iterable[Mapping[str, Any]], path: Path) -> None:
    """Write items as a JSON array (UTF-8, non-ASCII kept), the format `read_export` reads first."""
    document = json.dumps([dict(item) for item in items], ensure_ascii=False, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a failed write never leaves a truncated export.
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(document, encoding="utf-8")
    temporary.replace(path)


def _read_utf8(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExportError(f"{path}: a directory, not an export file") from None
    except OSError as error:  # no permission, a name too long, an I/O error
        raise ExportError(f"{path}: cannot be read: {error.strerror or error}") from None
    except ValueError:  # a NUL character, which no file name can hold
        raise ExportError(f"{str(path)!r} is not a file name: it holds a NUL character") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ExportError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} at line {line}, "
            f"offset {error.start}); export the dataset again or save the file as UTF-8"
        ) from None


def _reject_json_scalar(text: str, path: Path) -> None:
    """A file holding one JSON value like `null`, `42` or `"items"` would otherwise read as a CSV
    with a one-column header and no rows: an empty export instead of an error."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return
    _object_array(document, path)


def _parse_json_document(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ExportError(
            f"{path}: invalid or truncated JSON at line {error.lineno}, column {error.colno}: "
            f"{error.msg}"
        ) from None


def _object_array(document: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(document, list):
        raise ExportError(
            f"{path}: expected a JSON array of items, got {_json_type_name(document)}"
        )
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            raise ExportError(
                f"{path}: item {number} of the array is {_json_type_name(item)}, not an object"
            )
    return document


def _parse_json_lines(text: str, path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    # Split on '\n' only: str.splitlines() also splits on U+2028 and friends, which JSON written
    # with ensure_ascii=False carries unescaped inside strings.
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            if not items:
                _reject_single_json_object(text, path)
            raise ExportError(
                f"{path}: line {line_number}: invalid or truncated JSON at column {error.colno}: "
                f"{error.msg}"
            ) from None
        if not isinstance(item, dict):
            raise ExportError(
                f"{path}: line {line_number}: expected one JSON object per line, "
                f"got {_json_type_name(item)}"
            )
        items.append(item)
    return items


def _reject_single_json_object(text: str, path: Path) -> None:
    """A pretty-printed JSON object (e.g. an API response) is not a list of items: say so."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return
    raise ExportError(
        f"{path}: expected a JSON array of items or one object per line, "
        "got one JSON object spanning several lines"
    )


def _parse_csv(text: str, path: Path) -> list[dict[str, Any]]:
    # Strict: a quoted cell still open at the end of the file is an error, not a shorter cell.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    record_start_line = 1
    try:
        header = next(reader)
        _check_csv_header(header, path)
        items: list[dict[str, Any]] = []
        record_start_line = reader.line_num + 1
        for row in reader:
            if row and len(row) != len(header):  # blank lines hold no cells: skipped
                raise ExportError(
                    f"{path}: line {record_start_line}: {len(row)} cell{'s' * (len(row) != 1)} "
                    f"but the header has {len(header)} columns; the file is truncated or was edited"
                )
            cells = [(column, value) for column, value in zip(header, row, strict=False) if value]
            if cells:
                items.append(_unflatten(cells))
            record_start_line = reader.line_num + 1
    except csv.Error as error:
        if str(error) == "unexpected end of data":  # CPython's words for an open quote at EOF
            raise ExportError(
                f"{path}: line {record_start_line}: the file ends inside a quoted cell; "
                "it is truncated"
            ) from None
        raise ExportError(f"{path}: line {reader.line_num}: invalid CSV: {error}") from None
    return items


def _check_csv_header(header: list[str], path: Path) -> None:
    where = f"{path}: line 1 is not a CSV header of field names like 'authorMeta/fans'"
    if not header:
        raise ExportError(f"{where}: it is empty")
    for number, column in enumerate(header, start=1):
        if not _CSV_COLUMN_PATTERN.fullmatch(column):
            raise ExportError(f"{where}: column {number} is {column[:60]!r}")
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise ExportError(f"{where}: column {column!r} appears twice")
        seen.add(column)
    for column in header:
        parts = column.split(_CSV_PATH_SEPARATOR)
        for depth in range(1, len(parts)):
            parent = _CSV_PATH_SEPARATOR.join(parts[:depth])
            if parent in seen:
                raise ExportError(
                    f"{path}: columns {parent!r} and {column!r} conflict: "
                    f"{parent!r} cannot be both a value and a nested field"
                )


def _unflatten(cells: list[tuple[str, str]]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for column, value in cells:
        *parents, leaf = column.split(_CSV_PATH_SEPARATOR)
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return {key: _lists_from_indexed_dicts(child) for key, child in tree.items()}


def _lists_from_indexed_dicts(node: Any) -> Any:
    """Nodes keyed only by indices become lists in index order; gaps (empty cells) are dropped."""
    if not isinstance(node, dict):
        return node
    children = {key: _lists_from_indexed_dicts(child) for key, child in node.items()}
    if all(key.isdigit() for key in children):
        return [children[key] for key in sorted(children, key=int)]
    return children


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
