"""What the model learned, measured on held-out folds only: permutation importance per feature, and
per video the features that moved its prediction most.

**Per-video effects (occlusion).** For a video and a feature, the effect is how much the model's
predicted views (relative to the account's median) change when that feature alone is set to its
*reference* value — the median (numbers) or the most frequent value (booleans, categories) among
the fold's training videos — everything else about the video kept: effect = exp(prediction −
prediction with the reference value), a multiplier on views. A video with a call to action, where
most videos have none, gets e.g. "ai_has_call_to_action = true: ×1.9"; a feature already at its
reference value has no effect (×1). Each video's prediction comes from the fold model that never
saw its account.

Why occlusion and not SHAP: the `shap` package is a heavy dependency (numba, llvmlite) tied to
scikit-learn and numpy versions; occlusion needs only the model's `predict`, costs one batched
prediction of n × p rows per fold, and answers a question a creator can act on ("what if this
video had the usual value of this feature?"). What it does not give: contributions that add up to
the prediction (SHAP's do), and interactions are attributed to whichever feature is changed.

**Permutation importance.** Per feature and repeat, the feature's values are shuffled among each
fold's held-out videos, every video is predicted again by its fold's model, and the pooled
out-of-fold score is recomputed: importance = the score's drop. Two scores: the Spearman
correlation of predicted and actual views relative to the account median (every video counts,
so it is the steadier one, and the ranking key), and the ROC-AUC of the viral label (rests on the
few viral videos). The mean absolute per-video log effect is given beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from tiktok_virality.defs.model.selection import FeatureKind

TOP_CONTRIBUTIONS = 3
"""Per-video top features kept in the predictions: `top_feature_i`, `top_value_i`, `top_effect_i`."""

IMPORTANCE_COLUMNS = (
    "feature",
    "rank",
    "spearman_relative_drop",
    "spearman_relative_drop_sd",
    "roc_auc_drop",
    "roc_auc_drop_sd",
    "mean_abs_log_effect",
)

Scorer = Callable[[np.ndarray], float]
# Below this, a change of the log prediction is rounding noise, not an effect.
_NO_EFFECT = 1e-9


@dataclass(frozen=True)
class FoldModel:
    """One cross-validation fold: its held-out rows, the model fit on the other rows, and the
    reference value of each feature among those training rows."""

    test: np.ndarray
    estimator: HistGradientBoostingRegressor
    reference: np.ndarray


def reference_values(values: np.ndarray, kinds: Sequence[FeatureKind]) -> np.ndarray:
    """Per column: the median of a number, the most frequent value (the smallest on a tie) of a
    boolean or category; NaN for a column without known values."""
    references = np.full(values.shape[1], np.nan)
    for column, kind in enumerate(kinds):
        known = values[:, column][~np.isnan(values[:, column])]
        if len(known) == 0:
            continue
        if kind == FeatureKind.NUMBER:
            references[column] = np.median(known)
        else:
            distinct, counts = np.unique(known, return_counts=True)
            references[column] = distinct[np.argmax(counts)]
    return references


def occlusion_log_effects(
    folds: Sequence[FoldModel], values: np.ndarray, out_of_fold: np.ndarray
) -> np.ndarray:
    """n × p: per video and feature, its out-of-fold prediction − the prediction with the feature
    at its fold's reference value (log scale)."""
    effects = np.zeros(values.shape)
    feature_count = values.shape[1]
    for fold in folds:
        test_values = values[fold.test]
        occluded = np.repeat(test_values[np.newaxis], feature_count, axis=0)
        for feature in range(feature_count):
            occluded[feature, :, feature] = fold.reference[feature]
        occluded_predictions = fold.estimator.predict(occluded.reshape(-1, feature_count))
        effects[fold.test] = (
            out_of_fold[fold.test][np.newaxis] - occluded_predictions.reshape(feature_count, -1)
        ).T
    return effects


