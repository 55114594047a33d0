"""The analysis room's contribution to the graph: the batch's video analyses."""

import dagster as dg

from tiktok_virality.defs.analysis.assets import video_analyses

defs = dg.Definitions(assets=[video_analyses])
