"""The CLI follows the graph's declared automation (`defs/model/automation.py`) instead of a rule
of its own: it evaluates the conditions of the dataset assets (the model and the report) before
and after running partitions, and makes the dataset partitions they then request.

The first evaluation only sets the baseline (Dagster requests nothing on an initial evaluation);
the second, from its cursor, sees what the runs in between updated. An evaluation takes about half
a second, so a run with nothing to do makes none: nothing it does could change what is requested."""

import dagster as dg

from tiktok_virality.definitions import DATASET_ASSET_KEYS

DATASET_ASSETS = dg.AssetSelection.assets(*DATASET_ASSET_KEYS)


def automation_baseline(
    instance: dg.DagsterInstance, defs: dg.Definitions
) -> dg.EvaluateAutomationConditionsResult:
    """The conditions evaluated now, before any run: what later evaluations start from."""
    return dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=DATASET_ASSETS
    )


def datasets_requested_since(
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    baseline: dg.EvaluateAutomationConditionsResult,
) -> set[str]:
    """The datasets whose model or report the conditions request after what ran since the
    baseline."""
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=DATASET_ASSETS, cursor=baseline.cursor
    )
    return {
        dataset
        for key in DATASET_ASSET_KEYS
        for dataset in result.get_requested_partitions(key)
        if dataset is not None
    }
