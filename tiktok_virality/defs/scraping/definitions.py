"""The scraping room's contribution to the graph: the batch's raw and rejected videos, with their
quality checks."""

from tiktok_virality.defs.domain import domain_definitions
from tiktok_virality.defs.scraping.assets import scrape_batch

defs = domain_definitions("scraping", scrape_batch, kinds={"apify"})
