"""Creating datasets: from an account list, from an Apify export, or from the bundled sample.

Each writes the batch plan (and an export's items) to DuckDB in one transaction, then registers the
dataset's partition keys with the Dagster instance; registering is idempotent, so a dataset whose
keys were lost (a new Dagster home) is registered again by `sync_partitions`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from tiktok_virality.core.naming import InvalidNameError, normalize_accounts, validate_dataset_name
from tiktok_virality.core.partitions import register_partitions
from tiktok_virality.defs.datasets.dataset import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BATCH_VIDEOS,
    EXPORT_ORIGIN_PREFIX,
    SAMPLE_ORIGIN,
    ExportContent,
    InvalidSettingError,
    PlannedAccount,
    ScrapeLimits,
    ScrapeTimeBasis,
)
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.datasets.sample import generate_sample_items
from tiktok_virality.defs.media.cache import MediaCache
from tiktok_virality.defs.scraping.exports import check_tiktok_export, read_export
from tiktok_virality.defs.scraping.normalize import item_account
from tiktok_virality.defs.scraping.quality import FUTURE_TOLERANCE, QualityThresholds
from tiktok_virality.defs.scraping.scrape_time import ScrapeTime, infer_scrape_time

# The name under which `run --offline` creates the bundled sample by itself: the README's quick
# start. Under any other name the sample is made only on request (`dataset create --sample`), so
# that a mistyped name is refused rather than made into a dataset.
SAMPLE_DATASET = "demo"


def read_accounts_file(path: Path) -> list[str]:
    """Accounts from a file, one per line (`name`, `@name` or a profile URL; `#` starts a comment)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidNameError(f"accounts file {path} does not exist") from None
    except UnicodeDecodeError as error:
        raise InvalidNameError(f"accounts file {path} is not UTF-8 text: {error.reason}") from None
    except OSError as error:  # a directory, no permission, a name too long
        raise InvalidNameError(
            f"accounts file {path} cannot be read: {error.strerror or error}"
        ) from None
    except ValueError:  # a NUL character, which no file name can hold
        raise InvalidNameError(
            f"accounts file {str(path)!r} is not a file name: it holds a NUL character"
        ) from None
    accounts = normalize_accounts(text.splitlines())
    if not accounts:
        raise InvalidNameError(f"accounts file {path} lists no accounts")
    return accounts


def sync_partitions(instance: dg.DagsterInstance, registry: DatasetRegistry, dataset: str) -> None:
    register_partitions(instance, [dataset], registry.batches(dataset))


def add_accounts(
    instance: dg.DagsterInstance,
    registry: DatasetRegistry,
    dataset: str,
    raw_accounts: Iterable[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    limits: ScrapeLimits | None = None,
    thresholds: QualityThresholds | None = None,
) -> list[PlannedAccount]:
    """Create an account-list dataset, or add new accounts to one (in new batches)."""
    validate_dataset_name(dataset)
    accounts = normalize_accounts(raw_accounts)
    added = registry.add_accounts(
        dataset, accounts, batch_size=batch_size, limits=limits, thresholds=thresholds
    )
    sync_partitions(instance, registry, dataset)
    return added


def group_items_by_account(
    items: Sequence[Mapping[str, Any]],
) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    unattributed: list[int] = []
    for index, item in enumerate(items):
        account = item_account(item)
        if account is None:
            unattributed.append(index)
        else:
            grouped.setdefault(account, []).append(item)
    if unattributed:
        shown = ", ".join(str(index + 1) for index in unattributed[:5])
        raise InvalidNameError(
            f"{len(unattributed)} item(s) name no account we can use (neither `input` nor "
            f"`authorMeta.name` is a TikTok username): item(s) {shown}"
        )
    return grouped


def create_export_dataset(
    instance: dg.DagsterInstance,
    registry: DatasetRegistry,
    dataset: str,
    items: Sequence[Mapping[str, Any]],
    *,
    origin: str,
    scraped_at: datetime | ScrapeTime,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_videos: int | None = None,
) -> list[PlannedAccount]:
    """An export dataset of `items`: batches of `batch_size` accounts, or, with `batch_videos`,
    of whole accounts up to that many videos. A bare `scraped_at` is taken as given."""
    validate_dataset_name(dataset)
    if not items:
        raise InvalidNameError(f"the export for dataset {dataset!r} holds no items")
    grouped = group_items_by_account(items)
    # The scrape limits' defaults would drop videos the export already holds: keep them all.
    keep_everything = ScrapeLimits(
        videos_per_account=max(len(account_items) for account_items in grouped.values()),
        max_total_videos=len(items),
    )
    scrape_time = (
        scraped_at
        if isinstance(scraped_at, ScrapeTime)
        else ScrapeTime(scraped_at, ScrapeTimeBasis.GIVEN)
    )
    added = registry.add_accounts(
        dataset,
        list(grouped),
        batch_size=batch_size,
        limits=keep_everything,
        origin=origin,
        export=ExportContent(
            items_by_account=grouped,
            scraped_at=scrape_time.at,
            scraped_at_basis=scrape_time.basis,
        ),
        batch_videos=batch_videos,
    )
    sync_partitions(instance, registry, dataset)
    return added


def import_export_file(
    instance: dg.DagsterInstance,
    registry: DatasetRegistry,
    dataset: str,
    path: Path,
    *,
    scraped_at: datetime | None = None,
    batch_size: int | None = None,
    batch_videos: int = DEFAULT_BATCH_VIDEOS,
) -> list[PlannedAccount]:
    """A dataset from an Apify export file (JSON, JSONL or console CSV), in batches of whole
    accounts up to `batch_videos` videos, or of `batch_size` accounts when that is given.

    Exports do not say when they were scraped: without `scraped_at`, the time is inferred from the
    console's file name, else the newest video, else the import time (scrape_time.py)."""
    validate_dataset_name(dataset)
    now = datetime.now(UTC)
    if scraped_at is not None and scraped_at > now + FUTURE_TOLERANCE:
        # Every video would look older than it is (its age counts from this time), and an export
        # dataset is made only once: refused now rather than discovered in the features.
        raise InvalidSettingError(
            f"the export cannot have been scraped at {scraped_at.isoformat()}, which is in the "
            "future: give the time it was downloaded, or leave --scraped-at out to infer it"
        )
    items = read_export(path)
    check_tiktok_export(items, path)
    return create_export_dataset(
        instance,
        registry,
        dataset,
        items,
        origin=f"{EXPORT_ORIGIN_PREFIX}{path.name}",
        scraped_at=scraped_at or infer_scrape_time(path, items, now=now),
        batch_size=batch_size or DEFAULT_BATCH_SIZE,
        batch_videos=None if batch_size else batch_videos,
    )


def create_sample_dataset(
    instance: dg.DagsterInstance,
    registry: DatasetRegistry,
    dataset: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    media: MediaCache | None = None,
) -> list[PlannedAccount]:
    """The sample as a dataset; with `media`, its videos' files made and cached too, so that the
    offline demo measures their signals (`defs/signals/sample_media.py`)."""
    scraped_at = now or datetime.now(UTC)
    items = generate_sample_items(scraped_at=scraped_at)
    planned = create_export_dataset(
        instance,
        registry,
        dataset,
        items,
        origin=SAMPLE_ORIGIN,
        scraped_at=scraped_at,
        batch_size=batch_size,
    )
    if media is not None:
        # Imported here: making videos needs PyAV and OpenCV, which nothing else here does.
        from tiktok_virality.defs.signals.sample_media import put_sample_media

        put_sample_media(media, items)
    return planned
