"""Metrics of predicted probabilities against 0/1 labels.

- ROC-AUC, PR-AUC (average precision), log loss, Brier: scikit-learn.
- ECE, expected calibration error with equal-mass bins: sort the rows by prediction
  (stable), cut them into ``B`` bins of (as nearly as possible) equal counts
  (``numpy.array_split``), then

      ECE = sum_b (n_b / N) * | mean(y in b) - mean(p in b) |.

  Written by hand because scikit-learn has no ECE (its ``calibration_curve`` gives the
  per-bin means without weights); ``reliability`` returns the same bins for the diagram.
- Lift by decile: rows sorted by score (descending) cut into 10 equal-count groups;
  lift = the group's positive rate / the overall rate; cumulative gain = share of all
  positives in the groups so far.
- AUC per segment: ROC-AUC within each value of a segment column (NaN when a segment
  has only one class).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

ECE_BINS = 15


def reliability(y, p, bins: int = ECE_BINS) -> pd.DataFrame:
    """Equal-mass bins: columns bin, n, mean_predicted, observed_rate."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    order = np.argsort(p, kind="stable")
    rows = []
    for b, idx in enumerate(np.array_split(order, min(bins, len(order)))):
        if len(idx):
            rows.append((b, len(idx), float(p[idx].mean()), float(y[idx].mean())))
    return pd.DataFrame(rows, columns=["bin", "n", "mean_predicted", "observed_rate"])


def ece(y, p, bins: int = ECE_BINS) -> float:
    """Expected calibration error over ``bins`` equal-mass bins (see the module docstring)."""
    r = reliability(y, p, bins)
    return float((r["n"] / r["n"].sum() * (r["observed_rate"] - r["mean_predicted"]).abs()).sum())


def lift_table(y, p, groups: int = 10) -> pd.DataFrame:
    """Deciles by score: decile (1 = highest scores), n, positives, rate, lift, cumulative_gain."""
    y = np.asarray(y, dtype="float64")
    order = np.argsort(-np.asarray(p, dtype="float64"), kind="stable")
    base = y.mean() if len(y) else np.nan
    rows, cum = [], 0.0
    for d, idx in enumerate(np.array_split(order, groups), start=1):
        pos = float(y[idx].sum())
        cum += pos
        rate = pos / len(idx) if len(idx) else np.nan
        rows.append((d, len(idx), pos, rate, rate / base if base else np.nan,
                     cum / y.sum() if y.sum() else np.nan))
    return pd.DataFrame(rows, columns=["decile", "n", "positives", "rate", "lift", "cumulative_gain"])


def safe_auc(y, p) -> float:
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, p))


def summary(y, p) -> dict:
    """roc_auc, pr_auc, log_loss, brier, ece, base_rate, n of predictions ``p``."""
    y = np.asarray(y, dtype="int64")
    p = np.clip(np.asarray(p, dtype="float64"), 1e-7, 1 - 1e-7)
    return {"roc_auc": safe_auc(y, p), "pr_auc": float(average_precision_score(y, p)),
            "log_loss": float(log_loss(y, p, labels=[0, 1])), "brier": float(brier_score_loss(y, p)),
            "ece": ece(y, p), "base_rate": float(y.mean()), "n": int(len(y))}


def segment_auc(y, p, segment: pd.Series, min_rows: int = 50) -> pd.DataFrame:
    """ROC-AUC per segment value (segments with at least ``min_rows`` rows): segment, n,
    positives, roc_auc."""
    df = pd.DataFrame({"y": np.asarray(y), "p": np.asarray(p), "s": np.asarray(segment, dtype=object)})
    rows = []
    for s, g in df.groupby("s", sort=False, dropna=True):
        if len(g) >= min_rows:
            rows.append((str(s), len(g), int(g["y"].sum()), safe_auc(g["y"], g["p"])))
    rows.sort(key=lambda r: _natural(r[0]))
    return pd.DataFrame(rows, columns=["segment", "n", "positives", "roc_auc"])


def _natural(label: str) -> tuple:
    """Bands by their lower number ("1-4" < "5-19" < "20-99" < "100+"), then names."""
    digits = re.match(r"\d+", label)
    return (0, int(digits.group()), label) if digits else (1, 0, label)


def activity_band(user_events) -> pd.Series:
    """The user's past activity as a band: 0, 1-4, 5-19, 20-99, 100+ earlier events."""
    return pd.cut(pd.Series(np.asarray(user_events, dtype="float64")), [-1, 0, 4, 19, 99, np.inf],
                  labels=["0", "1-4", "5-19", "20-99", "100+"]).astype(str)
