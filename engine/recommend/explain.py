"""The model's own explanation of an ALS list, from what the run kept.

implicit's ``AlternatingLeastSquares.explain`` (Hu, Koren & Volinsky 2008, section 5)
re-solves the user's factors from the item factors Y and the user's history row, then
splits the score of item i into one term per history item j:

    score(u, i) = sum_j  c_uj * y_i' W_u y_j,   W_u = (Y' C_u Y + regularization * I)^-1

so the contributions over the whole history add up to the score of the re-solved user
vector (implicit's ``recalculate_user``). That is the trained model's score up to its
last half-step (the users were solved before the items' last update) and the tolerance
of its conjugate-gradient solver: close, not bit-identical, to the stored list's score.

Only the item factors (and regularization, alpha) are needed, which is what a run keeps
(``engine.store.runs.item_factors``). Ids at the boundary are the dataset's own ids.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from engine.data.dataset import IdMap
from engine.errors import DataError


def _als_defaults() -> dict:
    from engine.recommend.registry import ALGORITHMS

    return dict(ALGORITHMS["als"].defaults)


def history_row(items: IdMap, history_item_ids: Iterable, history_weights: Iterable
                ) -> sp.csr_matrix:
    """The user's 1 x n_items row of the training matrix, with ``build_matrix``'s
    conventions: duplicate items summed, cells summing to 0 removed, items the run did
    not train on dropped. ``history_weights`` are the rows' weights after event weighting
    (``engine.recommend.matrix.row_weights``), as the pipeline built the matrix.
    ``items``: the run's item ids as an ``IdMap`` (position = factor row; a pd.Index or
    an id list is taken as one). Built here rather than by build_matrix, which would
    index the whole catalogue once more."""
    items = IdMap.of(items)
    hist = [str(i) for i in history_item_ids]
    weights = np.asarray(list(history_weights), dtype="float64")
    if len(weights) != len(hist):
        raise DataError(f"Got {len(hist)} history items but {len(weights)} weights; "
                        f"give one weight per history item.")
    pos = items.positions(hist, strict=False)
    keep = pos >= 0
    row = sp.coo_matrix((weights[keep].astype(np.float32),
                         (np.zeros(int(keep.sum()), dtype=np.int64), pos[keep])),
                        shape=(1, len(items)), dtype=np.float32).tocsr()
    row.sum_duplicates()
    row.eliminate_zeros()
    row.sort_indices()
    return row


def als_explain(item_factors: np.ndarray, item_ids, params: Mapping | None,
                history_item_ids: Iterable, history_weights: Iterable, rec_item_ids: Iterable,
                n: int | None = 3) -> dict[str, tuple[float, list[tuple[str, float]]]]:
    """For each recommended item: (its score under the re-solved user vector, the ``n``
    history items contributing most to it as ``(history_item_id, contribution)``, largest
    first). ``n=None`` lists every history item, and the contributions then sum to the score.

    item_factors: float [n_items, factors], row ``i`` belonging to ``item_ids[i]``;
    params: the run's ALS parameters (regularization, alpha; defaults for missing keys).
    Recommended items the run has no factors for are left out of the result.
    """
    factors = np.ascontiguousarray(item_factors, dtype=np.float32)
    ids = np.asarray(item_ids, dtype=object)
    if factors.ndim != 2 or factors.shape[0] != len(ids):
        raise DataError(f"ALS item factors of shape {factors.shape} do not match "
                        f"{len(ids)} item ids; expected one factor row per item id.")
    items = IdMap(ids, "item", " of the run's factors")  # one factor row per item id
    row = history_row(items, history_item_ids, history_weights)
    recs = list(dict.fromkeys(str(i) for i in rec_item_ids))
    pos = items.positions(recs, strict=False)
    known = [(rec, int(i)) for rec, i in zip(recs, pos) if i >= 0]
    top = row.nnz if n is None else int(n)
    explained = explain_row(factors, params, row, [i for _, i in known], n=top)
    return {rec: (score, [(str(ids[j]), c) for j, c in contrib])
            for (rec, _), (score, contrib) in zip(known, explained)}


def explain_row(item_factors: np.ndarray, params: Mapping | None, row: sp.csr_matrix,
                item_pos: Iterable[int], n: int = 3) -> list[tuple[float, list[tuple[int, float]]]]:
    """The one ALS explanation, on positions: for each item position in ``item_pos``,
    (its score under the user vector re-solved from ``row``, the ``n`` history positions
    contributing most as ``(history_item_position, contribution)``, largest first).

    ``row``: the user's 1 x n_items training row (see ``history_row``); ``params``: the
    run's ALS parameters (regularization, alpha; defaults for missing keys). The in-memory
    ``ALS.explain`` and the stored-run ``als_explain`` both call this.
    """
    from implicit.cpu.als import AlternatingLeastSquares  # heavy; only when explaining

    factors = np.ascontiguousarray(item_factors, dtype=np.float32)
    p = _als_defaults()
    p.update({k: v for k, v in dict(params or {}).items() if v is not None})
    out: list[tuple[float, list[tuple[int, float]]]] = []
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=factors.shape[1],
                                        regularization=float(p["regularization"]),
                                        alpha=float(p["alpha"]))
        model.item_factors = factors
        user_weights = None  # the user's Cholesky factor, computed once for all items
        for i in item_pos:
            score, contrib, user_weights = model.explain(0, row, int(i), user_weights=user_weights,
                                                         N=max(int(n), 1))
            out.append((float(score), [(int(j), float(c)) for j, c in contrib][:int(n)]))
    return out


def als_drivers(item_factors: np.ndarray, item_ids, params: Mapping | None,
                history_item_ids: Iterable, history_weights: Iterable, rec_item_ids: Iterable,
                n: int = 3) -> dict[str, list[tuple[str, float]]]:
    """{recommended item id: [(history item id, contribution), ...] largest first}: the
    ``n`` history items that drive each recommendation in the ALS model's own terms
    (see ``als_explain``). Items without any history contribution map to an empty list."""
    return {rec: contrib for rec, (_, contrib) in
            als_explain(item_factors, item_ids, params, history_item_ids, history_weights,
                        rec_item_ids, n=n).items()}
