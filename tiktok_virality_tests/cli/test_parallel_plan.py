"""Which scrape of `run --parallel` may start: side by side while the batches in flight together
cannot pass the dataset's max total videos, else one at a time; never once it is full. And what a
worker process sends back: an outcome survives its trip through the pipe whole."""

import pytest

from tiktok_virality.cli.parallel_runs import Start, scrape_start
from tiktok_virality.cli.partition_worker import (
    outcome_from_json,
    outcome_to_json,
    planned_from_json,
    planned_to_json,
)
from tiktok_virality.cli.runner import PlannedRun, RunOutcome
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.scraping.quality_rules import QualityRule


@pytest.mark.parametrize(
    ("stored", "scraping", "expected"),
    [
        (0, 0, Start.NOW),  # nothing in flight: the step keeps itself within the limit
        (0, 150, Start.NOW),  # 0 + 150 + 150 <= 300
        (10, 150, Start.LATER),  # 10 + 150 + 150 > 300: wait for the scrape in flight
        (300, 150, Start.LATER),  # full, but the batch in flight may fail: decide after it
        (300, 0, Start.NEVER),
    ],
)
def test_a_scrape_starts_beside_others_only_while_they_cannot_pass_the_limit(
    stored: int, scraping: int, expected: Start
) -> None:
    assert (
        scrape_start(stored=stored, limit=300, potential=150, scraping_potential=scraping)
        is expected
    )


def test_plans_and_outcomes_cross_the_worker_pipe_whole() -> None:
    planned = PlannedRun(VideoPartition("v1", "b002"), (Phase.ANALYSIS, Phase.FEATURES))
    outcome = RunOutcome(
        partition=planned.partition,
        phases=planned.phases,
        success=False,
        seconds=1.5,
        rows={Phase.ANALYSIS: 40},
        errors={Phase.ANALYSIS: 2},
        error="video_features: boom",
        run_id="abc",
        interrupted=True,
        rejected_by_rule={next(iter(QualityRule)): 3},
    )

    assert planned_from_json(planned_to_json(planned)) == planned
    assert outcome_from_json(outcome_to_json(outcome)) == outcome