def permutation_drops(
    folds: Sequence[FoldModel],
    values: np.ndarray,
    out_of_fold: np.ndarray,
    scorers: Mapping[str, Scorer],
    *,
    repeats: int,
    random_state: int,
) -> dict[str, np.ndarray]:
    """Per scorer, a repeats × p array of score drops when each feature is shuffled within the
    held-out videos of every fold (see the module docstring). Deterministic for a given
    `random_state`."""
    rng = np.random.default_rng(random_state)
    feature_count = values.shape[1]
    permuted = np.empty((repeats, feature_count, len(values)))
    for fold in folds:
        test_values = values[fold.test]
        for repeat in range(repeats):
            shuffled = np.repeat(test_values[np.newaxis], feature_count, axis=0)
            for feature in range(feature_count):
                shuffled[feature, :, feature] = rng.permutation(test_values[:, feature])
            predictions = fold.estimator.predict(shuffled.reshape(-1, feature_count))
            permuted[repeat][:, fold.test] = predictions.reshape(feature_count, -1)
    drops = {}
    for name, scorer in scorers.items():
        permuted_scores = np.array(
            [
                [scorer(permuted[repeat, feature]) for feature in range(feature_count)]
                for repeat in range(repeats)
            ]
        )
        drops[name] = scorer(out_of_fold) - permuted_scores
    return drops


def importance_table(
    names: Sequence[str], drops: Mapping[str, np.ndarray], log_effects: np.ndarray
) -> pd.DataFrame:
    """One row per feature (`IMPORTANCE_COLUMNS`), rank 1 = most important: by the drop of the
    relative Spearman, then by the mean absolute effect."""
    table = pd.DataFrame(
        {
            "feature": list(names),
            "spearman_relative_drop": drops["spearman_relative"].mean(axis=0),
            "spearman_relative_drop_sd": drops["spearman_relative"].std(axis=0),
            "roc_auc_drop": drops["roc_auc"].mean(axis=0),
            "roc_auc_drop_sd": drops["roc_auc"].std(axis=0),
            "mean_abs_log_effect": np.abs(log_effects).mean(axis=0),
        }
    ).sort_values(["spearman_relative_drop", "mean_abs_log_effect"], ascending=False, kind="stable")
    table.insert(1, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)[list(IMPORTANCE_COLUMNS)]


def top_contributions(log_effects: np.ndarray, shown: pd.DataFrame) -> pd.DataFrame:
    """Per video, its `TOP_CONTRIBUTIONS` features of largest absolute effect (ties: the earlier
    feature): `top_feature_i`, `top_value_i` (the video's value, as text) and `top_effect_i` (the
    multiplier on views); null where fewer features had any effect. `shown` holds the videos'
    values as text (`shown_values`), one column per column of `log_effects`."""
    # Fewer features than places: padded with features of no effect, which show as null.
    padding = max(TOP_CONTRIBUTIONS - log_effects.shape[1], 0)
    effects = np.pad(log_effects, ((0, 0), (0, padding)))
    names = np.array([*shown.columns, *[None] * padding], dtype=object)
    texts = np.concatenate(
        [
            shown.to_numpy(dtype=object),
            np.full((len(effects), padding), None, dtype=object),
        ],
        axis=1,
    )
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :TOP_CONTRIBUTIONS]
    rows = np.arange(len(effects))[:, np.newaxis]
    top_effects = effects[rows, order]
    has_effect = np.abs(top_effects) > _NO_EFFECT
    columns: dict[str, np.ndarray] = {}
    for rank in range(TOP_CONTRIBUTIONS):
        present = has_effect[:, rank]
        columns[f"top_feature_{rank + 1}"] = np.where(present, names[order[:, rank]], None)
        columns[f"top_value_{rank + 1}"] = np.where(
            present, texts[rows[:, 0], order[:, rank]], None
        )
        columns[f"top_effect_{rank + 1}"] = np.where(present, np.exp(top_effects[:, rank]), np.nan)
    return pd.DataFrame(columns)


def shown_values(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The features' values as short text (true/false, 12.5, fast); None where null."""
    return pd.DataFrame(
        {name: frame[name].map(_shown, na_action="ignore").astype(object) for name in names},
        index=frame.index,
    ).where(lambda shown: shown.notna(), None)


def _shown(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)
