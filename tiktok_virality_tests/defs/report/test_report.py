"""The dataset report: rendered from the bundled sample's model run, opened in headless Chromium
(every section, heading, plot and video link there; hostile text shown as text), the same page
when read back from DuckDB, and a small dataset's report without a model or trends."""

from __future__ import annotations

import dataclasses
import subprocess
from collections import Counter, defaultdict
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tiktok_virality.core.partitions import DatasetPartition, VideoPartition
from tiktok_virality.defs.model import ModelRun, train_virality_model
from tiktok_virality.defs.model.assets import model_runs_row
from tiktok_virality.defs.report import (
    PLOTS,
    SECTIONS,
    ReportInputs,
    load_report_inputs,
    render_report,
)
from tiktok_virality.defs.report.tracking_views import TrackingInputs, tracked_videos
from tiktok_virality.defs.tracking.snapshots import sample_history, snapshot_rows
from tiktok_virality.warehouse.io_manager import write_partition
from tiktok_virality.warehouse.tables import (
    DRIVERS,
    FEATURE_IMPORTANCE,
    MODEL_RUNS,
    RAW_VIDEOS,
    TRENDS,
    VIDEO_FEATURES,
    VIDEO_PREDICTIONS,
)
from tiktok_virality_tests.helpers import sample_model_inputs

GENERATED_AT = datetime(2025, 7, 9, 12, 0, tzinfo=UTC)
HOSTILE = '<script>alert("caption")</script><img src=x onerror=alert(1)> & "quoted"'
HOSTILE_SOUND = "<script>alert('sound')</script>"
HOSTILE_ACCOUNT_NAME = "<b onmouseover=alert(2)>Evil</b>"
CHROMIUM = "/usr/bin/chromium"


class PageIndex(HTMLParser):
    """What a test needs to know of a page: the tags used, every reference (href, src), each
    section's heading, the SVGs in each plot's figure, and each table's links and text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.references: list[str] = []
        self.ids: list[str] = []
        self.headings: dict[str, str] = defaultdict(str)
        self.plots: dict[str, int] = {}
        self.table_links: dict[str, list[str]] = defaultdict(list)
        self.table_text: dict[str, str] = defaultdict(str)
        self.section_text: dict[str, str] = defaultdict(str)
        self._section: str | None = None
        self._figure: str | None = None
        self._table: str | None = None
        self._in_heading = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags[tag] += 1
        self.ids += [value for name, value in attrs if name == "id" and value]
        self.references += [
            value for name, value in attrs if name in ("href", "xlink:href", "src") and value
        ]
        if tag == "section":
            self._section = attributes.get("id")
        elif tag == "h2":
            self._in_heading = True
        elif tag == "figure":
            self._figure = attributes.get("data-plot")
            self.plots[str(self._figure)] = 0
        elif tag == "svg" and self._figure:
            self.plots[self._figure] += 1
        elif tag == "table":
            self._table = attributes.get("id")
        elif tag == "a" and self._table:
            self.table_links[self._table].append(str(attributes.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_heading = False
        elif tag == "figure":
            self._figure = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._in_heading and self._section:
            self.headings[self._section] += data
        if self._table:
            self.table_text[self._table] += data
        if self._section:
            self.section_text[self._section] += data


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, pd.DataFrame, ModelRun]:
    features, raw_videos = sample_model_inputs()
    return features, raw_videos, train_virality_model(features, raw_videos)


@pytest.fixture(scope="module")
def hostile_inputs(sample: tuple[pd.DataFrame, pd.DataFrame, ModelRun]) -> ReportInputs:
    """The sample with hostile text where a page shows data: the caption of the video furthest
    above its account's median, its account's display name, a rising sound's name, and a
    `javascript:` cover URL on the video furthest below."""
    features, raw_videos, run = sample
    ranked = features.sort_values("views_vs_account_median", na_position="first")
    top, bottom = ranked.iloc[-1], ranked.iloc[0]
    raw = raw_videos.copy()
    raw.loc[raw["video_id"] == top["video_id"], "caption"] = HOSTILE
    raw.loc[raw["account"] == top["account"], "author_nickname"] = HOSTILE_ACCOUNT_NAME
    raw.loc[raw["video_id"] == bottom["video_id"], "cover_url"] = "javascript:alert(3)"
    trends = run.trends.copy()
    trends.loc[(trends["kind"] == "sound") & trends["rising"], "name"] = HOSTILE_SOUND
    snapshots = snapshot_rows(raw, 0)
    alert = {
        "account": HOSTILE_ACCOUNT_NAME,
        "video_id": top["video_id"],
        "url": "javascript:alert(4)",
        "views": 1000,
        "age_hours": 20.0,
        "multiple": 4.2,
        "baseline": "account_median",
        "raised_at": datetime(2025, 7, 8, 9, 0, tzinfo=UTC),
    }
    tracking = TrackingInputs(
        snapshots=pd.concat([sample_history(snapshots), snapshots], ignore_index=True),
        alerts=pd.DataFrame([alert]),
        videos=tracked_videos(raw, features),
        time_zone="Europe/Paris",
    )
    return dataclasses.replace(
        ReportInputs.from_model_run("demo", GENERATED_AT, features, raw, run),
        trends=trends,
        tracking=tracking,
    )


@pytest.fixture(scope="module")
def hostile_page(hostile_inputs: ReportInputs) -> str:
    return render_report(hostile_inputs)


def browser_dom(page: str, directory: Path) -> str:
    """The page's DOM after headless Chromium loaded it from a file."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: the report's browser test needs it")
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    command = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--dump-dom", path.as_uri()]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail("Chromium did not finish loading the page: a script on it (alert?) blocks it")
    return completed.stdout


