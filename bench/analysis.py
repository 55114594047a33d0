"""1. Analysis throughput: the Gemini analyzer against the fake Gemini with injected latency.

The videos are analysed batch after batch, as the pipeline's partitions are, by the real
`GeminiAnalyzer` (its concurrency, its requests-per-minute limiter, inline data or the Files API,
every answer stored in the analysis cache as it arrives). Throughput is compared with the bound
min(concurrency / latency per video, requests per minute / 60); whether the quota was kept is read
from the fake server's own record of when requests arrived, not from the limiter."""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import PrivateAttr

from bench import synthetic
from bench.core import Benchmark, Measurement, ResultTable, Verdict, column, max_in_window, share
from bench.fakes import (
    APIFY_TOKEN,
    GEMINI_KEY,
    ConcurrentFakeApify,
    GenerateArrivals,
    stored_files,
)
from tiktok_virality.config import load_settings
from tiktok_virality.defs.analysis.cache import ANALYSIS_CACHE_SCHEMA, AnalysisCache, CachedAnalysis
from tiktok_virality.resources import gemini_analyzer
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini, RecordedRequest

_LOG = logging.getLogger(__name__)
_TARGET_RATIO = 0.9
# Videos up to this size go inline; the large one goes through the Files API.
_INLINE_MAX_BYTES = 100_000
_SMALL_VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 2_000
_LARGE_VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"V" * 300_000
# High enough never to be the bound here (1,000 requests/s).
_UNLIMITED_QUOTA = 60_000.0

T = TypeVar("T")


@dataclass(frozen=True)
class Variant:
    name: str
    concurrency: int
    requests_per_minute: float = _UNLIMITED_QUOTA
    uploads: bool = False
    # Diagnostic: the answers are not stored, to show what storing them costs.
    stores_answers: bool = True
    # The target (≥ 0.9 of the bound) applies to this variant.
    targeted: bool = False

    @property
    def limited_by_quota(self) -> bool:
        return self.requests_per_minute < _UNLIMITED_QUOTA


@dataclass(frozen=True)
class AnalysisConfig:
    videos: int
    batches: int
    latency_seconds: float
    variants: tuple[Variant, ...]


def _variants(quota_per_minute: float) -> tuple[Variant, ...]:
    return (
        Variant("one call at a time (baseline)", 1),
        Variant("concurrency 8", 8, targeted=True),
        Variant("concurrency 16", 16, targeted=True),
        Variant(f"concurrency 16, quota {quota_per_minute:g}/min", 16, quota_per_minute),
        Variant("concurrency 8, Files API uploads", 8, uploads=True),
        Variant("concurrency 16, answers not stored (diagnostic)", 16, stores_answers=False),
    )


# 300 ms per request; a quota of 240/min (4/s) is the bound at concurrency 16 and keeps the run
# longer than a minute, so the 60 s window check is a real one.
FULL = AnalysisConfig(videos=300, batches=20, latency_seconds=0.3, variants=_variants(240))
SMOKE = AnalysisConfig(videos=8, batches=2, latency_seconds=0.02, variants=_variants(1_200))


@dataclass(frozen=True)
class ThroughputRow:
    variant: str = column("variant")
    concurrency: int = column("concurrency")
    quota: float = column("quota req/min", "{:g}")
    requests_per_video: float = column("requests per video", "{:.1f}")
    videos: int = column("videos")
    seconds: float = column("wall s", "{:.1f}")
    videos_per_second: float = column("videos/s", "{:.2f}")
    bound: float = column("bound videos/s", "{:.2f}")
    bound_by: str = column("bound by")
    ratio: float = column("÷ bound", "{:.2f}")
    overhead_per_batch: float = column("s per batch beyond the API", "{:.2f}")
    cache_write_seconds: float = column("cache writes s", "{:.1f}")
    cache_read_seconds: float = column("cache reads s", "{:.1f}")
    max_in_flight: int = column("max in flight")
    max_per_minute: int = column("max req in any 60 s")
    min_gap_ms: float = column("min gap between requests ms", "{:.0f}")
    quota_kept: bool = column("quota kept")


