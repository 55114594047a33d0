"""The scraping room's contribution to the graph: the batch's raw and rejected videos, with their
quality checks."""

import dagster as dg

from tiktok_virality.defs.scraping.assets import scrape_batch

defs = dg.Definitions(assets=[scrape_batch])