def test_the_sample_report_opens_in_a_browser_with_every_section_plot_and_link(
    hostile_page: str, sample: tuple[pd.DataFrame, pd.DataFrame, ModelRun], tmp_path: Path
) -> None:
    features, raw_videos, _ = sample
    top = features.sort_values("views_vs_account_median", na_position="first").iloc[-1]
    top_raw = raw_videos.set_index("video_id").loc[top["video_id"]]

    dom = PageIndex(browser_dom(hostile_page, tmp_path))

    assert dict(dom.headings) == dict(SECTIONS)
    assert dom.plots == dict.fromkeys(PLOTS, 1)
    assert dom.table_links["top-videos"][:2] == [top_raw["url"], top_raw["cover_url"]]
    # Ten videos with two links each, but the one whose cover URL is not http(s).
    assert (len(dom.table_links["top-videos"]), len(dom.table_links["bottom-videos"])) == (20, 19)
    # Self-contained: nothing loaded from anywhere, links only to the data's TikTok pages and
    # covers, and references inside the page's SVGs.
    assert not dom.tags.keys() & {"script", "img", "link", "iframe", "object", "embed"}
    data_urls = set(raw_videos["url"]) | set(raw_videos["cover_url"])
    assert {ref for ref in dom.references if not ref.startswith("#")} <= data_urls
    assert {ref[1:] for ref in dom.references if ref.startswith("#")} <= set(dom.ids)
    assert len(dom.ids) == len(set(dom.ids))
    assert not any(ref.lower().startswith("javascript") for ref in dom.references)
    # Hostile strings are text on the page, never markup.
    assert HOSTILE in dom.table_text["top-videos"]
    assert HOSTILE_ACCOUNT_NAME in dom.table_text["account-summary"]
    assert HOSTILE_SOUND in dom.table_text["trends-table"]
    assert HOSTILE_ACCOUNT_NAME in dom.table_text["alerts-table"]


def test_the_page_depends_on_its_inputs_only(
    hostile_inputs: ReportInputs, hostile_page: str
) -> None:
    later = dataclasses.replace(hostile_inputs, generated_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC))

    again = render_report(later)

    assert "2025-07-09 12:00 UTC" in hostile_page
    assert again == hostile_page.replace("2025-07-09 12:00 UTC", "2026-01-02 03:04 UTC")


