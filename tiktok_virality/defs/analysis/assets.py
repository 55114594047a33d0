"""The analysis phase's asset: every raw video of a batch analysed (Gemini, or the offline
analyzer), each paid answer kept as soon as it arrives so that a retry never pays for it again."""

import dagster as dg
import pandas as pd

from tiktok_virality.core.partitions import parse_partition_key
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.analysis.analyzers import VideoAnalyzer
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION
from tiktok_virality.defs.costs.budget import analysis_spending
from tiktok_virality.defs.costs.ledger import CostLedger
from tiktok_virality.defs.datasets.error_log import ErrorLog, failure_recorded
from tiktok_virality.warehouse.outputs import partitioned_table_asset
from tiktok_virality.warehouse.tables import VIDEO_ANALYSES

# Concurrent runs share the user's Gemini quota: `dagster instance concurrency set gemini N`.
GEMINI_POOL = "gemini"


class AnalysisIncompleteError(RuntimeError):
    """Some videos could not be analysed this time; the others are stored and paid for once."""


@partitioned_table_asset(
    VIDEO_ANALYSES,
    pool=GEMINI_POOL,
    # A new analysis schema makes every stored analysis out of date: the UI shows them as such.
    code_version=f"analysis-schema-{SCHEMA_VERSION}",
)
def video_analyses(
    context: dg.AssetExecutionContext,
    raw_videos: pd.DataFrame,
    analyzer: VideoAnalyzer,
    error_log: ErrorLog,
    cost_ledger: CostLedger,
) -> pd.DataFrame:
    if raw_videos.empty:
        return VIDEO_ANALYSES.empty_frame()
    partition = parse_partition_key(context.partition_key)
    with failure_recorded(error_log, partition, Phase.ANALYSIS):
        result = analyzer.analyze(
            raw_videos, context.log, spending=analysis_spending(cost_ledger, partition)
        )
    error_log.record_errors(partition, Phase.ANALYSIS, result.errors)
    for error in result.errors:
        context.log.warning(error.error)
    if result.retryable_errors:
        raise AnalysisIncompleteError(
            f"{len(result.retryable_errors)} of {len(raw_videos)} videos of {partition} could not "
            f"be analysed this time (e.g. {result.retryable_errors[0].error}); the "
            f"{len(result.analyses)} analysed are kept and will not be paid for again: retry "
            "the partition"
        )
    context.add_output_metadata({"videos": len(raw_videos), "errors": len(result.errors)})
    return result.analyses
