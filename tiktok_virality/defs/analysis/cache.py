"""The analysis cache: every paid-for analysis of a video, by model, analysis schema version and
the cost controls it was made with (table `analysis_cache`), and the videos whose analysis failed (table `analysis_failures`), so that
a retry never pays twice for a video and gives up on one that keeps failing."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tiktok_virality.warehouse.migrations import Migration, StoreSchema
from tiktok_virality.warehouse.store import Store

# The fingerprint of the analyses made before calls carried cost controls.
NO_CONTROLS = "none"

ANALYSIS_CACHE_SCHEMA = StoreSchema(
    "analysis_cache",
    (
        Migration(
            1,
            """
            CREATE TABLE IF NOT EXISTS analysis_cache (
                video_id VARCHAR NOT NULL,
                model VARCHAR NOT NULL,
                schema_version VARCHAR NOT NULL,
                input_kind VARCHAR NOT NULL,
                analysis_json JSON NOT NULL,
                analyzed_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (video_id, model, schema_version)
            );
            CREATE TABLE IF NOT EXISTS analysis_failures (
                video_id VARCHAR NOT NULL,
                model VARCHAR NOT NULL,
                schema_version VARCHAR NOT NULL,
                error VARCHAR NOT NULL,
                permanent BOOLEAN NOT NULL,
                attempts INTEGER NOT NULL,
                failed_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (video_id, model, schema_version)
            );
            """,
        ),
        # The cost controls (media resolution, frames a second, seconds watched, thinking) are
        # part of what an analysis is: a key column. The analyses made before had none sent.
        Migration(
            2,
            f"""
            CREATE TABLE analysis_cache_v2 (
                video_id VARCHAR NOT NULL,
                model VARCHAR NOT NULL,
                schema_version VARCHAR NOT NULL,
                analysis_settings VARCHAR NOT NULL,
                input_kind VARCHAR NOT NULL,
                analysis_json JSON NOT NULL,
                analyzed_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (video_id, model, schema_version, analysis_settings)
            );
            INSERT INTO analysis_cache_v2
                SELECT video_id, model, schema_version, '{NO_CONTROLS}', input_kind,
                    analysis_json, analyzed_at
                FROM analysis_cache;
            DROP TABLE analysis_cache;
            ALTER TABLE analysis_cache_v2 RENAME TO analysis_cache;
            """,
        ),
    ),
)


@dataclass(frozen=True)
class CachedAnalysis:
    """A model's analysis of one video (the nested record), and what it was made from."""

    input_kind: str
    record: dict[str, Any]
    analyzed_at: datetime


@dataclass(frozen=True)
class AnalysisFailure:
    """A video's failed analyses so far: the last error, and whether it is given up on."""

    error: str
    permanent: bool
    attempts: int


class AnalysisCache(Store):
    """Paid-for analyses (by video, model, analysis schema version and cost controls) and failed
    attempts (by video, model and schema version: a video refused for what it shows is refused
    whatever the controls)."""

    store_schema = ANALYSIS_CACHE_SCHEMA
    # Keyed by video and model, not dataset: an analysis paid for is kept when a dataset is
    # deleted, for any dataset holding the same video.
    dataset_tables = ()

    def cached_analyses(
        self, video_ids: Sequence[str], *, model: str, schema_version: str, settings: str
    ) -> dict[str, CachedAnalysis]:
        """The paid-for analyses already made of these videos with this model, schema and cost
        controls (`settings`, their fingerprint)."""
        rows = self._read(
            "SELECT video_id, input_kind, analysis_json, analyzed_at FROM analysis_cache "
            "WHERE model = ? AND schema_version = ? AND analysis_settings = ? "
            "AND list_contains(?, video_id)",
            [model, schema_version, settings, list(video_ids)],
            table="analysis_cache",
        )
        return {
            video_id: CachedAnalysis(input_kind, json.loads(document), analyzed_at)
            for video_id, input_kind, document, analyzed_at in rows
        }

    def store_analyses(
        self,
        analyses: Mapping[str, CachedAnalysis],
        *,
        model: str,
        schema_version: str,
        settings: str,
    ) -> None:
        """Keep paid-for analyses (by video id) as soon as they arrive, in one transaction."""
        with self._write() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO analysis_cache (video_id, model, schema_version, "
                "analysis_settings, input_kind, analysis_json, analyzed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        video_id,
                        model,
                        schema_version,
                        settings,
                        analysis.input_kind,
                        json.dumps(analysis.record, ensure_ascii=False),
                        analysis.analyzed_at,
                    ]
                    for video_id, analysis in analyses.items()
                ],
            )
            connection.execute(
                "DELETE FROM analysis_failures WHERE list_contains(?, video_id) AND model = ? "
                "AND schema_version = ?",
                [list(analyses), model, schema_version],
            )

    def analysis_failures(
        self, video_ids: Sequence[str], *, model: str, schema_version: str
    ) -> dict[str, AnalysisFailure]:
        rows = self._read(
            "SELECT video_id, error, permanent, attempts FROM analysis_failures "
            "WHERE model = ? AND schema_version = ? AND list_contains(?, video_id)",
            [model, schema_version, list(video_ids)],
            table="analysis_failures",
        )
        return {video_id: AnalysisFailure(*rest) for video_id, *rest in rows}

    def record_analysis_failure(
        self,
        video_id: str,
        *,
        model: str,
        schema_version: str,
        error: str,
        permanent: bool,
        give_up_after: int,
    ) -> AnalysisFailure:
        """Count a failed attempt; a video failing `give_up_after` times is given up on for good,
        so that it neither blocks its partition nor is paid for on every retry."""
        with self._write() as connection:
            previous = connection.execute(
                "SELECT attempts FROM analysis_failures WHERE video_id = ? AND model = ? "
                "AND schema_version = ?",
                [video_id, model, schema_version],
            ).fetchall()
            attempts = (previous[0][0] if previous else 0) + 1
            failure = AnalysisFailure(error, permanent or attempts >= give_up_after, attempts)
            connection.execute(
                "INSERT OR REPLACE INTO analysis_failures VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    video_id,
                    model,
                    schema_version,
                    error,
                    failure.permanent,
                    attempts,
                    datetime.now(UTC),
                ],
            )
        return failure
