"""Cross-validation summaries: the mean of a metric over folds with a 95% t interval.

``fold_summary(values)``: values is DataFrame[algorithm, fold_group, fold, value] (one
row per fold run); per (algorithm, fold_group) the mean over its n folds and the t
interval mean ± t(0.975, n - 1) · s / sqrt(n), s the sample standard deviation (ddof 1).
With one fold the interval is undefined (NaN).

``paired_by_fold(a, b)``: per-user values of two fold groups' runs of two algorithms
paired by (fold, user) — with user-group folds each user appears in one fold, so this
is the paired test over every user of the dataset; with time windows a user tested in
two windows counts twice. Returns ``stats.paired_test``'s keys (its mean_diff is A − B;
``stats.second_minus_first`` turns it round to the B − A convention).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from engine.evaluate.stats import paired_test

CONFIDENCE = 0.95


def t_interval(values) -> tuple[float, float, float]:
    """(mean, low, high) of a 95% t interval of the mean of ``values``."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    if v.size < 2:
        return mean, float("nan"), float("nan")
    half = float(sps.t.ppf(0.5 + CONFIDENCE / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return mean, mean - half, mean + half


def fold_summary(values: pd.DataFrame) -> pd.DataFrame:
    """DataFrame[algorithm, fold_group, n_folds, mean, ci_low, ci_high] (see module doc)."""
    rows = []
    for (algo, group), g in values.groupby(["algorithm", "fold_group"], sort=True):
        mean, low, high = t_interval(g["value"])
        rows.append({"algorithm": algo, "fold_group": int(group), "n_folds": int(g["value"].notna().sum()),
                     "mean": mean, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["algorithm", "fold_group", "n_folds", "mean", "ci_low",
                                       "ci_high"])


def paired_by_fold(a: pd.DataFrame, b: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> dict:
    """``stats.paired_test`` of per-user values a, b (DataFrame[fold, user_id, value])
    paired by (fold, user)."""
    sa = a.set_index(["fold", "user_id"])["value"]
    sb = b.set_index(["fold", "user_id"])["value"]
    shared = sa.index.intersection(sb.index)
    return paired_test(sa.loc[shared], sb.loc[shared], n_boot=n_boot, seed=seed)