class _TimedCache(AnalysisCache):
    """The analysis cache, timing the analyzer's reads (two per batch) and writes (one per answer, one at
    a time under the analyzer's store lock); `stores_answers=False` skips the writes."""

    stores_answers: bool = True
    _seconds: dict[str, float] = PrivateAttr(default_factory=lambda: defaultdict(float))

    def _timed(self, kind: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self._seconds[kind] += time.perf_counter() - started

    def seconds(self, kind: str) -> float:
        return self._seconds[kind]

    def cached_analyses(
        self, video_ids: Sequence[str], *, model: str, schema_version: str, settings: str
    ) -> dict[str, CachedAnalysis]:
        read = super().cached_analyses
        return self._timed(
            "read", read, video_ids, model=model, schema_version=schema_version, settings=settings
        )

    def analysis_failures(
        self, video_ids: Sequence[str], *, model: str, schema_version: str
    ) -> dict[str, Any]:
        read = super().analysis_failures
        return self._timed("read", read, video_ids, model=model, schema_version=schema_version)

    def store_analyses(
        self,
        analyses: Mapping[str, CachedAnalysis],
        *,
        model: str,
        schema_version: str,
        settings: str,
    ) -> None:
        if self.stores_answers:
            write = super().store_analyses
            self._timed(
                "write",
                write,
                analyses,
                model=model,
                schema_version=schema_version,
                settings=settings,
            )


@dataclass(frozen=True)
class _Servers:
    apify: FakeApify
    gemini: FakeGemini
    arrivals: GenerateArrivals
    video_urls: dict[str, str]


def _video_batches(config: AnalysisConfig) -> list[pd.DataFrame]:
    videos = synthetic.raw_videos(config.videos, seed=11).assign(is_slideshow=False, cover_url=None)
    return [videos.iloc[rows] for rows in np.array_split(np.arange(config.videos), config.batches)]


def measure(config: AnalysisConfig, work_dir: Path) -> Measurement:
    batches = _video_batches(config)
    with (
        ConcurrentFakeApify() as apify,
        FakeGemini(latency_seconds=config.latency_seconds) as gemini,
    ):
        servers = _Servers(
            apify,
            gemini,
            GenerateArrivals(gemini),
            stored_files(apify, {"small": _SMALL_VIDEO, "large": _LARGE_VIDEO}),
        )
        rows = [
            _run_variant(variant, config, batches, servers, work_dir / f"cache_{number}.duckdb")
            for number, variant in enumerate(config.variants)
        ]
    return _measurement(config, rows)


def _run_variant(
    variant: Variant,
    config: AnalysisConfig,
    batches: list[pd.DataFrame],
    servers: _Servers,
    database: Path,
) -> ThroughputRow:
    migrate(database, [ANALYSIS_CACHE_SCHEMA])
    cache = _TimedCache(database=str(database), stores_answers=variant.stores_answers)
    analyzer = gemini_analyzer(
        load_settings({}),
        cache,
        api_key=GEMINI_KEY,
        base_url=servers.gemini.url,
        concurrency=variant.concurrency,
        requests_per_minute=variant.requests_per_minute,
        tokens_per_minute=10**12,  # the requests' throughput is measured, not the tokens'
        inline_max_bytes=_INLINE_MAX_BYTES,
        apify_token=APIFY_TOKEN,
        apify_api_url=servers.apify.url,
    )
    url = servers.video_urls["large" if variant.uploads else "small"]
    batches = [batch.assign(video_url=url) for batch in batches]
    servers.gemini.reset_stats()
    servers.gemini.clear_requests()
    servers.arrivals.take()
    started = time.perf_counter()
    for batch in batches:
        result = analyzer.analyze(batch, _LOG)
        if result.errors or len(result.analyses) != len(batch):
            raise RuntimeError(f"{variant.name}: analysis failed: {result.errors[:1]}")
    seconds = time.perf_counter() - started
    arrivals = sorted(servers.arrivals.take())
    videos = sum(len(batch) for batch in batches)
    # The model lookups (one `models.get` before each batch's analysis) are per batch, not per
    # video: what a video costs is its generateContent and, for large files, the upload.
    per_video = sum(not _is_model_lookup(request) for request in servers.gemini.requests) / videos
    video_latency = per_video * config.latency_seconds
    by_concurrency = variant.concurrency / video_latency
    by_quota = variant.requests_per_minute / 60
    bound = min(by_concurrency, by_quota)
    # The API's own time for each batch: its waves of `concurrency` videos, or its quota spacing.
    api_seconds = sum(
        max(
            math.ceil(len(batch) / variant.concurrency) * video_latency,
            len(batch) / by_quota,
        )
        for batch in batches
    )
    max_per_minute = max_in_window(arrivals, 60.0)
    return ThroughputRow(
        variant=variant.name,
        concurrency=variant.concurrency,
        quota=variant.requests_per_minute,
        requests_per_video=per_video,
        videos=videos,
        seconds=seconds,
        videos_per_second=videos / seconds,
        bound=bound,
        bound_by="quota" if by_quota < by_concurrency else "concurrency",
        ratio=videos / seconds / bound,
        overhead_per_batch=(seconds - api_seconds) / len(batches),
        cache_write_seconds=cache.seconds("write"),
        cache_read_seconds=cache.seconds("read"),
        max_in_flight=servers.gemini.max_concurrent_generates,
        max_per_minute=max_per_minute,
        min_gap_ms=1000 * float(min(np.diff(arrivals), default=0.0)),
        quota_kept=max_per_minute <= variant.requests_per_minute
        and max_in_window(arrivals, 10.0) <= math.ceil(variant.requests_per_minute / 6),
    )


def _measurement(config: AnalysisConfig, rows: list[ThroughputRow]) -> Measurement:
    by_variant = dict(zip(config.variants, rows, strict=True))
    verdicts = [
        Verdict(
            f"≥ {_TARGET_RATIO} of the bound, {variant.name}",
            f"{row.ratio:.2f} ({row.videos_per_second:.1f} of {row.bound:.1f} videos/s)",
            row.ratio >= _TARGET_RATIO,
        )
        for variant, row in by_variant.items()
        if variant.targeted
    ]
    quota_row = next(row for variant, row in by_variant.items() if variant.limited_by_quota)
    verdicts.append(
        Verdict(
            "the quota is never exceeded (the fake server's record of request times)",
            f"max {quota_row.max_per_minute} requests in any 60 s at a quota of "
            f"{quota_row.quota:g}/min; every variant within its quota: "
            f"{all(row.quota_kept for row in rows)}",
            all(row.quota_kept for row in rows),
        )
    )
    return Measurement(
        method=(
            f"{config.videos} videos in {config.batches} batches analysed one batch after another "
            f"by `GeminiAnalyzer.analyze` (as a CLI run's partitions are), against the fake Gemini "
            f"with {config.latency_seconds * 1000:.0f} ms added to every request and the fake "
            f"Apify serving the scraped video files ({len(_SMALL_VIDEO):,} bytes inline; "
            f"{len(_LARGE_VIDEO):,} bytes through the Files API in the uploads variant, with an "
            "inline limit lowered to 100 kB; files are ACTIVE at once). The fake Apify gets the "
            "fake Gemini's listen backlog (64): with its default of 5, the concurrent downloads "
            "overflowed it and lost a second each to the kernel's connection retry, halving "
            "every concurrent figure (a fault of the fake). Each variant starts "
            "with an empty analysis cache. Bound = min(concurrency / (requests per video × "
            "latency), quota / 60). 'Quota kept': at most the quota in any 60 s window and at "
            "most a sixth of it in any 10 s window, counted from the arrival times the fake "
            "server recorded. Wall time is the analyzer's alone: a CLI run adds the orchestration "
            "overhead per partition (section 4) to each batch."
        ),
        tables=[ResultTable("Throughput per variant", rows)],
        verdicts=verdicts,
        notes=_notes(config, by_variant),
    )


def _notes(config: AnalysisConfig, by_variant: dict[Variant, ThroughputRow]) -> list[str]:
    rows = list(by_variant.values())
    batch_size = config.videos // config.batches
    missed = [
        row for variant, row in by_variant.items() if variant.targeted and row.ratio < _TARGET_RATIO
    ]
    stored = [row for row in rows if row.cache_write_seconds > 0]
    write_ms = (
        1000 * sum(row.cache_write_seconds for row in stored) / sum(row.videos for row in stored)
    )
    notes = []
    if missed:
        worst = min(missed, key=lambda row: row.ratio)
        notes.append(
            f"Target missed ({', '.join(f'{row.variant}: {row.ratio:.2f}' for row in missed)}). "
            f"Answers are stored as they arrive, by group commit (`AnalysisCache.store_analyses`:"
            f" each write takes every answer that arrived during the previous one) — "
            f"{write_ms:.0f} ms of writing per answer here, off the event loop: at "
            f"{worst.variant}, cache writes took {worst.cache_write_seconds:.1f} s of "
            f"{worst.seconds:.1f} s ({share(worst.cache_write_seconds, worst.seconds):.0%}), "
            "overlapping the requests. (Before the group commit, one transaction per answer, one "
            "at a time, took 42% of the wall time at concurrency 16 and held it to 0.31.)"
        )
    fills = ", ".join(
        f"{batch_size / (math.ceil(batch_size / v.concurrency) * v.concurrency):.2f} at "
        f"concurrency {v.concurrency}"
        for v in by_variant
        if v.targeted
    )
    diagnostic = next((row for v, row in by_variant.items() if not v.stores_answers), None)
    if diagnostic is not None:
        notes.append(
            f"Second: without the stores (the diagnostic variant, not a pipeline setting) the "
            f"same run reaches {diagnostic.ratio:.2f} of its bound "
            f"({diagnostic.videos_per_second:.1f} videos/s). The rest is per batch: a batch of "
            f"{batch_size} videos goes in waves of at most `concurrency` requests, which it "
            f"fills to {fills} — the most it can reach even with no overhead — "
            f"and each batch spends {diagnostic.overhead_per_batch:.2f} s beyond "
            f"the API's own time — a new event loop, Gemini and HTTP clients and their "
            f"connections, the video downloads, and (where answers are stored) two cache "
            f"reads, {1000 * max(r.cache_read_seconds for r in stored) / config.batches:.0f} "
            "ms per batch at most."
        )
        notes.append(
            "What would fix it: analysing the next batch's videos while the last requests of the "
            "previous one are in flight — a CLI run takes partitions one after another, so each "
            "batch's tail and set-up leave the concurrency unused. That means running partitions "
            "side by side (a backfill in the UI does, one run each, with `dagster instance "
            "concurrency set gemini N`) with a quota limiter shared across processes, which the "
            "analyzer does not have yet (its limiter is per partition: see below)."
        )
    quota_row = next(row for variant, row in by_variant.items() if variant.limited_by_quota)
    notes.append(
        f"The limiter spaces the moments one partition's requests may start "
        f"({60 / quota_row.quota * 1000:.0f} ms apart at {quota_row.quota:g}/min). The smallest "
        f"gap the server saw was {quota_row.min_gap_ms:.0f} ms: a request that, once allowed, "
        "waits for the event loop (busy with the other videos' downloads, answers and stores) "
        "arrives late, and the next one on time. A per-minute quota does not see it (at most "
        f"{quota_row.max_per_minute} requests in any 60 s); a per-second limit would. The "
        "limiter is also made anew for each `analyze` call, so consecutive partitions do not "
        "share it: the next partition's first request follows the previous partition's last one "
        "by that request's latency plus the per-batch overhead, not by 60/quota. Here that is "
        "longer, so the quota holds; with a quota below 60 / (latency + per-batch overhead) "
        "requests per minute, each partition boundary can let one request in early. A limiter "
        "shared by the process (and the `gemini` pool across processes) would close that gap."
    )
    return notes


BENCHMARK = Benchmark(
    key="analysis",
    title="1. Analysis throughput against the Gemini limits",
    full=FULL,
    smoke=SMOKE,
    measure=measure,
)


def _is_model_lookup(request: RecordedRequest) -> bool:
    return request.method == "GET" and "/models" in request.path
