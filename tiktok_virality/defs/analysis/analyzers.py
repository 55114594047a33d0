"""Who analyses the videos: Gemini watching them, or the offline analyzer reading their metadata."""

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from tiktok_virality.core.errors import RecordedError
from tiktok_virality.defs.analysis.offline import analyze_offline


@dataclass(frozen=True)
class TokenUsage:
    """The tokens a service billed for one video's analysis, as its answers' `usage_metadata`
    reported them (thinking tokens are billed at the output price)."""

    prompt: int = 0
    output: int = 0
    thinking: int = 0

    def __add__(self, other: "TokenUsage") -> "TokenUsage":
        return TokenUsage(
            self.prompt + other.prompt, self.output + other.output, self.thinking + other.thinking
        )


@dataclass(frozen=True)
class AnalysisResult:
    """The analyses made (the `video_analyses` contract), and what went wrong per video: permanent
    errors leave a video without analysis; the others fail the partition, to be retried. `usage`
    holds the tokens paid this run, by video id (none for cached or offline analyses)."""

    analyses: pd.DataFrame
    errors: list[RecordedError] = field(default_factory=list)
    usage: dict[str, TokenUsage] = field(default_factory=dict)

    @property
    def retryable_errors(self) -> list[RecordedError]:
        return [error for error in self.errors if not error.permanent]


class BudgetReached(RuntimeError):
    """The dataset's budget would be passed by the next paid call: no more calls start. `reason`
    says what was spent and the budget, `resume` how to go on."""

    def __init__(self, reason: str, resume: str) -> None:
        super().__init__(f"{reason}; {resume}")
        self.reason = reason
        self.resume = resume


class SpendingGate:
    """What an analyzer asks before each paid call and reports after it. This one admits every
    call and records nothing; the pipeline passes the cost room's `AnalysisSpending`, which keeps
    the dataset's budget and its ledger (defs/costs)."""

    @contextmanager
    def call(self, model: str, expected: TokenUsage) -> Iterator[Callable[[TokenUsage], None]]:
        """Admit a call expected to bill `expected` (or raise BudgetReached); the call reports what
        it was billed through the function yielded."""
        yield lambda billed: None

    def paid(self, model: str, analysis: str, usage: dict[str, TokenUsage]) -> None:
        """Answers stored, with the tokens each video's analysis was billed (`analysis` names what
        was paid for: the model, schema version and controls)."""


NO_BUDGET = SpendingGate()


class VideoAnalyzer(dg.ConfigurableResource, ABC):
    def preflight(self) -> None:
        """Check, before a run pays for anything, that the analysis can be made at all; raise
        an error the user can act on if not. Nothing to check by default."""

    @abstractmethod
    def analyze(
        self, videos: pd.DataFrame, log: logging.Logger, *, spending: SpendingGate = NO_BUDGET
    ) -> AnalysisResult:
        """One analysis row per video that could be analysed; every paid call through
        `spending`."""


class OfflineAnalyzer(VideoAnalyzer):
    """Fills only what metadata honestly tells (from the caption, hashtags and slideshow flag);
    never pretends to have watched the video: rows are marked `analyzer = 'offline'` and video-only
    fields stay null."""

    def analyze(
        self, videos: pd.DataFrame, log: logging.Logger, *, spending: SpendingGate = NO_BUDGET
    ) -> AnalysisResult:
        log.info(f"offline analysis of {len(videos)} videos from their metadata")
        return AnalysisResult(analyze_offline(videos, analyzed_at=datetime.now(UTC)))
