"""The signals phase's asset: each raw video's file, from the media cache, measured locally
(`measure_video`, pure and tested directly). No API, no cost: it runs offline as online. A video
whose file is missing or damaged gets a row of nulls with the reason, never a failed batch."""

from pathlib import Path

import dagster as dg
import pandas as pd

from tiktok_virality.defs.media.cache import MediaCache
from tiktok_virality.defs.signals.reasons import NO_MEDIA
from tiktok_virality.warehouse.contracts import PANDAS_DTYPES, VIDEO_IDENTITY_COLUMNS
from tiktok_virality.warehouse.io_manager import COLUMNS_KEY
from tiktok_virality.warehouse.outputs import partitioned_table_asset
from tiktok_virality.warehouse.tables import RAW_VIDEOS, VIDEO_SIGNALS

# How often the log says how far a batch has got (decoding takes about a second a video).
_PROGRESS_EVERY = 25
# Bumped when a signal's definition or sampling changes: the UI then shows the stored signals as
# out of date.
SIGNALS_VERSION = "1"
_DTYPES = {name: PANDAS_DTYPES.get(sql, "string") for name, sql in VIDEO_SIGNALS.sql_types.items()}


def signals_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The `VIDEO_SIGNALS` frame of these rows, each column in its nullable dtype."""
    frame = pd.DataFrame(rows, columns=VIDEO_SIGNALS.column_names)
    return frame.astype(_DTYPES)


@partitioned_table_asset(
    VIDEO_SIGNALS,
    ins={RAW_VIDEOS.name: dg.AssetIn(metadata={COLUMNS_KEY: list(VIDEO_IDENTITY_COLUMNS)})},
    code_version=f"signals-{SIGNALS_VERSION}",
)
def video_signals(
    context: dg.AssetExecutionContext, raw_videos: pd.DataFrame, media_cache: MediaCache
) -> pd.DataFrame:
    """The partition's videos measured from their files (`media_cache.paths_for`, one lookup)."""
    # Imported here: the media libraries take seconds to load, and the graph is loaded by every
    # command that only reads status.
    from tiktok_virality.defs.signals.measure import measure_video

    rows = []
    paths = media_cache.paths_for(raw_videos["video_id"].astype(str))
    # The cache names files by content: videos with the same bytes (reposts) are measured once.
    measured: dict[Path | None, dict[str, object]] = {}
    for number, video in enumerate(raw_videos[VIDEO_IDENTITY_COLUMNS].itertuples(index=False), 1):
        path = paths.get(str(video.video_id))
        if path not in measured:
            measured[path] = measure_video(path)
        rows.append({**video._asdict(), **measured[path]})
        if number % _PROGRESS_EVERY == 0:
            context.log.info(f"signals: {number} of {len(raw_videos)} videos measured")
    signals = signals_frame(rows)
    notes = signals["signals_note"]
    context.add_output_metadata(
        {
            "videos": len(signals),
            "measured": int(notes.isna().sum()),
            "without_file": int(notes.eq(NO_MEDIA).sum()),
            "with_note": int((notes.notna() & notes.ne(NO_MEDIA)).sum()),
        }
    )
    return signals
