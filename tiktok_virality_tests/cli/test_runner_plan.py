from dataclasses import replace

import dagster as dg
import pytest

from tiktok_virality.cli.partition_status import PartitionState, phase_status
from tiktok_virality.cli.runner import PlannedRun, plan_runs
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase

DONE = dg.AssetPartitionStatus.MATERIALIZED
FAILED = dg.AssetPartitionStatus.FAILED
RUNNING = dg.AssetPartitionStatus.IN_PROGRESS


def state(batch: str, scraping: object, analysis: object, features: object) -> PartitionState:
    return PartitionState(
        VideoPartition("v1", batch),
        {Phase.SCRAPING: scraping, Phase.ANALYSIS: analysis, Phase.FEATURES: features},
    )


STATES = [
    state("b001", DONE, DONE, DONE),
    state("b002", None, None, None),
    state("b003", DONE, None, None),  # stopped between phases
    state("b004", FAILED, FAILED, FAILED),  # scrape failed; downstream reported failed too
    state("b005", DONE, FAILED, FAILED),
    state("b006", DONE, DONE, FAILED),
    state("b007", RUNNING, None, None),
]
ALL = (Phase.SCRAPING, Phase.ANALYSIS, Phase.FEATURES)


def test_a_plain_run_resumes_what_was_never_finished_and_leaves_failures_alone() -> None:
    plan = plan_runs(STATES, retry_failed=False, retry_phase=None)

    assert plan.runs == [
        PlannedRun(VideoPartition("v1", "b002"), ALL),
        PlannedRun(VideoPartition("v1", "b003"), (Phase.ANALYSIS, Phase.FEATURES)),
    ]
    assert [p.batch for p in plan.already_done] == ["b001"]
    assert [p.batch for p in plan.failed_not_retried] == ["b004", "b005", "b006"]
    assert [p.batch for p in plan.in_progress] == ["b007"]


def test_retry_failed_reruns_only_failed_partitions_from_the_failed_phase() -> None:
    plan = plan_runs(STATES, retry_failed=True, retry_phase=None)

    assert plan.runs == [
        PlannedRun(VideoPartition("v1", "b004"), ALL),
        PlannedRun(VideoPartition("v1", "b005"), (Phase.ANALYSIS, Phase.FEATURES)),
        PlannedRun(VideoPartition("v1", "b006"), (Phase.FEATURES,)),
    ]


def test_an_interrupted_partition_is_resumed_by_a_plain_run_and_by_retry_failed() -> None:
    interrupted = replace(state("b008", DONE, FAILED, FAILED), interrupted=True)
    resumed = PlannedRun(VideoPartition("v1", "b008"), (Phase.ANALYSIS, Phase.FEATURES))

    plain = plan_runs([*STATES, interrupted], retry_failed=False, retry_phase=None)
    retry = plan_runs([*STATES, interrupted], retry_failed=True, retry_phase=None)

    assert plain.runs[-1] == resumed
    assert interrupted.partition not in plain.failed_not_retried
    assert retry.runs[-1] == resumed


def test_retry_phase_reruns_that_phase_on_where_its_inputs_exist() -> None:
    plan = plan_runs(STATES, retry_failed=True, retry_phase=Phase.ANALYSIS)

    assert plan.runs == [
        PlannedRun(VideoPartition("v1", "b005"), (Phase.ANALYSIS, Phase.FEATURES)),
        PlannedRun(VideoPartition("v1", "b006"), (Phase.ANALYSIS, Phase.FEATURES)),
    ]
    # b004's scrape failed: its analysis cannot be retried on its own.
    assert [p.batch for p in plan.failed_not_retried] == ["b004"]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([DONE, DONE], DONE),
        ([DONE, FAILED], FAILED),  # the rejected rows were not stored: the phase is not done
        ([RUNNING, None], RUNNING),
        ([DONE, None], None),
        ([None, None], None),
    ],
)
def test_a_phase_is_as_far_as_its_least_advanced_asset(statuses: list, expected: object) -> None:
    assert phase_status(statuses) is expected
