"""The features room's contribution to the graph: the batch's model features."""

import dagster as dg

from tiktok_virality.defs.features.assets import video_features

defs = dg.Definitions(assets=[video_features])
