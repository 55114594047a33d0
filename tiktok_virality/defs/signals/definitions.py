"""The signals room's contribution to the graph: each video's measured signals."""

from tiktok_virality.defs.domain import domain_definitions
from tiktok_virality.defs.signals.assets import video_signals

defs = domain_definitions("signals", video_signals, kinds={"pandas"})
