"""The one renderer of results: a table per result table on the terminal (rich), and
`docs/benchmarks.md` with the date, the machine, the versions and every figure with its command."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.core import ResultTable, Section, Verdict
from bench.machine import Machine


@dataclass(frozen=True)
class RunInfo:
    """One run of the benchmarks: how it was started, when, and on what."""

    command: str
    started_at: datetime
    seconds: float
    machine: Machine
    load_average_at_end: tuple[float, float, float]


def _format(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return fmt.format(value)


def _headers(table: ResultTable) -> list[str]:
    return [field.metadata["header"] for field in fields(table.rows[0])]


def _cells(row: Any) -> list[str]:
    return [_format(getattr(row, field.name), field.metadata["format"]) for field in fields(row)]


def _verdict_mark(verdict: Verdict) -> str:
    return "met" if verdict.met else "MISSED"


def print_section(console: Console, section: Section) -> None:
    console.rule(f"[bold]{escape(section.title)}")
    console.print(f"[dim]{escape(section.command)} ({section.seconds:.0f} s)[/dim]")
    for result in section.measurement.tables:
        table = Table(title=result.caption, title_justify="left")
        for header in _headers(result):
            table.add_column(header, overflow="fold")
        for row in result.rows:
            table.add_row(*map(escape, _cells(row)))
        console.print(table)
    for verdict in section.measurement.verdicts:
        style = "green" if verdict.met else "bold red"
        console.print(
            f"[{style}]{_verdict_mark(verdict)}[/{style}] {verdict.target}: {verdict.measured}"
        )
    for note in section.measurement.notes:
        console.print(f"• {escape(note)}", soft_wrap=True)


def print_verdicts(console: Console, sections: Sequence[Section]) -> None:
    table = Table(title="Targets", title_justify="left")
    for header in ("section", "target", "measured", ""):
        table.add_column(header, overflow="fold")
    for section, verdict in _all_verdicts(sections):
        style = "green" if verdict.met else "bold red"
        table.add_row(
            *map(escape, (section.title, verdict.target, verdict.measured)),
            f"[{style}]{_verdict_mark(verdict)}",
        )
    console.print(table)


def _all_verdicts(sections: Sequence[Section]) -> list[tuple[Section, Verdict]]:
    return [(section, verdict) for section in sections for verdict in section.measurement.verdicts]


def _markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return [line(headers), line(["---"] * len(headers)), *(line(row) for row in rows)]


def render_markdown(sections: Sequence[Section], run: RunInfo) -> str:
    machine = run.machine
    lines = [
        "# Benchmarks",
        "",
        f"Every figure below comes from one run of `{run.command}` from the repository root, "
        f"started {run.started_at:%Y-%m-%d %H:%M} UTC and lasting {run.seconds / 60:.1f} min. "
        "Run it again to refresh this file (`python -m bench --smoke` runs every benchmark at "
        "tiny sizes without writing it; `python -m bench --help` for the rest). Each section "
        "names the command that reproduces its figures alone. The benchmarks talk to the test "
        "suite's fake Apify and Gemini servers with injected latency: they measure our code "
        "against the APIs' limits, not the real services.",
        "",
        "## Machine",
        "",
        *_markdown_table(
            ["", ""],
            [
                ["CPU", f"{machine.cpu}, {machine.cores} cores"],
                ["memory", f"{machine.memory_gib:.1f} GiB"],
                [
                    "load average (1, 5, 15 min)",
                    f"{_load(machine.load_average)} at the start, "
                    f"{_load(run.load_average_at_end)} at the end",
                ],
                ["system", machine.system],
                ["Python", machine.python],
                [
                    "packages",
                    ", ".join(f"{name} {version}" for name, version in machine.packages.items()),
                ],
                ["commit", machine.commit],
            ],
        ),
        "",
        "The machine is shared with other developers working at the same time: a load average "
        f"near or above {machine.cores} means the figures include waiting for a core.",
        "",
        "## Targets",
        "",
        *_markdown_table(
            ["section", "target", "measured", ""],
            [
                [section.title, verdict.target, verdict.measured, _verdict_mark(verdict)]
                for section, verdict in _all_verdicts(sections)
            ],
        ),
    ]
    for section in sections:
        lines += _markdown_section(section)
    return "\n".join(lines) + "\n"


def _load(load_average: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.2f}" for value in load_average)


def _markdown_section(section: Section) -> list[str]:
    measurement = section.measurement
    lines = [
        "",
        f"## {section.title}",
        "",
        f"Command: `{section.command}` ({section.seconds:.0f} s in this run).",
        "",
        measurement.method,
    ]
    for result in measurement.tables:
        lines += [
            "",
            f"**{result.caption}**",
            "",
            *_markdown_table(_headers(result), [_cells(row) for row in result.rows]),
        ]
    if measurement.verdicts:
        lines += ["", "Targets:", ""]
        lines += [
            f"- **{_verdict_mark(verdict)}**: {verdict.target} — {verdict.measured}"
            for verdict in measurement.verdicts
        ]
    if measurement.notes:
        lines += ["", "What the numbers say:", ""]
        lines += [f"- {note}" for note in measurement.notes]
    return lines
