"""When an Apify export was scraped, inferred on import: an export's items do not say, and every
age rule and feature counts from it (a 2022 export taken as scraped today would have every video
rejected as older than six months).

In the order of trust:
1. `given`: the user said so (`--scraped-at`); the bundled sample knows when it was generated.
2. `file_name`: the Apify console names every download `dataset_<actor>_<YYYY-MM-DD_HH-MM-SS-mmm>`
   (UTC), e.g. `dataset_tiktok-scraper_2022-07-27_14-03-22-417.csv`: the time of the download,
   minutes to days after the scrape. A browser's ` (1)` before the extension is allowed.
3. `newest_video`: the newest video's posting time. The scrape was at or after it, so it is a
   lower bound: videos look younger than they were at the scrape, never older.
4. `import_time`: nothing better is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tiktok_virality.defs.datasets.dataset import ScrapeTimeBasis

_CONSOLE_FILE_NAME = re.compile(
    r"dataset_.+_(?P<stamp>\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-\d{3})(?: \(\d+\))?(?:\.\w+)?",
    re.ASCII,
)
_CONSOLE_STAMP_FORMAT = "%Y-%m-%d_%H-%M-%S-%f"


BASIS_DESCRIPTIONS: Mapping[ScrapeTimeBasis, str] = {
    ScrapeTimeBasis.GIVEN: "as given",
    ScrapeTimeBasis.FILE_NAME: "from the Apify console's file name",
    ScrapeTimeBasis.NEWEST_VIDEO: (
        "the newest video's posting time: a lower bound, give --scraped-at if you know better"
    ),
    ScrapeTimeBasis.IMPORT_TIME: (
        "the import time: neither the file name nor the videos say; give --scraped-at"
    ),
}


@dataclass(frozen=True)
class ScrapeTime:
    at: datetime
    basis: ScrapeTimeBasis

    def describe(self) -> str:
        """E.g. 'scraped 2022-07-27 14:03 UTC (from the Apify console's file name)'."""
        return f"scraped {self.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({BASIS_DESCRIPTIONS[self.basis]})"


def infer_scrape_time(
    path: Path, items: Iterable[Mapping[str, Any]], *, now: datetime
) -> ScrapeTime:
    """The export's scrape time from its file name, else its newest video, else `now` (the
    import time)."""
    from_name = console_download_time(path.name)
    if from_name is not None:
        return ScrapeTime(from_name, ScrapeTimeBasis.FILE_NAME)
    # A posting time after the import is a broken timestamp, not a bound (quality control rejects
    # its video as posted after the scrape).
    newest = max((t for t in map(posted_at, items) if t is not None and t <= now), default=None)
    if newest is not None:
        return ScrapeTime(newest, ScrapeTimeBasis.NEWEST_VIDEO)
    return ScrapeTime(now, ScrapeTimeBasis.IMPORT_TIME)


def console_download_time(file_name: str) -> datetime | None:
    """The UTC time in an Apify console download's name; None for any other name."""
    match = _CONSOLE_FILE_NAME.fullmatch(file_name)
    if match is None:
        return None
    try:
        return datetime.strptime(match["stamp"], _CONSOLE_STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # a 13th month, a 61st second: not a time
        return None


def posted_at(item: Mapping[str, Any]) -> datetime | None:
    """When the item's video was posted, as the normalizer reads it; None when it cannot say."""
    # Imported here: the normalizer needs pandas, which `dataset show` (describing a scrape time)
    # does not wait for.
    from tiktok_virality.defs.scraping.normalize import POSTING_TIME_FIELDS

    for path, coerce in POSTING_TIME_FIELDS:
        value: Any = item
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        try:
            timestamp = coerce(value)
        except ValueError:
            continue
        if timestamp is not None:
            return timestamp.to_pydatetime()
    return None
