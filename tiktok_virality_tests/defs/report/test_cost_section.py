"""The report's cost section: the ledger's spend by service and per video kept."""

import dataclasses
from datetime import UTC, datetime

import pytest

from tiktok_virality.defs.model import train_virality_model
from tiktok_virality.defs.report import ReportInputs, render_report
from tiktok_virality.defs.report.cost_section import cost_section
from tiktok_virality_tests.helpers import sample_model_inputs


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    features, raw_videos = sample_model_inputs()
    run = train_virality_model(features, raw_videos)
    return ReportInputs.from_model_run(
        "demo", datetime(2025, 7, 9, tzinfo=UTC), features, raw_videos, run
    )


def test_the_cost_per_video_is_the_spend_over_the_videos_kept(inputs: ReportInputs) -> None:
    videos = len(inputs.raw_videos)
    spend = {"apify": {"units": 2, "usd": 0.5}, "gemini": {"units": videos, "usd": 0.25}}

    section = cost_section(dataclasses.replace(inputs, spend=spend))

    assert "2 actor runs" in section and f"{videos} analysed videos" in section
    assert f"${0.75 / videos:,.5f}" in section and "$0.7500" in section
    assert f"over the {videos} videos" in section


def test_a_dataset_without_paid_work_says_so_on_the_page(inputs: ReportInputs) -> None:
    page = render_report(inputs)

    assert '<section id="costs">' in page
    assert "No paid work is on record" in page
