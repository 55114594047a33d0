"""6. DuckDB growth: the asset tables at growing sizes, written through the IO manager's own
`write_partition`, and the time of a typical notebook query over the whole dataset."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from bench import synthetic
from bench.core import MEGABYTE, Benchmark, Measurement, ResultTable, column
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.features.build import build_features
from tiktok_virality.warehouse.contracts import TableContract
from tiktok_virality.warehouse.io_manager import write_partition
from tiktok_virality.warehouse.tables import RAW_VIDEOS, VIDEO_ANALYSES, VIDEO_FEATURES

_DATASET = "bench"
_ANALYSIS_SEED = 7
ENGAGEMENT_BY_HASHTAG = """
SELECT tag,
       count(*) AS videos,
       median(play_count) AS median_views,
       avg((like_count + comment_count + share_count + coalesce(save_count, 0))
           / nullif(play_count, 0)) AS avg_engagement_rate
FROM raw_videos, unnest(hashtags) AS t(tag)
GROUP BY tag
ORDER BY videos DESC
"""


@dataclass(frozen=True)
class DuckDBConfig:
    sizes: tuple[int, ...]
    partition_rows: int
    query_repeats: int


FULL = DuckDBConfig(sizes=(10_000, 100_000, 1_000_000), partition_rows=100_000, query_repeats=5)
SMOKE = DuckDBConfig(sizes=(500, 1_000, 2_000), partition_rows=1_000, query_repeats=2)


@dataclass(frozen=True)
class GrowthRow:
    videos: int = column("videos", "{:,}")
    raw_videos_mb: float = column("raw_videos MB", "{:,.1f}")
    video_analyses_mb: float = column("video_analyses MB", "{:,.1f}")
    video_features_mb: float = column("video_features MB", "{:,.1f}")
    file_mb: float = column("file MB", "{:,.1f}")
    bytes_per_video: float = column("bytes per video", "{:,.0f}")
    write_seconds: float = column("writing the 3 tables s", "{:.1f}")
    hashtags: int = column("hashtags (groups)", "{:,}")
    query_first_ms: float = column("query, first run ms", "{:,.0f}")
    query_median_ms: float = column("query, median ms", "{:,.0f}")


def measure(config: DuckDBConfig, work_dir: Path) -> Measurement:
    rows = [_grow(videos, config, work_dir / f"videos_{videos}.duckdb") for videos in config.sizes]
    largest = rows[-1]
    return Measurement(
        method=(
            "Per size, a fresh DuckDB file gets `raw_videos` (with each video's ~2 KB `raw_item` "
            "JSON and URL), then `video_analyses` (each with its own summary), then "
            "`video_features` (computed by `build_features`), each written with the IO manager's "
            f"`write_partition` in partitions of up to {config.partition_rows:,} rows "
            "(a real batch is at most 150 videos; the storage does not depend on it much). A "
            "table's size is the blocks it added to the file (256 KiB each, counted after a "
            "CHECKPOINT); the file size is the file's on disk. The "
            f"query (median of {config.query_repeats} runs on a read-only connection, as from a "
            f"notebook):\n```sql{ENGAGEMENT_BY_HASHTAG}```"
        ),
        tables=[ResultTable("Table sizes and query time by size", rows)],
        notes=[
            f"At {largest.videos:,} videos the file holds {largest.file_mb:,.0f} MB "
            f"({largest.bytes_per_video:,.0f} bytes per video), "
            f"{largest.raw_videos_mb / largest.file_mb:.0%} of it `raw_videos`, whose rows each "
            "carry the Apify item as received (~2 KB of JSON, kept to re-derive columns). The "
            "query over every video and hashtag "
            f"takes {largest.query_median_ms:,.0f} ms: notebook queries stay interactive at "
            "this size.",
            "The synthetic captions repeat the sample's 120, so the caption column compresses "
            "better than real captions would; raw items, URLs, summaries and analysis JSON are "
            "written out per video.",
        ],
    )


def _grow(videos: int, config: DuckDBConfig, database: Path) -> GrowthRow:
    started = time.perf_counter()
    sizes = {
        contract.name: _write_table(database, contract, frames(videos, config))
        for contract, frames in (
            (RAW_VIDEOS, _raw_partitions),
            (VIDEO_ANALYSES, _analysis_partitions),
            (VIDEO_FEATURES, _feature_partitions),
        )
    }
    write_seconds = time.perf_counter() - started
    with duckdb.connect(str(database), read_only=True) as connection:
        timings, groups = [], 0
        for _ in range(config.query_repeats):
            begun = time.perf_counter()
            groups = len(connection.execute(ENGAGEMENT_BY_HASHTAG).fetchall())
            timings.append(time.perf_counter() - begun)
    file_bytes = database.stat().st_size
    return GrowthRow(
        videos=videos,
        raw_videos_mb=sizes[RAW_VIDEOS.name] / MEGABYTE,
        video_analyses_mb=sizes[VIDEO_ANALYSES.name] / MEGABYTE,
        video_features_mb=sizes[VIDEO_FEATURES.name] / MEGABYTE,
        file_mb=file_bytes / MEGABYTE,
        bytes_per_video=file_bytes / videos,
        write_seconds=write_seconds,
        hashtags=groups,
        query_first_ms=1000 * timings[0],
        query_median_ms=1000 * statistics.median(timings),
    )


def _write_table(
    database: Path,
    contract: TableContract,
    partitions: Iterator[tuple[VideoPartition, pd.DataFrame]],
) -> int:
    """Writes the partitions; returns the bytes of the blocks the table added to the file."""
    before = _used_bytes(database)
    for partition, frame in partitions:
        write_partition(database, contract.name, contract.sql_types, partition, frame)
    return _used_bytes(database) - before


def _used_bytes(database: Path) -> int:
    """The file's blocks in use after a checkpoint (free blocks left by a rewrite not counted)."""
    if not database.exists():
        return 0
    with duckdb.connect(str(database)) as connection:
        connection.execute("CHECKPOINT")
        row = connection.execute(
            "SELECT used_blocks * block_size FROM pragma_database_size()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _chunks(
    videos: int, config: DuckDBConfig, make: Callable[[pd.DataFrame], pd.DataFrame], *, text: bool
) -> Iterator[tuple[VideoPartition, pd.DataFrame]]:
    """Each partition's rows: the same videos for every table (same seeds), `make` turning the
    partition's raw videos into the table's frame."""
    for number, first in enumerate(range(0, videos, config.partition_rows), start=1):
        partition = VideoPartition(_DATASET, f"p{number:04d}")
        raw = synthetic.raw_videos(
            min(config.partition_rows, videos - first),
            seed=number,
            first_video=first,
            dataset=_DATASET,
            per_row_text=text,
        ).assign(batch=partition.batch)
        yield partition, make(raw)


def _raw_partitions(
    videos: int, config: DuckDBConfig
) -> Iterator[tuple[VideoPartition, pd.DataFrame]]:
    return _chunks(videos, config, lambda raw: raw, text=True)


def _analyses(raw: pd.DataFrame, *, per_row_text: bool) -> pd.DataFrame:
    return synthetic.video_analyses(raw, seed=_ANALYSIS_SEED, per_row_text=per_row_text)


def _analysis_partitions(
    videos: int, config: DuckDBConfig
) -> Iterator[tuple[VideoPartition, pd.DataFrame]]:
    return _chunks(videos, config, lambda raw: _analyses(raw, per_row_text=True), text=False)


def _feature_partitions(
    videos: int, config: DuckDBConfig
) -> Iterator[tuple[VideoPartition, pd.DataFrame]]:
    return _chunks(
        videos,
        config,
        lambda raw: build_features(raw, _analyses(raw, per_row_text=False)),
        text=False,
    )


BENCHMARK = Benchmark(
    key="duckdb",
    title="6. DuckDB growth and a notebook query",
    full=FULL,
    smoke=SMOKE,
    measure=measure,
)
