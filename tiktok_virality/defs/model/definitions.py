"""The model room's contribution to the graph: each dataset's virality model."""

from tiktok_virality.defs.domain import domain_definitions
from tiktok_virality.defs.model.assets import virality_model

defs = domain_definitions("model", virality_model, kinds={"scikitlearn"})
