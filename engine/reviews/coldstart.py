"""Labelling from zero: a queue for a dataset without a model, and how many labels the
first model still needs.

The first screens should show as many *kinds* of review as possible, not fifty copies of
one pattern. ``diverse_order`` groups the reviews and deals them out round-robin:

* a review with a rule reason (``engine.reviews.rules.rule_reasons``) belongs to the group
  of its first reason (repeated characters, URL, phone, duplicate, ...); inside a group the
  reviews with the most reasons come first;
* the others are clustered (k-means, scikit-learn, on character 2-4-gram TF-IDF of the
  normalised text, ``n_clusters`` clusters); inside a cluster, nearest the centre first.

Round r of the deal takes the r-th review of every group: rule groups first (largest
first), then the clusters (largest first). The result is a rank per review (0 = first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Labels of each class (meaningless and fine) a first model needs.
MIN_PER_CLASS = 5


def labels_needed(n_positive: int, n_negative: int, minimum: int = MIN_PER_CLASS) -> tuple[int, int]:
    """How many more (meaningless, fine) labels training needs."""
    return max(0, minimum - int(n_positive)), max(0, minimum - int(n_negative))


def refusal(dataset: str, n_positive: int, n_negative: int, positive: str = "meaningless",
            minimum: int = MIN_PER_CLASS) -> str | None:
    """The one sentence ``reviews train`` refuses with, or None when there are enough labels."""
    need_p, need_n = labels_needed(n_positive, n_negative, minimum)
    if not need_p and not need_n:
        return None
    more = " and ".join(f"{k} more {name}" for k, name in ((need_p, positive), (need_n, "fine")) if k)
    head = (f"No review of {dataset!r} has a label" if n_positive + n_negative == 0 else
            f"The training data has {n_positive} {positive} and {n_negative} fine review(s)")
    return (f"{head}; training needs at least {minimum} of each, so {more} label(s) are needed "
            f"(import with --label-col or label reviews in the page).")


def diverse_order(X: pd.DataFrame, reasons: list[list[dict]], n_clusters: int = 8,
                  seed: int = 0) -> np.ndarray:
    """Rank (0 = first) of each row of ``X`` (rows of ``engine.reviews.model.prepare``,
    with ``norm``) given its rule ``reasons``; see the module docstring."""
    n = len(X)
    if n == 0:
        return np.array([], dtype=int)
    group = np.array([r[0]["code"] if r else "" for r in reasons], dtype=object)
    strength = np.array([len(r) for r in reasons], dtype=float)
    plain = np.flatnonzero(group == "")
    if len(plain):
        from sklearn.cluster import KMeans  # imported where used (about a second)
        from sklearn.feature_extraction.text import TfidfVectorizer

        k = int(min(n_clusters, len(plain)))
        texts = X["norm"].iloc[plain].fillna("").astype(str)
        try:
            M = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), min_df=1, max_features=20_000,
                                sublinear_tf=True).fit_transform(texts)
        except ValueError:  # only empty texts
            M = None
        if M is not None and k > 1 and M.shape[1] > 0:
            km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(M)
            dist = km.transform(M)[np.arange(len(plain)), km.labels_]
            group[plain] = [f"cluster {c}" for c in km.labels_]
            strength[plain] = -dist  # nearest the centre first
        else:
            group[plain] = "cluster 0"
    frame = pd.DataFrame({"group": group, "strength": strength, "pos": np.arange(n)})
    frame["is_rule"] = ~frame["group"].str.startswith("cluster ")
    sizes = frame["group"].map(frame["group"].value_counts())
    frame["within"] = (frame.sort_values(["strength", "pos"], ascending=[False, True])
                       .groupby("group").cumcount())
    frame["size"] = sizes
    order = frame.sort_values(["within", "is_rule", "size", "group", "pos"],
                              ascending=[True, False, False, True, True]).index.to_numpy()
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    return rank
