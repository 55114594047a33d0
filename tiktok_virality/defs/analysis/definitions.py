"""The analysis room's contribution to the graph: the batch's video analyses."""

from tiktok_virality.defs.analysis.assets import video_analyses
from tiktok_virality.defs.domain import domain_definitions

defs = domain_definitions("analysis", video_analyses, kinds={"gemini"})
