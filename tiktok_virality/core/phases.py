"""The pipeline's phases, named as the original pipeline's `--retry-phase` names them."""

from enum import StrEnum


class Phase(StrEnum):
    SCRAPING = "scraping"
    ANALYSIS = "analysis"
    FEATURES = "features"


PHASES = tuple(Phase)
