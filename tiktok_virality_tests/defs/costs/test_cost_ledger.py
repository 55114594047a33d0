"""The cost ledger: one row per paid unit, never two for the same unit, spend by phase."""

from pathlib import Path

import pytest

from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.costs.ledger import (
    COST_LEDGER_SCHEMA,
    CostEntry,
    CostLedger,
    Service,
    UsdSource,
    spent_by_phase,
)
from tiktok_virality.warehouse.migrations import migrate
from tiktok_virality_tests.helpers import DATABASE_FILE, query

B1 = VideoPartition("v1", "b001")


@pytest.fixture
def ledger(tmp_path: Path) -> CostLedger:
    migrate(tmp_path / DATABASE_FILE, [COST_LEDGER_SCHEMA])
    return CostLedger(database=str(tmp_path / DATABASE_FILE))


def _run(run_id: str, usd: float | None, dataset: str = "v1") -> CostEntry:
    return CostEntry(
        partition=VideoPartition(dataset, "b001"),
        phase=Phase.SCRAPING,
        service=Service.APIFY,
        model_or_actor="clockworks/tiktok-scraper",
        unit_id=run_id,
        usd=usd,
        usd_source=UsdSource.SERVICE,
        units={"charged_event_counts": {"result": 3}},
    )


def _analysis(video_id: str, usd: float, attempt: str = "gemini-3.5-flash;schema=1") -> CostEntry:
    return CostEntry(
        partition=B1,
        phase=Phase.ANALYSIS,
        service=Service.GEMINI,
        model_or_actor="gemini-3.5-flash",
        unit_id=video_id,
        attempt=attempt,
        usd=usd,
        usd_source=UsdSource.ESTIMATE,
        units={"prompt": 100, "output": 10, "thinking": 5},
    )


def test_a_unit_recorded_again_keeps_one_row_with_its_latest_figures(
    ledger: CostLedger,
) -> None:
    ledger.record([_run("r1", 0.10), _analysis("7", 0.01)])
    ledger.record([_run("r1", 0.12), _analysis("7", 0.01)])

    assert ledger.spent("v1") == pytest.approx(0.13)
    rows = query(Path(ledger.database).parent, "SELECT unit_id, usd FROM costs ORDER BY unit_id")
    assert rows == [("7", 0.01), ("r1", 0.12)]


def test_spend_is_by_dataset_and_phase_and_a_new_analysis_of_a_video_is_a_new_unit(
    ledger: CostLedger,
) -> None:
    ledger.record(
        [
            _run("r1", 0.10),
            _run("r2", None),  # Apify reported no figure: counted as nothing
            _run("r3", 5.0, dataset="other"),
            _analysis("7", 0.01),
            _analysis("7", 0.03, attempt="gemini-3.1-flash-lite;schema=1"),
        ]
    )

    assert spent_by_phase(ledger.database, "v1") == pytest.approx(
        {"scraping": 0.10, "analysis": 0.04}
    )
    assert spent_by_phase(ledger.database, "nobody") == {}
