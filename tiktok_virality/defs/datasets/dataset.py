"""What a dataset is: a named list of accounts split into batches, its settings, and the rule that
pins its batch plan.

A dataset of accounts to scrape has batches of 1-10 accounts: one Apify run each. An export
dataset has batches by volume: whole accounts, up to about `DEFAULT_BATCH_VIDEOS` videos a batch,
because hashtag, search and trending exports hold hundreds of authors of one or two videos each,
and a partition costs about a second of orchestration whatever it holds (five authors a batch made
a 1,000-video export about 17 times as slow as the bundled sample).

The plan (account → batch) is pinned when an account is first added: a later run with another batch
size never moves an account that is already planned, so a materialized partition always means the
same accounts. Accounts added later go into new batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tiktok_virality.core.errors import UserError
from tiktok_virality.defs.scraping.thresholds import QualityThresholds

MIN_BATCH_SIZE = 1
MAX_BATCH_SIZE = 10
DEFAULT_BATCH_SIZE = 5
DEFAULT_VIDEOS_PER_ACCOUNT = 15
DEFAULT_MAX_TOTAL_VIDEOS = 500
DEFAULT_BATCH_VIDEOS = 500
MAX_BATCH_VIDEOS = 1_000_000


class InvalidSettingError(UserError, ValueError):
    """A dataset setting out of its range; the message says the range."""


# The origin of the bundled sample, and the start of an imported export's (then its file name).
SAMPLE_ORIGIN = "bundled sample"
EXPORT_ORIGIN_PREFIX = "export "


class DatasetSource(StrEnum):
    EXPORT = "export"  # items imported from an Apify export (or the bundled sample)
    ACCOUNTS = "accounts"  # accounts to scrape with Apify


@dataclass(frozen=True)
class ScrapeLimits:
    videos_per_account: int = DEFAULT_VIDEOS_PER_ACCOUNT
    max_total_videos: int = DEFAULT_MAX_TOTAL_VIDEOS
    # The dataset's budget in US dollars for paid work (`--max-cost-usd`); None: no limit.
    max_cost_usd: float | None = None

    def __post_init__(self) -> None:
        if self.videos_per_account < 1:
            raise InvalidSettingError(
                f"videos per account must be at least 1, not {self.videos_per_account}"
            )
        if self.max_total_videos < 1:
            raise InvalidSettingError(
                f"max total videos must be at least 1, not {self.max_total_videos}"
            )
        if self.max_cost_usd is not None and not self.max_cost_usd >= 0:
            raise InvalidSettingError(f"max cost must be at least $0, not {self.max_cost_usd}")


class ScrapeTimeBasis(StrEnum):
    """How an export's scrape time was found (`scrape_time.py` infers it). The values are stored
    with the dataset."""

    GIVEN = "given"
    FILE_NAME = "file_name"
    NEWEST_VIDEO = "newest_video"
    IMPORT_TIME = "import_time"


@dataclass(frozen=True)
class Dataset:
    name: str
    source: DatasetSource
    origin: str
    batch_size: int
    limits: ScrapeLimits
    created_at: datetime
    updated_at: datetime
    export_scraped_at: datetime | None  # when an export dataset's items were scraped
    thresholds: QualityThresholds
    # How export_scraped_at was found; None for datasets imported before it was recorded.
    export_scraped_at_basis: ScrapeTimeBasis | None = None
    # An export dataset's batches hold whole accounts up to this many videos; None: by accounts.
    batch_videos: int | None = None

    @property
    def kind(self) -> str:
        """What the dataset is, for people: `accounts`, `export` or `sample`. The bundled sample
        behaves as an export in every respect (its items are stored, it is made once, it needs no
        scraping), so it is no source of its own, only an origin."""
        if self.source is DatasetSource.EXPORT and self.origin == SAMPLE_ORIGIN:
            return "sample"
        return self.source.value


@dataclass(frozen=True)
class ExportContent:
    """The items of an Apify export, by account, and when they were scraped."""

    items_by_account: Mapping[str, Sequence[Mapping[str, Any]]]
    scraped_at: datetime
    scraped_at_basis: ScrapeTimeBasis = ScrapeTimeBasis.GIVEN


@dataclass(frozen=True)
class PlannedAccount:
    account: str
    batch: str


def validate_batch_size(batch_size: int) -> int:
    if not MIN_BATCH_SIZE <= batch_size <= MAX_BATCH_SIZE:
        raise InvalidSettingError(
            f"batch size must be between {MIN_BATCH_SIZE} and {MAX_BATCH_SIZE} accounts, "
            f"not {batch_size}"
        )
    return batch_size


def validate_batch_videos(batch_videos: int) -> int:
    if not 1 <= batch_videos <= MAX_BATCH_VIDEOS:
        raise InvalidSettingError(
            f"videos per batch must be between 1 and {MAX_BATCH_VIDEOS:,}, not {batch_videos}"
        )
    return batch_videos


def batch_key(number: int) -> str:
    return f"b{number:03d}"


def batch_number(key: str) -> int:
    return int(key.removeprefix("b"))


def plan_new_accounts(
    planned: Mapping[str, str], accounts: Sequence[str], batch_size: int
) -> list[PlannedAccount]:
    """Batches for the accounts not planned yet: new batches after the last one, never a planned one."""
    validate_batch_size(batch_size)
    new_accounts = [account for account in dict.fromkeys(accounts) if account not in planned]
    first_number = max((batch_number(batch) for batch in planned.values()), default=0) + 1
    return [
        PlannedAccount(account, batch_key(first_number + index // batch_size))
        for index, account in enumerate(new_accounts)
    ]


def plan_accounts_by_volume(
    planned: Mapping[str, str], video_counts: Mapping[str, int], batch_videos: int
) -> list[PlannedAccount]:
    """Batches for the accounts of `video_counts` not planned yet, in its order: whole accounts,
    a new batch whenever the next account would take the batch over `batch_videos` videos (an
    account with more has a batch of its own). New batches come after the last one."""
    validate_batch_videos(batch_videos)
    number = max((batch_number(batch) for batch in planned.values()), default=0) + 1
    in_batch = 0
    added: list[PlannedAccount] = []
    for account, videos in video_counts.items():
        if account in planned:
            continue
        if in_batch and in_batch + videos > batch_videos:
            number += 1
            in_batch = 0
        added.append(PlannedAccount(account, batch_key(number)))
        in_batch += videos
    return added
