"""The `video_signals` asset through Dagster: a row per raw video, measured where the media cache
has its file, nulls and the reason where it has none or a damaged one; the partition succeeds."""

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from tiktok_virality.core.partitions import VideoPartition, register_partitions
from tiktok_virality.defs.media.cache import MEDIA_CACHE_SCHEMA, MediaCache
from tiktok_virality.defs.signals.assets import video_signals
from tiktok_virality.defs.signals.reasons import NO_MEDIA
from tiktok_virality.defs.signals.synthetic import Shot, Sound, render_video
from tiktok_virality.warehouse.io_manager import WAREHOUSE_IO_MANAGER, DuckDBPartitionIOManager
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality.warehouse.outputs import partitioned_table_asset
from tiktok_virality.warehouse.tables import RAW_VIDEOS

PARTITION = VideoPartition("v1", "b001")


@partitioned_table_asset(RAW_VIDEOS)
def raw_videos() -> pd.DataFrame:
    """Three scraped videos, as the scrape stores them (the columns the signals read)."""
    frame = RAW_VIDEOS.empty_frame()
    ids = ["7001", "7002", "7003"]
    return pd.concat(
        [
            frame,
            pd.DataFrame({"dataset": "v1", "batch": "b001", "account": "creator", "video_id": ids}),
        ]
    )


def test_each_video_is_measured_from_its_cached_file_or_says_why_not(tmp_path: Path) -> None:
    database = tmp_path / "data.duckdb"
    migrate(database, [MEDIA_CACHE_SCHEMA])
    media = MediaCache(database=str(database), directory=str(tmp_path / "media"), max_bytes=10**9)
    media.put("7001", render_video([Shot(1.0, (200, 20, 20))], [Sound(1.0, 440.0, 0.3)]))
    media.put("7002", b"damaged")  # 7003: not cached
    instance = dg.DagsterInstance.ephemeral()
    register_partitions(instance, [PARTITION.dataset], [PARTITION.batch])

    result = dg.materialize(
        [raw_videos, video_signals],
        instance=instance,
        resources={
            WAREHOUSE_IO_MANAGER: DuckDBPartitionIOManager(database=str(database)),
            "media_cache": media,
        },
        partition_key=PARTITION.key,
    )

    assert result.success
    with duckdb.connect(str(database)) as connection:
        stored = connection.execute(
            "SELECT video_id, brightness IS NOT NULL, loudness_lufs IS NOT NULL, signals_note "
            "FROM video_signals ORDER BY video_id"
        ).fetchall()
    assert stored[0] == ("7001", True, True, None)
    assert stored[1][:3] == ("7002", False, False)
    assert stored[1][3].startswith("unreadable media file")
    assert stored[2] == ("7003", False, False, NO_MEDIA)
    metadata = result.asset_materializations_for_node("video_signals")[0].metadata
    assert (metadata["measured"].value, metadata["without_file"].value) == (1, 1)
