"""The Recommender protocol and the shared plumbing of the algorithms.

Everything here works on integer positions (rows/columns of the matrix from
``engine.recommend.matrix.build_matrix``); the pipeline maps them to text ids.

Contract of ``recommend(user_idx, matrix, k, exclude_seen=True)``:
    ``user_idx``: int array of matrix rows to score; ``matrix``: the users x items CSR
    matrix the model was fitted on (its rows are the users' histories). Returns
    ``(items int64 [n, k], scores float32 [n, k])``, best first, ties by lower item
    index; a user with fewer than ``k`` candidates gets item ``-1`` / score ``-inf`` in
    the tail, which callers drop. With ``exclude_seen`` the items stored in the user's
    row of ``matrix`` are never returned.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from engine.errors import DataError
from engine.progress import ProgressFn, null_progress
from engine.recommend.topk import topk_dense


@runtime_checkable
class Recommender(Protocol):
    name: str
    params: dict

    def fit(self, matrix: sp.csr_matrix, progress: ProgressFn | None = None) -> "Recommender": ...

    def recommend(self, user_idx: np.ndarray, matrix: sp.csr_matrix, k: int,
                  exclude_seen: bool = True) -> tuple[np.ndarray, np.ndarray]: ...


class BaseRecommender:
    """Common checks and the one ``recommend`` (as in implicit: written once here, each
    model adds its fit). Subclasses set ``name`` and implement ``_fit`` and ``_scores`` (a
    dense float32 block [len(users), n_items]); factor models override ``recommend`` only
    to use ``topk`` on their factors. What a model can do (similar items, explanations,
    ...) is declared in its registry entry (``engine.recommend.registry``), which ``make``
    attaches as ``spec``."""

    name: str = ""
    #: the registry entry (``engine.recommend.registry.AlgoSpec``), set by ``make``
    spec = None
    #: score cells per dense block in the default ``recommend`` (~16 MB of float32)
    block_cells: int = 4 * 1024 * 1024

    def __init__(self, seed: int = 0, **params):
        self.seed = int(seed)
        self.params = dict(params)
        self.n_users: int | None = None
        self.n_items: int | None = None
        #: what the fit reported about itself (e.g. BPR's ``train_auc``), for health checks
        self.fit_info: dict = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params})"

    @property
    def supports_similar(self) -> bool:
        """The registry says the model answers ``similar_items``."""
        return bool(self.spec is not None and self.spec.similar_items)

    @property
    def supports_explain(self) -> bool:
        """The registry says runs of the model can explain their lists."""
        return bool(self.spec is not None and self.spec.explains)

    # -- fit ---------------------------------------------------------------------------
    def fit(self, matrix: sp.csr_matrix, progress: ProgressFn | None = None):
        matrix = check_matrix(matrix, f"{self.name} fit")
        self.n_users, self.n_items = matrix.shape
        self._fit(matrix, progress or null_progress)
        return self

    def _fit(self, matrix: sp.csr_matrix, progress: ProgressFn) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- recommend ---------------------------------------------------------------------
    def recommend(self, user_idx: np.ndarray, matrix: sp.csr_matrix, k: int,
                  exclude_seen: bool = True) -> tuple[np.ndarray, np.ndarray]:
        users, matrix, k = self._check_call(user_idx, matrix, k)
        items = np.full((len(users), k), -1, dtype=np.int64)
        scores = np.full((len(users), k), -np.inf, dtype=np.float32)
        batch_size = BaseRecommender.batch_size(self, self.n_items, 4096)
        for start in range(0, len(users), batch_size):
            batch = users[start:start + batch_size]
            block = self._scores(batch, matrix)
            ex = matrix[batch] if exclude_seen else None
            items[start:start + len(batch)], scores[start:start + len(batch)] = \
                topk_dense(block, k, ex)
        return items, scores

    def batch_size(self, n_columns: int, cap: int) -> int:
        """Query rows per call that keep one dense score block near ``block_cells``
        (at most ``cap``); factor models, which chunk inside ``topk``, return ``cap``."""
        return max(16, min(int(cap), self.block_cells // max(1, int(n_columns))))

    def _scores(self, users: np.ndarray, matrix: sp.csr_matrix) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _check_call(self, user_idx, matrix, k):
        if self.n_items is None:
            raise DataError(f"The {self.name} recommender must be fitted before it recommends.")
        matrix = check_matrix(matrix, f"{self.name} recommend")
        if matrix.shape[1] != self.n_items:
            raise DataError(f"The {self.name} recommender was fitted on {self.n_items} items but "
                            f"got a matrix with {matrix.shape[1]} item columns.")
        users = check_indices(user_idx, matrix.shape[0], "user")
        k = int(k)
        if k < 1:
            raise DataError(f"The list length k must be at least 1; got {k}.")
        return users, matrix, k

    def _check_items(self, item_idx) -> np.ndarray:
        if self.n_items is None:
            raise DataError(f"The {self.name} recommender must be fitted first.")
        return check_indices(item_idx, self.n_items, "item")


def check_matrix(matrix, what: str) -> sp.csr_matrix:
    if not sp.issparse(matrix):
        raise DataError(f"{what} needs a scipy.sparse users x items matrix; got "
                        f"{type(matrix).__name__}.")
    if not sp.isspmatrix_csr(matrix) or matrix.dtype != np.float32:
        matrix = sp.csr_matrix(matrix, dtype=np.float32)
    return matrix


def check_indices(idx, n: int, what: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(idx))
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"{what} indices must be integers; got dtype {arr.dtype}.")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        bad = int(arr[(arr < 0) | (arr >= n)][0])
        raise DataError(f"The {what} index {bad} is outside 0..{n - 1}.")
    return arr


def exclude_self(item_idx: np.ndarray, n_items: int) -> sp.csr_matrix:
    """A [len(item_idx), n_items] CSR matrix marking each query item itself."""
    m = len(item_idx)
    return sp.csr_matrix((np.ones(m, dtype=np.float32), item_idx, np.arange(m + 1)),
                         shape=(m, n_items))
