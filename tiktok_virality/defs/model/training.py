"""The virality model of one dataset: grouped cross-validation, metrics against two baselines,
feature importance, and per-video predictions with their top features.

`train_virality_model(features, raw_videos, parameters)` takes the `video_features` rows of one
dataset (all batches) and its `raw_videos` rows (for the trends), and returns a `ModelRun`.

**What the model is.** A gradient-boosted regression (scikit-learn's
`HistGradientBoostingRegressor`) of each video's `relative_log_views` — ln(1 + views) − ln(1 +
the views its label compares them with: its account's median, or for an account of too few
videos what its peers get (label.py) — on the selected features (selection.py). The viral label is
then scored by that prediction: predicted views relative to that level (`predicted_multiple`),
turned into `viral_probability` = P(relative ≥ ln k)
under a normal spread of the out-of-fold residuals. Why not a classifier of the label: viral
videos are rare (6 of 117 in the bundled sample at k = 3); a classifier learns from those few
positives only, a regression of the relative views learns from how far every video is above or
below its account's usual — on the bundled sample a classifier's ROC-AUC is about 0.5, the
regression's above 0.8. The model's log views are `predicted_log_views` = the level (ln(1 +
median views of the account's *other* videos), or the peer line's) + the predicted relative log
views: the account's level, which content cannot explain, plus what the model says about it.

**Validation.** Only videos with a label are modelled (see label.py). They are split into folds
by account (`StratifiedGroupKFold`, viral share balanced across folds): no account is in both the
training and the test videos of a fold, so every prediction is for an account the model has not
seen. `folds` folds, fewer when there are fewer accounts. The peer lines of the labels are then
fitted on the other folds (cross-fitting). Every metric is computed on the pooled out-of-fold
predictions (a fold of one or two accounts may hold no viral video at all), with a 95% interval
from resampling accounts (evaluation.py); a second evaluation trains on the older videos and
tests on the newer (time_ordered.py); the top features are described as drivers (drivers.py).

**Metrics** (metrics.py): ROC-AUC, PR-AUC and two rank correlations of the model's out-of-fold
predictions, against two baselines that rank videos by one number (followers, or the median views
of the account's other videos). What a run returns is `ModelRun` (model_run.py).

**Too little data.** With fewer than 2 labelled accounts, no viral video, or no usable feature,
the run is not evaluated: `evaluated` is False, `reason` says why, metrics are NaN, importance
and predictions empty; the trends and the feature selection are still reported.

**Determinism.** Rows are sorted by account and video id first; the folds, the model and the
shuffles use `random_state`: the same rows, in any order, give the same run.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from tiktok_virality.defs.model.drivers import driver_table
from tiktok_virality.defs.model.estimator import new_estimator, predicted_log_views
from tiktok_virality.defs.model.evaluation import evaluate
from tiktok_virality.defs.model.explain import (
    IMPORTANCE_COLUMNS,
    FoldModel,
    importance_table,
    occlusion_log_effects,
    permutation_drops,
    reference_values,
    shown_values,
    top_contributions,
)
from tiktok_virality.defs.model.label import LABEL_COLUMNS, dataset_targets, median_of_other_videos
from tiktok_virality.defs.model.metrics import metrics_frame, spearman
from tiktok_virality.defs.model.model_run import (
    METRICS,
    MODELS,
    PREDICTION_COLUMNS,
    DatasetCounts,
    ModelRun,
)
from tiktok_virality.defs.model.parameters import ModelParameters
from tiktok_virality.defs.model.selection import (
    EncodedFeatures,
    FeatureSelection,
    encode_features,
    select_features,
)
from tiktok_virality.defs.model.time_ordered import time_ordered_evaluation
from tiktok_virality.defs.model.trends import TREND_FEATURES, trend_features, trend_table
from tiktok_virality.warehouse.contracts import ACCOUNT_KEY, VIDEO_IDENTITY_COLUMNS, VIDEO_KEY


def train_virality_model(
    features: pd.DataFrame, raw_videos: pd.DataFrame, parameters: ModelParameters | None = None
) -> ModelRun:
    """Fit and cross-validate the virality model of one dataset (see the module docstring).

    `features` has the `video_features` columns (at least the keys, `views` and `followers`),
    `raw_videos` the `raw_videos` columns of the same dataset; a video without a raw row has
    null trend features. Raises ValueError when the inputs hold more than one dataset.
    """
    parameters = parameters or ModelParameters()
    dataset = _single_dataset(features, raw_videos)
    frame = _modelling_frame(features, raw_videos, parameters)
    labelled = frame[frame["viral"].notna()].reset_index(drop=True)
    # Selected from the input's columns and the trend features, not from this run's targets.
    candidates = list(dict.fromkeys([*features.columns, *TREND_FEATURES]))
    selection = select_features(labelled[candidates], parameters.near_constant_share)
    trends = trend_table(raw_videos, parameters)
    reason = _cannot_evaluate(labelled, selection)
    fold_of_row = np.zeros(len(labelled), dtype=np.int64)
    if reason is None:
        fold_of_row = account_folds(
            labelled["account"], labelled["viral"], parameters.folds, parameters.random_state
        )
        # The peer lines of the evaluated videos' labels are fitted on the other folds.
        labelled = labelled.assign(**dataset_targets(labelled, parameters, folds=fold_of_row))
        reason = _cannot_evaluate(labelled, selection)
    counts = DatasetCounts(
        videos=len(frame),
        accounts=frame["account"].nunique(),
        labelled_videos=len(labelled),
        labelled_accounts=labelled["account"].nunique(),
        viral_videos=int(labelled["viral"].sum()),
        viral_share=float(labelled["viral"].mean()) if len(labelled) else None,
        folds=0,
        label_bases=dict(Counter(labelled["label_basis"].astype(str))),
    )
    common = {
        "dataset": dataset,
        "parameters": parameters,
        "selected_features": selection.selected,
        "dropped_features": selection.dropped,
        "trends": trends,
    }
    if reason is None:
        # Datasets of a few thousand videos fit in well under a second on one thread; OpenMP's
        # threads only add start-up and, on a busy machine, spinning (10 to 20 times slower).
        with threadpool_limits(limits=1, user_api="openmp"):
            return _evaluate(labelled, fold_of_row, selection, counts, common, parameters)
    return ModelRun(
        **common,
        evaluated=False,
        reason=reason,
        counts=counts,
        metrics=pd.DataFrame({"model": MODELS, **dict.fromkeys(METRICS, np.nan)}),
        importance=pd.DataFrame(columns=list(IMPORTANCE_COLUMNS)),
        predictions=pd.DataFrame(columns=list(PREDICTION_COLUMNS)),
        residual_sd=None,
    )


def account_folds(
    accounts: pd.Series, labels: pd.Series, folds: int, random_state: int
) -> np.ndarray:
    """Per row, its fold (0..n−1): every row of an account in the same fold, the label balanced
    across folds; min(folds, accounts) folds."""
    splitter = StratifiedGroupKFold(
        n_splits=min(folds, accounts.nunique()), shuffle=True, random_state=random_state
    )
    fold_of_row = np.empty(len(accounts), dtype=np.int64)
    with warnings.catch_warnings():
        # Viral videos are rare: fewer of them than folds is expected, and the pooled
        # out-of-fold metrics do not need one in every fold.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = splitter.split(np.zeros(len(accounts)), labels.to_numpy(bool), accounts)
        for fold, (_, test) in enumerate(splits):
            fold_of_row[test] = fold
    return fold_of_row


def _single_dataset(features: pd.DataFrame, raw_videos: pd.DataFrame) -> str | None:
    datasets = sorted(set(features["dataset"].dropna()) | set(raw_videos["dataset"].dropna()))
    if len(datasets) > 1:
        raise ValueError(f"the virality model is fit per dataset, got {datasets}")
    return datasets[0] if datasets else None


def _modelling_frame(
    features: pd.DataFrame, raw_videos: pd.DataFrame, parameters: ModelParameters
) -> pd.DataFrame:
    """The features with the targets, the trend features and the median views of the account's
    other videos, sorted by account and video id."""
    frame = features.sort_values(["account", "video_id"], kind="stable").reset_index(drop=True)
    targets = dataset_targets(frame, parameters)
    trends = trend_features(raw_videos, parameters).drop_duplicates(VIDEO_KEY)
    if "created_at" in raw_videos.columns:  # the time-ordered evaluation's order
        posted = raw_videos[[*VIDEO_KEY, "created_at"]].drop_duplicates(VIDEO_KEY)
        trends = trends.merge(posted, on=VIDEO_KEY, how="left")
    # Stored label columns (e.g. made with another k) are replaced by this run's.
    frame = frame.drop(columns=[*LABEL_COLUMNS, *TREND_FEATURES], errors="ignore")
    return (
        pd.concat([frame, targets], axis=1)
        .merge(trends, on=VIDEO_KEY, how="left")
        .assign(other_videos_median_views=median_of_other_videos(frame, "views", ACCOUNT_KEY))
    )


def _cannot_evaluate(labelled: pd.DataFrame, selection: FeatureSelection) -> str | None:
    accounts = labelled["account"].nunique()
    viral = int(labelled["viral"].sum())
    if accounts < 2:
        return (
            f"{accounts} account(s) with labelled videos: cross-validation by account needs at "
            "least 2 (an account's videos get a label when it has enough videos with views and "
            "a median above 0)"
        )
    # Never every video: k > 1, and an account's median video is below k × its median.
    if viral == 0:
        return "no viral video: ROC-AUC and PR-AUC need viral and non-viral videos"
    if not selection.selected:
        return "no usable feature (see dropped_features)"
    return None


def _evaluate(
    labelled: pd.DataFrame,
    fold_of_row: np.ndarray,
    selection: FeatureSelection,
    counts: DatasetCounts,
    common: dict[str, Any],
    parameters: ModelParameters,
) -> ModelRun:
    encoded = encode_features(labelled, selection.selected)
    relative = labelled["relative_log_views"].to_numpy(dtype=float)
    viral = labelled["viral"].to_numpy(dtype=bool)
    folds = [
        _fit_fold(encoded, relative, fold_of_row, fold, parameters)
        for fold in range(fold_of_row.max() + 1)
    ]
    predicted = np.empty(len(labelled))
    for fold in folds:
        predicted[fold.test] = fold.estimator.predict(encoded.values[fold.test])
    residual_sd = float(np.sqrt(np.mean((relative - predicted) ** 2)))
    log_effects = occlusion_log_effects(folds, encoded.values, predicted)
    drops = permutation_drops(
        folds,
        encoded.values,
        predicted,
        {
            "spearman_relative": lambda scores: spearman(relative, scores),
            "roc_auc": lambda scores: float(roc_auc_score(viral, scores)),
        },
        repeats=parameters.permutation_repeats,
        random_state=parameters.random_state,
    )
    predictions = _predictions(
        labelled, fold_of_row, predicted, residual_sd, log_effects, encoded.names, parameters
    )
    grouped = evaluate(
        labelled,
        predicted,
        predictions["predicted_log_views"],
        repeats=parameters.bootstrap_repeats,
        random_state=parameters.random_state,
    )
    importance = importance_table(encoded.names, drops, log_effects)
    return ModelRun(
        **common,
        evaluated=True,
        reason=None,
        counts=DatasetCounts(**{**asdict(counts), "folds": len(folds)}),
        metrics=metrics_frame(
            {
                (model, metric): grouped.values[f"{model}_{metric}"]
                for model in MODELS
                for metric in METRICS
            }
        ),
        importance=importance,
        predictions=predictions,
        residual_sd=residual_sd,
        grouped=grouped,
        drivers=driver_table(
            labelled,
            predictions["views_multiple"].to_numpy(dtype=float, na_value=np.nan),
            importance,
            top=parameters.top_drivers,
            repeats=parameters.bootstrap_repeats,
            random_state=parameters.random_state,
        ),
        time_ordered=time_ordered_evaluation(labelled, encoded, parameters),
    )


def _fit_fold(
    encoded: EncodedFeatures,
    relative: np.ndarray,
    fold_of_row: np.ndarray,
    fold: int,
    parameters: ModelParameters,
) -> FoldModel:
    train = np.flatnonzero(fold_of_row != fold)
    estimator = new_estimator(encoded.is_category, parameters).fit(
        encoded.values[train], relative[train]
    )
    return FoldModel(
        test=np.flatnonzero(fold_of_row == fold),
        estimator=estimator,
        reference=reference_values(encoded.values[train], encoded.kinds),
    )


def _predictions(
    labelled: pd.DataFrame,
    fold_of_row: np.ndarray,
    predicted: np.ndarray,
    residual_sd: float,
    log_effects: np.ndarray,
    feature_names: tuple[str, ...],
    parameters: ModelParameters,
) -> pd.DataFrame:
    above_threshold = predicted - np.log(parameters.viral_multiple)
    probability = (
        ndtr(above_threshold / residual_sd) if residual_sd > 0 else (above_threshold >= 0) * 1.0
    )
    views = labelled["views"].astype("Float64")
    expected_views = labelled["expected_views"].astype("Float64")
    predictions = labelled[VIDEO_IDENTITY_COLUMNS].assign(
        fold=fold_of_row,
        views=labelled["views"].astype("Int64"),
        label_basis=labelled["label_basis"].astype("string"),
        expected_views=expected_views,
        viral_threshold_views=labelled["viral_threshold_views"].astype("Float64"),
        viral=labelled["viral"].astype("boolean"),
        views_multiple=views / expected_views,
        predicted_multiple=np.exp(predicted),
        viral_probability=probability,
        log_views=labelled["log_views"].astype("Float64"),
        predicted_log_views=predicted_log_views(labelled, predicted),
    )
    contributions = top_contributions(log_effects, shown_values(labelled, feature_names))
    return pd.concat([predictions, contributions], axis=1)[list(PREDICTION_COLUMNS)]
