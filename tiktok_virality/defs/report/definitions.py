"""The report room's contribution to the graph: each dataset's HTML report."""

import dagster as dg

from tiktok_virality.defs.report.assets import virality_report

defs = dg.Definitions(assets=[virality_report])
