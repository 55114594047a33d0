"""`python -m bench`: run the benchmarks, print their tables, and (for a full run of all of them)
write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench.core import REPO_ROOT
from bench.machine import describe_machine
from bench.report import RunInfo, print_section, print_verdicts, render_markdown
from bench.suite import KEYS, command, run_suite

DOCUMENT = REPO_ROOT / "docs" / "benchmarks.md"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Benchmarks of the pipeline against the fake Apify and Gemini servers. A full run of "
            f"every benchmark writes {DOCUMENT.relative_to(REPO_ROOT)}."
        ),
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, to check that every benchmark works"
    )
    parser.add_argument("--only", nargs="+", choices=KEYS, help="run only these benchmarks")
    parser.add_argument(
        "--doc",
        type=Path,
        help=f"write the document here (default: {DOCUMENT.relative_to(REPO_ROOT)} for a full "
        "run of every benchmark, none otherwise)",
    )
    parser.add_argument("--no-doc", action="store_true", help="write no document")
    parser.add_argument(
        "--work-dir", type=Path, help="keep the scratch files here (default: a temporary folder)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    machine = describe_machine()
    started_at, started = datetime.now(UTC), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tiktok-virality-bench-") as scratch:
        sections = run_suite(
            args.work_dir or Path(scratch),
            smoke=args.smoke,
            only=args.only,
            on_section=lambda section: print_section(console, section),
        )
    print_verdicts(console, sections)
    document = args.doc or (None if args.smoke or args.only else DOCUMENT)
    if document is not None and not args.no_doc:
        run = RunInfo(
            command=command(smoke=args.smoke, only=args.only),
            started_at=started_at,
            seconds=time.perf_counter() - started,
            machine=machine,
            load_average_at_end=os.getloadavg(),
        )
        document.write_text(render_markdown(sections, run), encoding="utf-8")
        console.print(f"wrote {document}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
