"""The model room's contribution to the graph: each dataset's virality model."""

import dagster as dg

from tiktok_virality.defs.model.assets import virality_model

defs = dg.Definitions(assets=[virality_model])
