"""`track` and `refresh`: a cadence stored with a dataset of accounts and shown by `status`;
exports, missing credentials and bad cadences refused before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tiktok_virality.cli.main import EXIT_USAGE, main
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.apify_growth import GrowingProfiles, GrowingVideo
from tiktok_virality_tests.helpers import query


def test_track_stores_the_cadence_that_status_shows_and_stop_removes(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "create", "--dataset", "v1", "alice", "bob"]) == 0

    assert main(["track", "--dataset", "v1", "--every", "6h"]) == 0
    said = capsys.readouterr().out
    assert main(["status", "--dataset", "v1"]) == 0
    tracked = capsys.readouterr().out
    assert query(data_dir, "SELECT dataset, every_hours FROM tracked_datasets") == [("v1", 6.0)]
    assert main(["track", "--dataset", "v1", "--stop"]) == 0
    assert main(["status", "--dataset", "v1"]) == 0
    stopped = capsys.readouterr().out

    assert "refreshed every 6 h" in said and "refresh_tracked_datasets" in said
    assert "tracking: every 6 h, 0 refreshes, 0 snapshots from 0 scrapes" in tracked
    assert "tracking: not on a cadence" in stopped
    assert query(data_dir, "SELECT count(*) FROM tracked_datasets") == [(0,)]


def test_an_export_cannot_be_tracked_nor_refreshed(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "create", "--sample", "--dataset", "demo"]) == 0
    capsys.readouterr()

    assert main(["track", "--dataset", "demo", "--every", "1d"]) == EXIT_USAGE
    assert main(["refresh", "--dataset", "demo"]) == EXIT_USAGE

    assert capsys.readouterr().err.count("cannot be scraped again") == 2
    assert query(data_dir, "SELECT count(*) FROM tracked_datasets") == [(0,)]


def test_a_refresh_without_an_apify_token_is_refused_before_anything_is_asked(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "create", "--dataset", "v1", "alice"]) == 0

    assert main(["refresh", "--dataset", "v1"]) == EXIT_USAGE

    assert "APIFY_API_TOKEN is not set" in capsys.readouterr().err
    assert query(data_dir, "SELECT count(*) FROM dataset_refreshes") == [(0,)]


@pytest.mark.parametrize("cadence", ["30m", "6", "often"])
def test_a_cadence_it_cannot_use_is_refused_by_the_parser(
    data_dir: Path, cadence: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["track", "--dataset", "v1", "--every", cadence])

    assert exited.value.code == EXIT_USAGE
    assert "--every" in capsys.readouterr().err


# Two whole CLI commands (a run and a refresh) with the model after each.
@pytest.mark.slow
def test_refresh_scrapes_every_batch_again_with_a_new_paid_run(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_apify: FakeApify,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    profiles = GrowingProfiles(
        [
            GrowingVideo("alice", f"7{n:018d}", now - timedelta(hours=hours), 100)
            for n, hours in enumerate((30, 50, 70, 90), start=1)
        ],
        now=now - timedelta(hours=6),
    )
    fake_apify.on_run(profiles)
    monkeypatch.setenv("APIFY_API_TOKEN", "apify-token-canary")
    monkeypatch.setenv("APIFY_API_URL", fake_apify.url)
    create = ["dataset", "create", "--dataset", "v1", "--min-views", "0", "alice"]
    assert main(create) == 0
    assert main(["run", "--dataset", "v1"]) in (0, 1)  # the model of one account may not train
    profiles.advance(6)
    capsys.readouterr()

    exit_code = main(["refresh", "--dataset", "v1"])

    said = capsys.readouterr().out
    assert exit_code in (0, 1), said
    assert "v1: refresh 1, 1 batch" in said and "[1/1] v1/b001" in said
    assert len(fake_apify.runs) == 2
    assert query(data_dir, "SELECT count(DISTINCT scraped_at), count(*) FROM video_snapshots") == [
        (2, 8)
    ]
    assert query(data_dir, "SELECT max(views_per_hour) FROM video_features") == [(25.0,)]
