"""The report room's contribution to the graph: each dataset's HTML report."""

from tiktok_virality.defs.domain import domain_definitions
from tiktok_virality.defs.report.assets import virality_report

defs = domain_definitions("report", virality_report, kinds={"html", "matplotlib"})
