"""What a run would cost before it is started (`run --dry-run`): pure functions over the videos a
run would analyse, the analyzer's cost controls and the price tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tiktok_virality.defs.analysis.analyzers import TokenUsage
from tiktok_virality.defs.analysis.gemini_controls import AnalysisControls
from tiktok_virality.defs.analysis.prompt import build_prompt
from tiktok_virality.defs.costs.pricing import (
    UnknownPriceError,
    event_counts_usd,
    expected_event_counts,
    expected_usage,
    model_price,
    tokens_usd,
)


@dataclass(frozen=True)
class ScrapeEstimate:
    actor_runs: int = 0
    results: int = 0
    downloads: int = 0
    usd: float = 0.0


@dataclass(frozen=True)
class AnalysisEstimate:
    videos: int = 0
    already_analysed: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)
    # None: the model has no price on record.
    usd: float | None = 0.0


@dataclass(frozen=True)
class PlannedScrape:
    """A batch's planned scrape: the results its run is expected to return, and how many of
    them are known videos whose files the media cache holds already."""

    results: int
    cached: int = 0


def scrape_runs(scrape: PlannedScrape, *, download: bool) -> list[tuple[int, int]]:
    """(results, downloads) of each actor run the scrape takes: one run downloading everything;
    or, when some videos are cached, a run without downloads and one for the new videos, if any
    (`defs/scraping/new_downloads.py`)."""
    if not download:
        return [(scrape.results, 0)]
    if scrape.cached == 0:
        return [(scrape.results, scrape.results)]
    new = max(scrape.results - scrape.cached, 0)
    return [(scrape.results, 0)] + ([(new, new)] if new else [])


def scrape_estimate(
    prices: Mapping[str, float],
    scrapes: Iterable[PlannedScrape],
    *,
    download: bool,
    date_filter: bool,
) -> ScrapeEstimate:
    """Each planned scrape's actor runs at the actor's event prices (`download`: the files are
    fetched for Gemini to watch, those of cached videos excepted; `date_filter`: the paid filter
    is on)."""
    runs = [run for scrape in scrapes for run in scrape_runs(scrape, download=download)]
    counts = [
        expected_event_counts(prices, results=results, downloads=downloads, date_filter=date_filter)
        for results, downloads in runs
    ]
    return ScrapeEstimate(
        actor_runs=len(runs),
        results=sum(results for results, _ in runs),
        downloads=sum(downloads for _, downloads in runs),
        usd=sum(event_counts_usd(run, prices) for run in counts),
    )


def video_usage(controls: AnalysisControls, model: str, video: Mapping[str, Any]) -> TokenUsage:
    """The tokens one video's analysis is expected to be billed: its file (a slideshow: its
    cover) and prompt at the controls, and the expected answer and thinking."""
    slideshow = bool(video.get("is_slideshow"))
    input_tokens = controls.estimated_input_tokens(
        model,
        build_prompt(video, has_video=not slideshow),
        duration_seconds=video.get("duration_seconds"),
        video=not slideshow,
        images=1 if slideshow else 0,
    )
    return expected_usage(input_tokens, controls.thinking_level)


def analysis_estimate(
    controls: AnalysisControls,
    model: str,
    videos: Iterable[Mapping[str, Any]],
    already_analysed: int,
) -> AnalysisEstimate:
    todo = list(videos)
    usage = sum((video_usage(controls, model, video) for video in todo), TokenUsage())
    try:
        usd: float | None = tokens_usd(usage, model_price(model))
    except UnknownPriceError:
        usd = None
    return AnalysisEstimate(len(todo), already_analysed, usage, usd)
