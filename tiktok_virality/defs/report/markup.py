"""The HTML pieces every section of the report is made of: escaped text, paragraphs, tables,
figures, captions and links. They are apart from the sections because they carry the page's
safety rules (every value escaped, only http(s) URLs linked), which should hold in one place
whatever a section shows."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from tiktok_virality.defs.report.formatting import MISSING, is_missing

CAPTION_EXCERPT = 90
_WHITESPACE = re.compile(r"\s+")
_LINKABLE = re.compile(r"^https?://", re.IGNORECASE)


def caption_cell(caption: Any) -> str:
    """A caption on one line, cut to `CAPTION_EXCERPT` characters, with its first 500 as the
    tooltip."""
    if is_missing(caption) or not str(caption).strip():
        return f'<span class="note">{MISSING}</span>'
    flat = _WHITESPACE.sub(" ", str(caption)).strip()
    excerpt = flat if len(flat) <= CAPTION_EXCERPT else flat[: CAPTION_EXCERPT - 1] + "…"
    return f'<span title="{escaped(flat[:500])}">{escaped(excerpt)}</span>'


def link(url: Any, label: str) -> str:
    """An anchor to an http(s) URL; anything else (none, javascript:, data:) is not linked."""
    if is_missing(url) or not _LINKABLE.match(str(url)):
        return f'<span class="note">{MISSING}</span>'
    return (
        f'<a href="{escaped(url)}" target="_blank" rel="noopener noreferrer">{escaped(label)}</a>'
    )


def table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]], table_id: str) -> str:
    """A table of cells already in HTML; `columns` are (heading, CSS class) pairs."""
    head = "".join(f'<th class="{css}">{escaped(heading)}</th>' for heading, css in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{css}">{cell}</td>' for (_, css), cell in zip(columns, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def figure(name: str, svg: str, caption: str) -> str:
    return f'<figure data-plot="{name}">{svg}<figcaption>{escaped(caption)}</figcaption></figure>'


def paragraph(text: str) -> str:
    return f"<p>{escaped(text)}</p>"


def escaped(value: Any) -> str:
    """A value as HTML text, quotes included, so that it is safe in an element and in an
    attribute."""
    return html.escape(str(value), quote=True)
