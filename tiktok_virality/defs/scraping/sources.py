"""Where raw video items come from: an Apify export stored with the dataset, or a live scrape.

Both return Apify TikTok-scraper items (error items included); the raw videos asset normalizes them
with the one normalizer, whatever the source."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dagster as dg

from tiktok_virality.defs.datasets.registry import DatasetRegistry


@dataclass(frozen=True)
class ScrapeRequest:
    dataset: str
    batch: str
    accounts: tuple[str, ...]
    videos_per_account: int
    max_videos: int
    max_age_days: int
    # The dataset's refresh (0: its first scrape): a new refresh is a new paid run, a retry of
    # the same refresh reuses its run (apify.py).
    refresh: int = 0
    # The most this batch's actor run may charge (Apify's `max_total_charge_usd`); None: no cap.
    max_charge_usd: float | None = None
    # The batch's videos seen by its earlier scrapes (before this refresh): those whose files the
    # media cache holds are not downloaded again (`new_downloads.py`).
    known_videos: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ActorRunCharges:
    """What a finished Apify run charged, as Apify reports it: the count of each pay-per-event
    event, and the run's total in US dollars (None when Apify gives none)."""

    actor_id: str
    run_id: str
    charged_event_counts: dict[str, int]
    usage_total_usd: float | None


@dataclass(frozen=True)
class SourceItems:
    items: list[dict[str, Any]]
    scraped_at: datetime
    # The charges of each actor run the scrape took (the batch's, then the one downloading its
    # new videos, if any); none for an export or offline.
    charges: tuple[ActorRunCharges, ...] = ()


class OfflineModeError(RuntimeError):
    """Work that needs an external service was asked of the offline mode."""


class VideoSource(dg.ConfigurableResource, ABC):
    @abstractmethod
    def fetch(self, request: ScrapeRequest, log: logging.Logger) -> SourceItems:
        """Apify items for the request's accounts, and when they were scraped."""


class ExportVideoSource(VideoSource):
    """Items imported from an Apify export (or the bundled sample) with the dataset."""

    registry: DatasetRegistry

    def fetch(self, request: ScrapeRequest, log: logging.Logger) -> SourceItems:
        dataset = self.registry.require(request.dataset)
        if dataset.export_scraped_at is None:
            raise ValueError(f"dataset {request.dataset!r} was not made from an export")
        items = self.registry.export_items(request.dataset, request.accounts)
        return SourceItems(items=items, scraped_at=dataset.export_scraped_at)


class OfflineScraper(VideoSource):
    """Stands in for the Apify scraper offline or without a token: it refuses, saying what would
    work."""

    def fetch(self, request: ScrapeRequest, log: logging.Logger) -> SourceItems:
        raise OfflineModeError(
            f"dataset {request.dataset!r} is a list of accounts to scrape with Apify, which needs "
            "APIFY_API_TOKEN (in the environment or .env, also for `dagster dev`) and no "
            "--offline; offline, work on an export (`tiktok-virality dataset import`) or the "
            "bundled sample"
        )
