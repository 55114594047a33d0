"""Benchmarks of the tiktok-virality pipeline: how close it gets to the APIs' limits, and how its
cost grows with the work.

From the repository root:

    python -m bench            # every benchmark at full size; writes docs/benchmarks.md
    python -m bench --smoke    # every benchmark at tiny sizes (the test suite runs this)
    python -m bench --only analysis rerun

One module per benchmark (`analysis`, `scraping`, `features`, `orchestration`, `rerun`,
`duckdb_growth`, `cli_latency`), each returning typed result rows; `suite` runs them, `report` renders them. The
APIs are the test suite's fake servers (`tiktok_virality_tests/fakes`) with injected latency.
"""
