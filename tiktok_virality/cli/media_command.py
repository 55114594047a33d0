"""`tiktok-virality media status | prune [--max-mb N]`: the media cache, the local copies of the
scraped video files (`defs/media/cache.py`), without Dagster."""

from __future__ import annotations

import argparse

from tiktok_virality.cli.run_log import say
from tiktok_virality.cli.session import migrate_existing
from tiktok_virality.config import load_settings
from tiktok_virality.defs.media.cache import MEDIA_CACHE_SCHEMA, MediaUsage, PruneResult
from tiktok_virality.resources import media_cache


def command_media(args: argparse.Namespace) -> int:
    settings = load_settings()
    migrate_existing(settings, [MEDIA_CACHE_SCHEMA])
    cache = media_cache(settings)
    if args.media_command == "status":
        say(describe_usage(cache.usage(), directory=cache.directory))
        return 0
    budget = None if args.max_mb is None else args.max_mb * 1_000_000
    if not settings.database.exists():  # nothing was ever cached: prune creates nothing
        say(describe_pruned(PruneResult(0, 0, 0, 0)))
        return 0
    say(describe_pruned(cache.prune(budget)))
    say(describe_usage(cache.usage(), directory=cache.directory))
    return 0


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def describe_usage(usage: MediaUsage, *, directory: str) -> str:
    line = (
        f"media cache {directory}: {usage.videos} videos in {usage.files} files, "
        f"{megabytes(usage.bytes)} of a {megabytes(usage.budget_bytes)} budget"
    )
    if usage.over_budget:
        line += "; over budget: `tiktok-virality media prune` frees the least recently used"
    return line


def describe_pruned(result: PruneResult) -> str:
    return (
        f"freed {megabytes(result.bytes_freed)} ({result.files_removed} files): "
        f"{result.unreferenced_videos} videos no dataset lists, "
        f"{result.evicted_videos} least recently used over the budget"
    )
