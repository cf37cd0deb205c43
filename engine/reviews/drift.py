"""Drift of a model's scores on newly added reviews against its training scores.

Population stability index (PSI), the usual screening figure for a shifted score
distribution::

    PSI = sum_i (a_i - e_i) * ln(a_i / e_i)

where e_i is the share of the *expected* scores (the model's out-of-fold scores on its
training reviews) in bin i and a_i the share of the *actual* scores (one batch of new
reviews) in the same bin. Bins: ``bins`` (default 10) quantile bins of the expected
scores, i.e. inner edges at its 10%, 20%, ..., 90% quantiles (repeated edges merged), the
outer bins open-ended; a score equal to an edge falls in the bin above it. A share of 0
is floored at ``EPS`` = 1e-4 so that the logarithm stays finite (the usual convention).
Read as: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 large shift.

Written with numpy (no well-kept library computes PSI; the formula is three lines).

The share flagged (score >= threshold) of a batch is compared with the share flagged
among the training scores; ``alarm`` returns one sentence when it moves by more than
half (|batch - base| > 0.5 * base).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPS = 1e-4
STABLE, MODERATE = 0.1, 0.25


def psi_edges(expected, bins: int = 10) -> np.ndarray:
    """Inner bin edges: the 1/bins ... (bins-1)/bins quantiles of ``expected``, unique."""
    e = np.asarray(expected, dtype=float)
    e = e[~np.isnan(e)]
    if len(e) == 0:
        return np.array([])
    return np.unique(np.quantile(e, np.arange(1, bins) / bins))


def bin_shares(scores, edges: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    s = s[~np.isnan(s)]
    counts = np.bincount(np.searchsorted(edges, s, side="right"), minlength=len(edges) + 1)
    return counts / max(len(s), 1)


def psi(expected, actual, bins: int = 10) -> float:
    """PSI of ``actual`` against ``expected`` (see the module docstring); NaN when either is empty."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if np.isnan(e).all() or np.isnan(a).all() or len(e) == 0 or len(a) == 0:
        return float("nan")
    edges = psi_edges(e, bins)
    pe = np.maximum(bin_shares(e, edges), EPS)
    pa = np.maximum(bin_shares(a, edges), EPS)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def share_flagged(scores, threshold: float) -> float:
    s = np.asarray(scores, dtype=float)
    s = s[~np.isnan(s)]
    return float((s >= threshold).mean()) if len(s) else float("nan")


def alarm(base_share: float, batch_share: float, label: str = "this batch") -> str | None:
    """One sentence when the share flagged moved by more than half of the training share."""
    if base_share != base_share or batch_share != batch_share:
        return None
    if abs(batch_share - base_share) <= 0.5 * base_share and not (base_share == 0 and batch_share > 0):
        return None
    way = "rose" if batch_share > base_share else "fell"
    return (f"The share flagged {way} from {base_share:.1%} on the training reviews to "
            f"{batch_share:.1%} in {label}: more than half again, so the new reviews differ from "
            f"what the model learned on (or spam has changed); check them and retrain.")


def batch_drift(train_scores, batches: pd.DataFrame, threshold: float, bins: int = 10) -> pd.DataFrame:
    """Per batch (``batches``: batch_id, added_at, score per new review): batch_id, added_at,
    n, psi, share_flagged, base_share (training), alarm (sentence or None). Oldest first."""
    base = share_flagged(train_scores, threshold)
    rows = []
    for (bid, added), g in batches.groupby(["batch_id", "added_at"], sort=True):
        share = share_flagged(g["score"], threshold)
        rows.append({"batch_id": int(bid), "added_at": added, "n": int(g["score"].notna().sum()),
                     "psi": psi(train_scores, g["score"], bins), "share_flagged": share,
                     "base_share": base, "alarm": alarm(base, share, f"batch {int(bid)}")})
    return pd.DataFrame(rows, columns=["batch_id", "added_at", "n", "psi", "share_flagged",
                                       "base_share", "alarm"])
