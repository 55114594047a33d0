"""The features room's contribution to the graph: the batch's model features."""

from tiktok_virality.defs.domain import domain_definitions
from tiktok_virality.defs.features.assets import video_features

defs = domain_definitions("features", video_features, kinds={"pandas"})
