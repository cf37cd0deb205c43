"""The users x items interaction matrix that every recommender trains on.

Rows and columns are the contiguous integer positions of the split's user and item
``engine.data.IdMap`` (position -> dataset id); the dataset's own ids never enter the
matrix itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.data.dataset import DEFAULT_EVENT_WEIGHTS, IdMap
from engine.errors import DataError


def row_weights(train: pd.DataFrame, event_weights: dict | None = None) -> np.ndarray:
    """The weight each interaction row contributes (float64), before any threshold.

    An event named in ``event_weights`` (default ``DEFAULT_EVENT_WEIGHTS``: view 1,
    favorite 3, apply 5) weighs what the mapping says; any other event (e.g. "rating")
    weighs its own ``weight`` column; a missing weight counts as 1.
    """
    mapping = DEFAULT_EVENT_WEIGHTS if event_weights is None else event_weights
    n = len(train)
    own = (pd.to_numeric(train["weight"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
           if "weight" in train.columns else np.ones(n))
    own = np.where(np.isnan(own), 1.0, own)
    if "event" not in train.columns or not mapping:
        return own
    mapped = train["event"].astype(object).map(mapping)
    mapped = pd.to_numeric(mapped, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(mapped), own, mapped)


def build_matrix(train: pd.DataFrame, user_ids: IdMap | np.ndarray, item_ids: IdMap | np.ndarray, *,
                 event_weights: dict | None = None, min_weight: float | None = None,
                 use_weight: bool = True, unknown: str = "drop") -> sp.csr_matrix:
    """Users x items CSR matrix (float32) of the interactions in ``train``.

    Args:
        train: rows with columns ``user_id``, ``item_id`` (text ids) and optionally
            ``event`` and ``weight`` (as in ``Dataset.interactions``).
        user_ids, item_ids: the split's ``IdMap``s (or id lists, position -> id); row
            ``u`` of the result is user ``u``, column ``i`` item ``i``. The shape is
            (len(user_ids), len(item_ids)).
        event_weights: event name -> weight. Default ``engine.data.DEFAULT_EVENT_WEIGHTS``
            (view 1, favorite 3, apply 5). Events not in the mapping (e.g. "rating") use
            the row's own ``weight`` column (missing -> 1). Pass ``{}`` to always use the
            ``weight`` column.
        min_weight: drop rows whose weight (as above) is below this, before summing;
            e.g. ``min_weight=4`` keeps only ratings of 4 and 5 as positives.
        use_weight: True: each row adds its weight. False: each kept row adds 1, so a
            cell counts the user's events on that item (binary when there are no repeats).
        unknown: what to do with rows whose user or item is not in ``user_ids`` /
            ``item_ids``: "drop" them (e.g. test items unseen in training), or "error".

    Duplicate (user, item) rows are summed; cells that sum to exactly 0 are removed, so
    every stored entry is an item the user interacted with. Indices are sorted.
    """
    missing = [c for c in ("user_id", "item_id") if c not in train.columns]
    if missing:
        raise DataError(f"build_matrix needs the column(s) {', '.join(missing)} in the "
                        f"interactions; got {', '.join(map(str, train.columns))}.")
    if unknown not in ("drop", "error"):
        raise DataError(f"build_matrix's unknown= must be 'drop' or 'error'; got {unknown!r}.")
    users = IdMap.of(user_ids, "user", " given to build_matrix")
    items = IdMap.of(item_ids, "item", " given to build_matrix")
    shape = (len(users), len(items))
    rows = users.positions(train["user_id"], strict=False)
    cols = items.positions(train["item_id"], strict=False)
    w = row_weights(train, event_weights)
    keep = (rows >= 0) & (cols >= 0)
    if unknown == "error" and not keep.all():
        bad = int(np.flatnonzero(~keep)[0])
        raise DataError(f"Interaction row {bad} has user {train['user_id'].iloc[bad]!r} / item "
                        f"{train['item_id'].iloc[bad]!r}, which is not in the id lists given "
                        f"to build_matrix.")
    if min_weight is not None:
        keep &= w >= float(min_weight)
    data = (w[keep] if use_weight else np.ones(int(keep.sum()))).astype(np.float32)
    m = sp.coo_matrix((data, (rows[keep], cols[keep])), shape=shape, dtype=np.float32).tocsr()
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    return m
