"""Agreement between reviewers who labelled the same reviews.

Each reviewer's standing label on a review: the label history of the review is replayed
as in ``engine.reviews.labels`` (an 'undo' pops the latest standing row, whoever wrote
it); of what remains on the stack, each reviewer's latest row counts. Only 'meaningless'
and 'fine' are ratings ('skip' is no opinion).

* Cohen's kappa per pair of reviewers, on the reviews both rated (scikit-learn's
  ``cohen_kappa_score``); NaN when they share fewer than 2 reviews or the expected
  agreement is 1 (both always gave the same single label).
* Fleiss' kappa over every review rated by at least two people. With n_i raters on
  review i, n_ij of them choosing category j, N reviews::

      P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)),   P_bar = mean_i P_i
      p_j = sum_i n_ij / sum_i n_i,                    P_e = sum_j p_j^2
      kappa = (P_bar - P_e) / (1 - P_e)

  Written by hand because reviewers rarely all rate the same reviews: per-review n_i is
  allowed to vary (with equal n_i this is exactly statsmodels' ``fleiss_kappa``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from engine.reviews.labels import label_stacks

RATINGS = ("meaningless", "fine")


def reviewer_labels(history: pd.DataFrame) -> pd.DataFrame:
    """review_id, reviewer, label: each reviewer's standing rating per review."""
    stacks = label_stacks(history)
    rows = {}
    for rid, st in stacks.items():
        for label, reviewer, _ in st:  # later rows overwrite earlier ones of the same reviewer
            rows[(rid, reviewer)] = label
    out = pd.DataFrame([(r, who, lab) for (r, who), lab in rows.items()],
                       columns=["review_id", "reviewer", "label"])
    return out[out["label"].isin(RATINGS)].reset_index(drop=True)


def cohen_pairs(rl: pd.DataFrame) -> pd.DataFrame:
    """reviewer_a, reviewer_b, n_common, agreement (share equal), kappa; one row per pair
    that shares at least one review."""
    from sklearn.metrics import cohen_kappa_score  # imported where used (about a second)

    wide = rl.pivot(index="review_id", columns="reviewer", values="label")
    rows = []
    for a, b in itertools.combinations(sorted(wide.columns), 2):
        both = wide[[a, b]].dropna()
        if both.empty:
            continue
        kappa = float("nan")
        if len(both) >= 2:
            with np.errstate(invalid="ignore", divide="ignore"):
                kappa = float(cohen_kappa_score(both[a], both[b], labels=list(RATINGS)))
        rows.append({"reviewer_a": a, "reviewer_b": b, "n_common": int(len(both)),
                     "agreement": float((both[a] == both[b]).mean()), "kappa": kappa})
    return pd.DataFrame(rows, columns=["reviewer_a", "reviewer_b", "n_common", "agreement", "kappa"])


def rating_table(rl: pd.DataFrame) -> pd.DataFrame:
    """Per review rated by two or more people: counts per category (columns RATINGS)."""
    t = pd.crosstab(rl["review_id"], rl["label"]).reindex(columns=list(RATINGS), fill_value=0)
    return t[t.sum(axis=1) >= 2]


def fleiss_kappa(table) -> float:
    """Fleiss' kappa of a (reviews x categories) count table (see the module docstring)."""
    t = np.asarray(table, dtype=float)
    if t.size == 0:
        return float("nan")
    n_i = t.sum(axis=1)
    t, n_i = t[n_i >= 2], n_i[n_i >= 2]
    if len(t) == 0:
        return float("nan")
    p_i = (t * (t - 1)).sum(axis=1) / (n_i * (n_i - 1))
    p_j = t.sum(axis=0) / n_i.sum()
    pe = float((p_j ** 2).sum())
    if pe >= 1.0:
        return float("nan")
    return float((p_i.mean() - pe) / (1 - pe))


def disagreements(rl: pd.DataFrame) -> pd.DataFrame:
    """review_id, n_raters, n_meaningless, n_fine of the reviews rated both ways, the most
    even split first (then most raters, then review_id)."""
    t = rating_table(rl)
    t = t[(t > 0).all(axis=1)]
    out = pd.DataFrame({"review_id": t.index.astype(str), "n_meaningless": t["meaningless"].to_numpy(),
                        "n_fine": t["fine"].to_numpy()})
    out["n_raters"] = out["n_meaningless"] + out["n_fine"]
    out["minority"] = np.minimum(out["n_meaningless"], out["n_fine"]) / out["n_raters"]
    out = out.sort_values(["minority", "n_raters", "review_id"], ascending=[False, False, True])
    return out.drop(columns="minority").reset_index(drop=True)


def summary(history: pd.DataFrame) -> dict:
    """What the page shows: n_reviewers, n_multi (reviews rated by 2+), pairs, fleiss, disagreements."""
    rl = reviewer_labels(history)
    table = rating_table(rl) if len(rl) else pd.DataFrame()
    return {"n_reviewers": int(rl["reviewer"].nunique()) if len(rl) else 0,
            "n_multi": int(len(table)), "pairs": cohen_pairs(rl) if len(rl) else cohen_pairs(
                pd.DataFrame(columns=["review_id", "reviewer", "label"])),
            "fleiss": fleiss_kappa(table.to_numpy()) if len(table) else float("nan"),
            "disagreements": disagreements(rl) if len(rl) else pd.DataFrame(
                columns=["review_id", "n_meaningless", "n_fine", "n_raters"])}
