"""The asset graph end to end on the offline resources: sample and real exports, phantom pairs,
the multiprocess executor, and partition status as the resume record."""

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tiktok_virality.cli.partition_status import partition_states
from tiktok_virality.cli.runner import (
    Phase,
    plan_runs,
    run_partition,
)
from tiktok_virality.config import Settings, load_settings
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.definitions import VIDEO_PIPELINE_JOB, build_definitions
from tiktok_virality.defs.analysis.analyzers import OfflineAnalyzer
from tiktok_virality.defs.analysis.assets import video_analyses
from tiktok_virality.defs.datasets.dataset import ScrapeLimits
from tiktok_virality.defs.datasets.operations import create_export_dataset, create_sample_dataset
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.defs.features.assets import video_features
from tiktok_virality.defs.scraping.assets import scrape_batch
from tiktok_virality.defs.scraping.exports import read_export
from tiktok_virality.defs.scraping.quality import QualityThresholds
from tiktok_virality.defs.scraping.sources import ExportVideoSource, ScrapeRequest, SourceItems
from tiktok_virality.defs.signals.assets import video_signals
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.io_manager import DuckDBPartitionIOManager
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality.warehouse.queries import stored_video_count
from tiktok_virality.warehouse.tables import RAW_VIDEOS, VIDEO_ANALYSES, VIDEO_FEATURES

SCRAPED_AT = datetime(2025, 7, 8, 10, 55, tzinfo=UTC)
VIDEO_ASSETS = (scrape_batch, video_analyses, video_signals, video_features)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TIKTOK_VIRALITY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("TIKTOK_VIRALITY_DATABASE", raising=False)
    return load_settings()


@pytest.fixture
def instance() -> dg.DagsterInstance:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def fetch_count() -> int:
    return len(CountingExportSource.requests)


class CountingExportSource(ExportVideoSource):
    requests: ClassVar[list[ScrapeRequest]] = []

    def fetch(self, request: ScrapeRequest, log: logging.Logger) -> SourceItems:
        CountingExportSource.requests.append(request)
        return super().fetch(request, log)


class FailingOnceAnalyzer(OfflineAnalyzer):
    """Fails the first analysis of one batch, like a transient API error."""

    failures_left: ClassVar[dict[str, int]] = {}

    def analyze(self, videos: pd.DataFrame, log: logging.Logger, **options: Any) -> pd.DataFrame:
        batch = videos["batch"].iloc[0]
        if FailingOnceAnalyzer.failures_left.get(batch, 0) > 0:
            FailingOnceAnalyzer.failures_left[batch] -= 1
            raise RuntimeError(f"injected analysis failure in {batch}")
        return super().analyze(videos, log, **options)


@pytest.fixture
def resources(settings: Settings) -> dict[str, Any]:
    CountingExportSource.requests = []
    offline = build_resources(settings, offline=True)
    migrate(settings.database, STORE_SCHEMAS)
    return {**offline, "export_source": CountingExportSource(registry=offline["registry"])}


def registry_of(resources: dict[str, Any]) -> DatasetRegistry:
    return resources["registry"]


def materialize(
    instance: dg.DagsterInstance, resources: dict[str, Any], partition: VideoPartition
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(VIDEO_ASSETS), instance=instance, resources=resources, partition_key=partition.key
    )


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_the_sample_runs_end_to_end_offline(
    settings: Settings, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)
    batches = registry_of(resources).batches("demo")
    assert batches == ["b001", "b002"]

    for batch in batches:
        assert materialize(instance, resources, VideoPartition("demo", batch)).success

    counts = dict(
        query(
            settings,
            "SELECT 'raw', count(*) FROM raw_videos UNION ALL SELECT 'analyses', count(*) FROM video_analyses UNION ALL SELECT 'features', count(*) FROM video_features",
        )
    )
    rejected = query(settings, "SELECT count(*) FROM rejected_videos")[0][0]
    assert counts["raw"] + rejected == 120
    assert counts["analyses"] == counts["features"] == counts["raw"]
    assert query(settings, "SELECT DISTINCT rejection_reasons FROM rejected_videos") == [
        (["min_views"],)
    ]
    assert query(settings, "SELECT count(DISTINCT account) FROM raw_videos") == [(8,)]
    assert query(settings, "SELECT DISTINCT analyzer, model FROM video_analyses") == [
        ("offline", None)
    ]
    assert query(
        settings, "SELECT count(*) FROM video_features WHERE ai_hook_score IS NOT NULL"
    ) == [(0,)]


