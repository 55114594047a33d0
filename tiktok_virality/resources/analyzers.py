"""Who analyses the videos: Gemini watching them, or the offline analyzer reading their metadata."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from tiktok_virality.analysis.offline import analyze_offline


class VideoAnalyzer(dg.ConfigurableResource, ABC):
    @abstractmethod
    def analyze(self, videos: pd.DataFrame, log: logging.Logger) -> pd.DataFrame:
        """One analysis row per video (the `video_analyses` contract)."""


class OfflineAnalyzer(VideoAnalyzer):
    """Fills only what metadata honestly tells (from the caption, hashtags and slideshow flag);
    never pretends to have watched the video: rows are marked `analyzer = 'offline'` and video-only
    fields stay null."""

    def analyze(self, videos: pd.DataFrame, log: logging.Logger) -> pd.DataFrame:
        log.info("offline analysis of %d videos from their metadata", len(videos))
        return analyze_offline(videos, analyzed_at=datetime.now(UTC))
