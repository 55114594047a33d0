"""A real CLI run stopped mid-partition — by Ctrl-C or by SIGKILL — while Gemini is watching its
videos: the next plain `run` resumes where it stopped, and the tables end up equal, value for value,
to those of a run that was never interrupted; no video answered before the stop is paid for again.
"""

import signal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tiktok_virality.cli.main import EXIT_INTERRUPTED
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.live_cli import (
    WatchingGemini,
    cli,
    cli_env,
    finished,
    import_sample,
    tables,
)

# Slow: `pytest -m slow` runs it (CI does), the default suite does not (pyproject.toml).
pytestmark = pytest.mark.slow

STOP_AT_CALL = 40  # of the sample's ~117 videos: inside the first batch


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_a_run_stopped_mid_partition_resumes_to_the_tables_of_an_uninterrupted_run(
    stop: signal.Signals,
    tmp_path: Path,
    sample_export: Path,
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
) -> None:
    videos = len(uninterrupted_tables["raw_videos"])
    assert videos > STOP_AT_CALL
    data = tmp_path / "data"
    env = cli_env(data, module_fake_apify, module_fake_gemini)
    gemini = WatchingGemini(module_fake_gemini, stop_at=STOP_AT_CALL)
    module_fake_gemini.on_generate(gemini)
    import_sample(data, sample_export)

    # One batch after the other (parallel runs: test_parallel_runs.py).
    stopped = cli(env, "run", "--dataset", "cut", "--parallel", "1")
    assert gemini.reached.wait(timeout=120), "the run never reached the call to stop at"
    stopped.send_signal(stop)
    code, output = finished(stopped)
    gemini.release.set()  # calls still held answer now, to a client that has gone
    answered_before = set(gemini.answered)
    with duckdb.connect(str(data / "tiktok_virality.duckdb"), read_only=True) as connection:
        kept = {row[0] for row in connection.sql("SELECT video_id FROM analysis_cache").fetchall()}
    gemini.calls.clear()

    resumed_code, resumed = finished(cli(env, "run", "--dataset", "cut"))

    if stop is signal.SIGINT:
        assert code == EXIT_INTERRUPTED, output
        assert "interrupted: 0 partitions finished before; run the same command again" in output
    else:
        assert code == -signal.SIGKILL
        assert "1 earlier run stopped without finishing (killed?)" in resumed
    assert resumed_code == 0, resumed
    assert "2 partitions materialized, 0 failed" in resumed
    # Every analysis answered and stored before the stop was kept and not asked for again.
    assert 0 < len(kept) < videos
    assert len(kept) <= len(answered_before)
    assert not kept & set(gemini.calls)
    assert sum(gemini.calls.values()) == videos - len(kept)
    actual = tables(data)
    for name, frame in uninterrupted_tables.items():
        pd.testing.assert_frame_equal(actual[name], frame, obj=name)