def test_tables_have_the_documented_columns_and_types(
    settings: Settings, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)
    assert materialize(instance, resources, VideoPartition("demo", "b001")).success

    with duckdb.connect(str(settings.database), read_only=True) as connection:
        for contract in (RAW_VIDEOS, VIDEO_ANALYSES, VIDEO_FEATURES):
            described = connection.execute(f"DESCRIBE {contract.name}").fetchall()
            assert [row[0] for row in described] == contract.column_names
        types = dict(
            connection.execute(
                "SELECT column_name, column_type FROM (DESCRIBE raw_videos)"
            ).fetchall()
        )
        frame = connection.execute("SELECT * FROM raw_videos").df()
    assert types["video_id"] == "VARCHAR" and types["play_count"] == "BIGINT"
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE" and types["hashtags"] == "VARCHAR[]"
    assert frame["video_id"].str.fullmatch(r"\d{19}").all()
    assert str(frame["created_at"].dt.tz) in {"UTC", "Etc/UTC"}


def test_a_real_csv_export_goes_through_every_phase(
    settings: Settings,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    apify_fixtures: Path,
) -> None:
    items = read_export(apify_fixtures / "profile_export_2024.csv")
    create_export_dataset(
        instance,
        registry_of(resources),
        "csv2024",
        items,
        origin="fixture",
        scraped_at=datetime(2024, 9, 15, tzinfo=UTC),
    )

    assert registry_of(resources).plan("csv2024") == {
        "halabywartono": "b001",
        "hj.lisahalaby": "b001",
    }
    assert materialize(instance, resources, VideoPartition("csv2024", "b001")).success

    # The missing account yields no videos; all 68 videos of the other one survive.
    assert query(
        settings, "SELECT batch, count(*) FROM video_features GROUP BY batch ORDER BY batch"
    ) == [("b001", 68)]
    assert query(settings, "SELECT count(*) FROM raw_videos WHERE is_slideshow") == [(23,)]


def test_a_phantom_pair_is_empty_instant_and_never_failed(
    settings: Settings,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    apify_fixtures: Path,
) -> None:
    create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)
    items = read_export(apify_fixtures / "profile_items_2025.json")
    create_export_dataset(
        instance, registry_of(resources), "tiny", items, origin="fixture", scraped_at=SCRAPED_AT
    )
    phantom = VideoPartition("tiny", "b002")  # b002 exists for demo, not for tiny

    result = materialize(instance, resources, phantom)

    assert result.success
    assert fetch_count() == 0
    assert query(settings, "SELECT count(*) FROM video_features WHERE dataset = 'tiny'") == [(0,)]
    [state] = partition_states(instance, [phantom])
    assert state.done
    [raw_materialization] = [
        event.materialization
        for event in result.get_asset_materialization_events()
        if event.materialization.asset_key == dg.AssetKey("raw_videos")
    ]
    assert raw_materialization.metadata["phantom"].value is True


def test_the_multiprocess_executor_materializes_a_partition(
    settings: Settings, resources: dict[str, Any]
) -> None:
    settings.dagster_home.mkdir(parents=True)
    with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as instance:
        create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)
        with dg.execute_job(
            dg.reconstructable(video_pipeline_job),
            instance=instance,
            tags={
                "dagster/partition": "b002|demo",
                "dagster/partition/dataset": "demo",
                "dagster/partition/batch": "b002",
            },
        ) as result:
            assert result.success
            step_events = result.get_step_success_events()
    assert {event.step_key for event in step_events} == {
        "scrape_batch",
        "video_analyses",
        "video_signals",
        "video_features",
    }
    assert query(
        settings,
        "SELECT (SELECT count(*) FROM video_features WHERE batch = 'b002') + "
        "(SELECT count(*) FROM rejected_videos WHERE batch = 'b002')",
    ) == [(45,)]


def video_pipeline_job() -> dg.JobDefinition:
    return build_definitions(build_resources(load_settings(), offline=True)).resolve_job_def(
        VIDEO_PIPELINE_JOB
    )


