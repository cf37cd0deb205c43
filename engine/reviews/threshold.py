"""Threshold tool: precision and recall of a model's scores against labelled reviews."""

from __future__ import annotations

import numpy as np
import pandas as pd


def pr_curve(y: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Precision-recall curve (scikit-learn): columns threshold, precision, recall, one row
    per distinct score (flag when score >= threshold)."""
    # scikit-learn takes about a second to import: loaded when a curve is drawn, not
    # by every module that imports this one
    from sklearn.metrics import precision_recall_curve

    y = np.asarray(y, dtype=int)
    prec, rec, thr = precision_recall_curve(y, np.asarray(scores, dtype=float))
    return pd.DataFrame({"threshold": thr, "precision": prec[:-1], "recall": rec[:-1]})


def at_threshold(y: np.ndarray, labelled_scores: np.ndarray, all_scores: np.ndarray,
                 threshold: float) -> dict:
    """Precision, recall, F1 on the labelled reviews and how many of all scored reviews
    would be flagged (score >= threshold). Precision is NaN when nothing labelled is flagged."""
    y = np.asarray(y, dtype=int)
    s = np.asarray(labelled_scores, dtype=float)
    flag = s >= threshold
    tp = int((flag & (y == 1)).sum())
    fp = int((flag & (y == 0)).sum())
    fn = int((~flag & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    all_s = np.asarray(all_scores, dtype=float)
    return {"threshold": float(threshold), "precision": precision, "recall": recall, "f1": f1,
            "tp": tp, "fp": fp, "fn": fn, "n_labelled": int(len(y)),
            "n_flagged": int((all_s[~np.isnan(all_s)] >= threshold).sum())}
