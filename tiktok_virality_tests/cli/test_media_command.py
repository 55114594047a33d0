"""`media status` and `media prune` tell what the cache holds and what a prune freed."""

from pathlib import Path

import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.config import load_settings
from tiktok_virality.defs.media.cache import MEDIA_CACHE_SCHEMA
from tiktok_virality.resources import media_cache
from tiktok_virality.warehouse.migrations import migrate


def test_media_status_and_prune_to_a_budget(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOK_VIRALITY_MEDIA_MAX_MB", "3")
    settings = load_settings()
    migrate(settings.database, [MEDIA_CACHE_SCHEMA])
    cache = media_cache(settings)
    assert Path(cache.directory) == settings.database.parent / "media"
    for video_id in ("old", "new"):
        cache.put(video_id, video_id.encode() * 1_000_000)
        # Recently stored files no dataset lists are kept: only the budget frees here.

    assert main(["media", "status"]) == 0
    assert "2 videos in 2 files, 6.0 MB of a 3.0 MB budget; over budget" in capsys.readouterr().out

    assert main(["media", "prune", "--max-mb", "3"]) == 0
    out = capsys.readouterr().out
    assert "freed 3.0 MB (1 files): 0 videos no dataset lists, 1 least recently used" in out
    assert cache.cached_ids(["old", "new"]) == {"new"}


def test_media_commands_create_no_database(data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["media", "prune"]) == 0
    assert main(["media", "status"]) == 0
    assert "0 videos in 0 files, 0.0 MB of a 5,000.0 MB budget" in capsys.readouterr().out
    assert not load_settings().database.exists()