def test_partition_status_is_the_resume_and_retry_record(
    settings: Settings, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)
    FailingOnceAnalyzer.failures_left = {"b002": 1}
    resources = {**resources, "analyzer": FailingOnceAnalyzer()}
    partitions = [VideoPartition("demo", batch) for batch in ("b001", "b002")]

    first = plan_runs(partition_states(instance, partitions), retry_failed=False, retry_phase=None)
    outcomes = [
        run_partition(instance, build_definitions(resources), planned) for planned in first.runs
    ]
    assert [outcome.success for outcome in outcomes] == [True, False]
    assert "injected analysis failure in b002" in (outcomes[1].error or "")
    assert query(
        settings, "SELECT batch, phase, permanent, error FROM errors WHERE phase = 'analysis'"
    ) == [("b002", "analysis", False, "RuntimeError: injected analysis failure in b002")]
    assert fetch_count() == 2

    again = plan_runs(partition_states(instance, partitions), retry_failed=False, retry_phase=None)
    assert again.runs == [] and again.failed_not_retried == [partitions[1]]

    retry = plan_runs(partition_states(instance, partitions), retry_failed=True, retry_phase=None)
    assert [(r.partition.batch, r.phases) for r in retry.runs] == [
        ("b002", (Phase.ANALYSIS, Phase.FEATURES))
    ]
    [retried] = [
        run_partition(instance, build_definitions(resources), planned) for planned in retry.runs
    ]

    assert retried.success
    assert fetch_count() == 2  # the scrape was not repeated
    assert all(state.done for state in partition_states(instance, partitions))
    assert query(settings, "SELECT count(*) FROM video_features") == query(
        settings, "SELECT count(*) FROM raw_videos"
    )


def test_a_batch_beyond_the_max_total_videos_fails_instead_of_storing_nothing(
    settings: Settings, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)
    assert materialize(instance, resources, VideoPartition("demo", "b001")).success
    stored = stored_video_count(settings.database, "demo")
    registry_of(resources).update_settings(
        "demo",
        limits=ScrapeLimits(videos_per_account=15, max_total_videos=stored),
        thresholds=QualityThresholds(),
    )

    result = dg.materialize(
        list(VIDEO_ASSETS),
        instance=instance,
        resources=resources,
        partition_key=VideoPartition("demo", "b002").key,
        raise_on_error=False,
    )

    assert not result.success
    [failure] = result.get_step_failure_events()
    assert f"already holds its max total videos ({stored})" in str(failure.step_failure_data.error)
    assert [
        state.failed_phase for state in partition_states(instance, [VideoPartition("demo", "b002")])
    ] == [Phase.SCRAPING]


class RejectedRowsWriteFails(DuckDBPartitionIOManager):
    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if context.asset_key == dg.AssetKey("rejected_videos"):
            raise OSError("disk full")
        super().handle_output(context, obj)


def test_rejected_rows_that_were_not_stored_make_the_scrape_retried(
    settings: Settings, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)
    partition = VideoPartition("demo", "b001")
    failing = {
        **resources,
        "warehouse_io_manager": RejectedRowsWriteFails(database=str(settings.database)),
    }

    assert not materialize_or_fail(instance, failing, partition).success

    [state] = partition_states(instance, [partition])
    assert state.failed_phase is Phase.SCRAPING
    retry = plan_runs([state], retry_failed=True, retry_phase=None)
    assert retry.runs[0].phases == (Phase.SCRAPING, Phase.ANALYSIS, Phase.FEATURES)


def materialize_or_fail(
    instance: dg.DagsterInstance, resources: dict[str, Any], partition: VideoPartition
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(VIDEO_ASSETS),
        instance=instance,
        resources=resources,
        partition_key=partition.key,
        raise_on_error=False,
    )


def test_each_stored_partition_is_previewed_in_the_ui(
    settings: Settings, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)

    result = materialize(instance, resources, VideoPartition("demo", "b001"))

    previews = {
        event.materialization.asset_key.path[-1]: event.materialization.metadata["preview"].value
        for event in result.get_asset_materialization_events()
    }
    assert set(previews) == {
        "raw_videos",
        "rejected_videos",
        "video_analyses",
        "video_signals",
        "video_features",
    }
    assert previews["raw_videos"].startswith(
        "| account | video_id | play_count | created_at | caption |"
    )
    assert previews["video_features"].endswith("5 of 72 rows")


def test_each_feature_partition_shows_a_summary_of_its_whole_dataset(
    instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    create_sample_dataset(instance, registry_of(resources), "demo", now=SCRAPED_AT)
    results = [
        materialize(instance, resources, VideoPartition("demo", batch))
        for batch in ("b001", "b002")
    ]

    summaries = [
        result.asset_materializations_for_node("video_features")[0].metadata for result in results
    ]
    first_batch_rows = summaries[0]["dagster/row_count"].value
    assert summaries[0]["dataset_videos"].value == first_batch_rows
    assert (
        summaries[1]["dataset_videos"].value
        == first_batch_rows + summaries[1]["dagster/row_count"].value
    )
    assert [s["dataset_batches"].value for s in summaries] == [1, 2]
    assert summaries[1]["dataset_accounts"].value == 8  # the ninth does not exist
    assert summaries[1]["dataset_accounts_summary"].value.count("\n| ") == 8
