"""When a dataset's model and report are made again: after one of its batches got new features.

Declared on the assets, so that the UI shows it and the automation sensor (`dagster dev`, turned
on in the Automation tab) follows it, and so does the CLI (`cli/automation.py`)."""

import dagster as dg

from tiktok_virality.warehouse.tables import RAW_VIDEOS

# Not `AutomationCondition.eager()`: a dataset's partition depends on every batch key × that
# dataset, including the grid's phantom pairs (batch keys of other datasets), which stay
# unmaterialized, so eager's `~any_deps_missing()` would never let it fire.
#
# The raw videos are ignored: a batch's features are its last phase, so they are updated exactly
# when a batch was run through; a scrape whose analysis then failed changes nothing the model
# reads. The report's other dependencies are the model's tables: updated by a model run (with the
# report in it, which Dagster does not count) or by a model run of its own from the UI.
AFTER_NEW_FEATURES = (
    dg.AutomationCondition.any_deps_updated()
    .ignore(dg.AssetSelection.assets(RAW_VIDEOS.name))
    .since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after_new_features")
