"""The second evaluation: trained on the older videos, tested on the newer ones — as the model would
be used, on videos posted after the ones it learned from. The grouped cross-validation answers
"does it work for accounts it has not seen"; this one "does what it learned still hold later".

The newest `time_test_share` of the labelled videos (by posting time) are the test videos, all
older ones the training videos; an account may be in both. The peer lines of the labels are
fitted on the older videos only; an account-median label is the account's over the whole
dataset, as in the grouped evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tiktok_virality.defs.model.estimator import new_estimator, predicted_log_views
from tiktok_virality.defs.model.evaluation import Evaluation, evaluate
from tiktok_virality.defs.model.label import dataset_targets
from tiktok_virality.defs.model.parameters import ModelParameters
from tiktok_virality.defs.model.selection import EncodedFeatures

# Fewer older videos than this teach a model of a dozen features nothing.
MIN_TRAINING_VIDEOS = 30


def time_ordered_evaluation(
    labelled: pd.DataFrame, encoded: EncodedFeatures, parameters: ModelParameters
) -> Evaluation:
    """The model fitted on the older labelled videos, scored on the newest (see the module
    docstring). `labelled` needs `created_at` besides the modelling columns."""
    posted = pd.to_datetime(labelled.get("created_at", pd.Series(pd.NaT, labelled.index)), utc=True)
    dated = posted.notna().to_numpy(dtype=bool)
    if dated.sum() < MIN_TRAINING_VIDEOS:
        return Evaluation(reason=f"{int(dated.sum())} videos with a posting time: too few")
    split_at = posted[dated].quantile(1 - parameters.time_test_share)
    test = (posted > split_at).to_numpy(dtype=bool)
    train = dated & ~test
    targets = labelled.assign(**dataset_targets(labelled, parameters, fit_rows=train))
    relative = targets["relative_log_views"].to_numpy(dtype=float, na_value=np.nan)
    train &= np.isfinite(relative)
    test &= np.isfinite(relative)
    tested = targets[test].reset_index(drop=True)
    if train.sum() < MIN_TRAINING_VIDEOS or not tested["viral"].any():
        return Evaluation(
            videos=int(test.sum()),
            reason=(
                f"{int(train.sum())} older and {int(test.sum())} newer videos "
                f"({int(tested['viral'].sum())} viral): too few to train on the older and "
                "score the newer"
            ),
        )
    estimator = new_estimator(encoded.is_category, parameters).fit(
        encoded.values[train], relative[train]
    )
    predicted = estimator.predict(encoded.values[test])
    return evaluate(
        tested,
        predicted,
        predicted_log_views(tested, predicted),
        repeats=parameters.bootstrap_repeats,
        random_state=parameters.random_state,
    )
