"""Likely label errors: confident learning (cleanlab's ``find_label_issues``) on out-of-fold
probabilities.

Input: the labelled reviews' training targets (1 meaningless, 0 fine) and their
out-of-fold scores (the probability of 'meaningless' given by a model that did not see
the review, as ``engine.services.reviews.train_dataset`` stores them). cleanlab estimates
the joint distribution of given and true labels from those probabilities and returns the
reviews whose given label is most likely wrong, ranked by self-confidence (the predicted
probability of the given label): the most doubtful first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def find_issues(review_ids, labels, scores) -> pd.DataFrame:
    """review_id, label (0/1), score, self_confidence of the reviews cleanlab finds
    mislabelled, most doubtful (lowest self-confidence) first."""
    from cleanlab.filter import find_label_issues  # imported where used (it loads scikit-learn)

    y = np.asarray(labels, dtype=int)
    p = np.clip(np.asarray(scores, dtype=float), 1e-6, 1 - 1e-6)
    cols = ["review_id", "label", "score", "self_confidence"]
    if len(y) == 0 or y.min() == y.max():
        return pd.DataFrame(columns=cols)
    probs = np.column_stack([1 - p, p])
    idx = find_label_issues(labels=y, pred_probs=probs, return_indices_ranked_by="self_confidence")
    ids = np.asarray(review_ids, dtype=object)
    return pd.DataFrame({"review_id": ids[idx].astype(str), "label": y[idx], "score": p[idx],
                         "self_confidence": probs[idx, y[idx]]}, columns=cols)
