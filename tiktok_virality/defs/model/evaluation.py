"""How far the model's scores can be trusted: a 95% interval for every metric, how much of the
spread in relative views the model explains, and whether the dataset is large enough for a claim.

**Intervals.** Videos of one account are not independent (one creator's style, one audience), so
the bootstrap resamples *accounts* with replacement, each with all its videos, `repeats` times,
and recomputes every metric on the same out-of-fold scores; the interval is the 2.5th to 97.5th
percentile of what it gives (a resample without a viral video gives no ROC-AUC and is skipped
for it). Wide intervals are the honest answer of a small dataset.

**Explained spread.** The share of the variance of the relative log views (a video against its
account's usual, or its peers') that the out-of-fold predictions explain: 1 − Σ(actual −
predicted)² / Σ(actual − mean)². The creator's level is already taken out by the label, so this is
what content and timing explain beyond it; 0 or below means nothing.

**Too small for a claim.** With fewer than `MIN_CLAIM_ACCOUNTS` labelled accounts or
`MIN_CLAIM_VIRAL` viral videos, one account or one video more moves every score, whatever its
interval says: the run says so instead of a verdict (`Evaluation.too_small`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tiktok_virality.defs.model.metrics import Scores, metric_values, model_scores

MIN_CLAIM_ACCOUNTS = 10
MIN_CLAIM_VIRAL = 10
_PERCENTILES = (2.5, 97.5)

Interval = tuple[float, float]


@dataclass(frozen=True)
class Evaluation:
    """The scores of one evaluation (grouped by account, or time-ordered) on its test videos.

    `values` and `intervals` are keyed `<model>_<metric>` (e.g. `model_roc_auc`), plus
    `explained_share` for the model; an undefined value is NaN, an interval without enough
    resamples (NaN, NaN). `reason` says why an evaluation was not made (then everything is
    empty); `too_small` why its scores support no claim."""

    videos: int = 0
    accounts: int = 0
    viral_videos: int = 0
    values: Mapping[str, float] = field(default_factory=dict)
    intervals: Mapping[str, Interval] = field(default_factory=dict)
    reason: str | None = None
    too_small: str | None = None

    def record(self) -> dict[str, object]:
        """Plain values for JSON: NaN as None, intervals as [low, high]."""
        return {
            "videos": self.videos,
            "accounts": self.accounts,
            "viral_videos": self.viral_videos,
            "reason": self.reason,
            "too_small": self.too_small,
            "values": {key: _plain(value) for key, value in self.values.items()},
            "intervals": {
                key: [_plain(low), _plain(high)] for key, (low, high) in self.intervals.items()
            },
        }


def evaluate(
    labelled: pd.DataFrame,
    predicted_relative: np.ndarray,
    predicted_log_views: pd.Series,
    *,
    repeats: int,
    random_state: int,
) -> Evaluation:
    """The model and its baselines scored on `labelled` (the test videos, with `viral`,
    `log_views`, `relative_log_views`, `followers`, `other_videos_median_views`, `account`),
    with account-bootstrap intervals."""
    viral = labelled["viral"].to_numpy(dtype=bool)
    log_views = labelled["log_views"].to_numpy(dtype=float)
    relative = labelled["relative_log_views"].to_numpy(dtype=float)
    scores = model_scores(labelled, predicted_relative, predicted_log_views)

    def measure(rows: np.ndarray) -> dict[str, float]:
        return _measure(viral[rows], log_views[rows], relative[rows], _subset(scores, rows))

    accounts = labelled["account"].to_numpy()
    return Evaluation(
        videos=len(labelled),
        accounts=len(set(accounts)),
        viral_videos=int(viral.sum()),
        values=measure(np.arange(len(labelled))),
        intervals=account_bootstrap(accounts, measure, repeats, random_state),
        too_small=too_small_for_a_claim(len(set(accounts)), int(viral.sum())),
    )


def account_bootstrap(
    accounts: np.ndarray,
    measure: Callable[[np.ndarray], Mapping[str, float]],
    repeats: int,
    random_state: int,
) -> dict[str, Interval]:
    """95% percentile intervals of `measure` over resamples of whole accounts (with
    replacement); a value NaN in a resample (undefined there) is left out of its interval."""
    codes, unique = pd.factorize(accounts)
    rows_of = [np.flatnonzero(codes == code) for code in range(len(unique))]
    rng = np.random.default_rng(random_state)
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        drawn = rng.integers(0, len(rows_of), len(rows_of))
        rows = np.concatenate([rows_of[account] for account in drawn])
        for key, value in measure(rows).items():
            samples.setdefault(key, []).append(value)
    intervals = {}
    for key, values in samples.items():
        finite = np.asarray(values)[np.isfinite(values)]
        # Fewer than half the resamples defined: no interval worth the name.
        enough = len(finite) >= repeats / 2
        low, high = np.percentile(finite, _PERCENTILES) if enough else (np.nan, np.nan)
        intervals[key] = (float(low), float(high))
    return intervals


def explained_share(relative: np.ndarray, predicted: np.ndarray) -> float:
    """1 − SSE / SST of the relative log views; NaN when they do not vary."""
    spread = np.sum((relative - relative.mean()) ** 2) if len(relative) else 0.0
    if spread == 0:
        return float("nan")
    return float(1 - np.sum((relative - predicted) ** 2) / spread)


def too_small_for_a_claim(accounts: int, viral_videos: int) -> str | None:
    if accounts >= MIN_CLAIM_ACCOUNTS and viral_videos >= MIN_CLAIM_VIRAL:
        return None
    return (
        f"too small for a claim: {viral_videos} viral video(s) of {accounts} account(s), where "
        f"a claim needs at least {MIN_CLAIM_VIRAL} of each (the scores, with their intervals, "
        "are in the report, but one video or account more moves them)"
    )


def _measure(
    viral: np.ndarray, log_views: np.ndarray, relative: np.ndarray, scores: Scores
) -> dict[str, float]:
    values = {
        f"{model}_{metric}": value
        for (model, metric), value in metric_values(viral, log_views, relative, scores).items()
    }
    values["explained_share"] = explained_share(relative, scores["model"][0])
    return values


def _subset(scores: Scores, rows: np.ndarray) -> Scores:
    return {model: (label[rows], views[rows]) for model, (label, views) in scores.items()}


def _plain(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