def test_the_page_read_back_from_duckdb_is_the_same(
    sample: tuple[pd.DataFrame, pd.DataFrame, ModelRun], tmp_path: Path
) -> None:
    features, raw_videos, run = sample
    database = tmp_path / "warehouse.duckdb"
    trained_at = datetime(2025, 7, 9, 11, 0, tzinfo=UTC)
    video_partition, dataset_partition = VideoPartition("demo", "b001"), DatasetPartition("demo")
    stored = [
        (RAW_VIDEOS, video_partition, raw_videos),
        (VIDEO_FEATURES, video_partition, features),
        (MODEL_RUNS, dataset_partition, model_runs_row(run, trained_at)),
        (VIDEO_PREDICTIONS, dataset_partition, run.predictions),
        (FEATURE_IMPORTANCE, dataset_partition, run.importance.assign(dataset="demo")),
        (TRENDS, dataset_partition, run.trends),
        (DRIVERS, dataset_partition, run.drivers.assign(dataset="demo")),
    ]
    for contract, partition, frame in stored:
        write_partition(database, contract.name, contract.sql_types, partition, frame)

    with duckdb.connect(str(database), read_only=True) as connection:
        loaded = load_report_inputs(connection, "demo", GENERATED_AT)

    assert loaded.model_run == {**run.record(), "trained_at": trained_at}
    without_training_time = {k: v for k, v in loaded.model_run.items() if k != "trained_at"}
    assert render_report(dataclasses.replace(loaded, model_run=without_training_time)) == (
        render_report(ReportInputs.from_model_run("demo", GENERATED_AT, features, raw_videos, run))
    )
    with (
        duckdb.connect(str(database), read_only=True) as connection,
        pytest.raises(LookupError, match="'other' has 0 model_runs rows"),
    ):
        load_report_inputs(connection, "other", GENERATED_AT)


def test_a_dataset_too_small_for_the_model_gets_sentences_instead_of_its_plots(
    sample: tuple[pd.DataFrame, pd.DataFrame, ModelRun],
) -> None:
    features, raw_videos, _ = sample
    account = features["account"].iloc[0]
    small_features = features[features["account"] == account]
    small_raw = raw_videos[raw_videos["account"] == account]
    run = train_virality_model(small_features, small_raw)
    inputs = ReportInputs.from_model_run("tiny", GENERATED_AT, small_features, small_raw, run)

    page = PageIndex(render_report(dataclasses.replace(inputs, trends=run.trends.head(0))))

    assert not run.evaluated
    assert dict(page.headings) == dict(SECTIONS)
    assert set(page.plots) == {"views-histogram", "engagement-histogram", "account-views"}
    assert f"The model was not evaluated: {run.reason}." in page.section_text["model-vs-baselines"]
    assert (
        "No feature importance: the model was not evaluated"
        in (page.section_text["feature-importance"])
    )
    assert "No hashtag or sound could be counted" in page.section_text["trends"]
    assert "not evaluated" in page.section_text["overview"]


def test_trends_without_a_rising_one_say_so(hostile_inputs: ReportInputs) -> None:
    calm = hostile_inputs.trends.assign(rising=False)

    page = PageIndex(render_report(dataclasses.replace(hostile_inputs, trends=calm)))

    assert "rising-trends" not in page.plots
    assert "None was rising in any 7-day window of the dataset." in page.section_text["trends"]


def test_inputs_without_a_needed_column_are_refused(hostile_inputs: ReportInputs) -> None:
    with pytest.raises(ValueError, match=r"raw_videos lacks the columns \['cover_url'\]"):
        dataclasses.replace(
            hostile_inputs, raw_videos=hostile_inputs.raw_videos.drop(columns="cover_url")
        )


def test_a_dataset_without_any_video_says_so_instead_of_empty_numbers(
    sample: tuple[pd.DataFrame, pd.DataFrame, ModelRun],
) -> None:
    """As when quality control rejected every video (an old export imported as scraped now)."""
    features, raw_videos, _ = sample
    no_features, no_raw = features.head(0), raw_videos.head(0)
    run = train_virality_model(no_features, no_raw)

    page = PageIndex(
        render_report(ReportInputs.from_model_run("old", GENERATED_AT, no_features, no_raw, run))
    )

    sections = {key: text.strip() for key, text in page.section_text.items()}
    assert sections["overview"].endswith(
        "No video of this dataset passed quality control: none was scraped, or every one was "
        "rejected (fewer views than the minimum, older than the max age counted from when it was "
        "scraped, or incomplete), so there is nothing to describe or model. "
        "`tiktok-virality status --dataset old` shows how many were scraped and rejected, "
        "and the errors."
    )
    assert sections["model-vs-baselines"].endswith(
        "The model was not evaluated: the dataset has no video to model."
    )
    assert sections["trends"].endswith(
        "No hashtag or sound could be counted: the dataset has no video."
    )
    assert sections["accounts"].endswith("No account has a video in the dataset.")
    assert "account-summary" not in page.ids
    assert "Analyses: none; no video was analysed." in sections["methods"]
    for nonsense in ("none analyzer", "up to —", "scraped up to", "scrape more accounts"):
        assert all(nonsense not in text for text in sections.values())
