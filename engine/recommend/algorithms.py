"""The algorithms. Each class wraps library code where a library does the job:
implicit for the neighbourhood models (similarity matrices) and the factor models
(ALS, BPR, LMF, on CPU). Scoring is ours: factor models go through
``engine.recommend.topk`` (faster than implicit's recommend, see bench/bench_topk.py),
score-based models produce dense blocks that ``topk_dense`` selects from.

Fitting and scoring run under ``threadpool_limits(1, "blas")``: implicit parallelises
itself, and a multi-threaded BLAS inside its threads would oversubscribe the cores.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from engine.errors import DataError
from engine.recommend.base import BaseRecommender, exclude_self
from engine.recommend.explain import explain_row
from engine.recommend.topk import topk, topk_dense


# --------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------
class Popularity(BaseRecommender):
    """Most popular first: score = number of training users who interacted with the
    item (ties: lower item index first). The same list for everyone, minus seen items."""

    name = "popularity"

    def _fit(self, matrix, progress):
        self.counts = np.diff(matrix.tocsc().indptr).astype(np.float32)
        progress(f"fit {self.name}", 1, 1)

    def _scores(self, users, matrix):
        return np.broadcast_to(self.counts, (len(users), self.n_items)).copy()


class RandomRecommender(BaseRecommender):
    """Uniformly random lists, reproducible: user ``u`` always gets the same scores for
    a given ``seed`` (drawn from a generator seeded with (seed, u)), whatever the batch."""

    name = "random"

    def _fit(self, matrix, progress):
        progress(f"fit {self.name}", 1, 1)

    def _scores(self, users, matrix):
        out = np.empty((len(users), self.n_items), dtype=np.float32)
        for r, u in enumerate(users):
            out[r] = np.random.default_rng([self.seed, int(u)]).random(self.n_items,
                                                                        dtype=np.float32)
        return out


# --------------------------------------------------------------------------------------
# Item-item neighbourhoods (implicit computes the similarity matrix)
# --------------------------------------------------------------------------------------
class _ItemKNNBase(BaseRecommender):
    """score(u, i) = sum over the user's history j of weight(u, j) * sim(j, i), with
    sim the K-nearest-neighbour item-item similarity from implicit (the same scoring as
    implicit's own recommend, done here in batches instead of one user at a time)."""

    def _model(self):  # pragma: no cover
        raise NotImplementedError

    def _fit(self, matrix, progress):
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit converts its own normalised matrix to CSR and warns about it
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            model = self._model()
            model.fit(matrix, show_progress=False)
        self.similarity = sp.csr_matrix(model.similarity, dtype=np.float32)
        progress(f"fit {self.name}", 1, 1)

    def _scores(self, users, matrix):
        block = (matrix[users] @ self.similarity).toarray()
        # an item no history item reaches is not a candidate (as in implicit): the list
        # is then shorter than k and padded, rather than filled with arbitrary zeros
        block[block == 0] = -np.inf
        return block

    def similar_items(self, item_idx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` most similar items to each query item (itself excluded)."""
        items = self._check_items(item_idx)
        block = self.similarity[items].toarray()
        block[block == 0] = -np.inf  # not among the K neighbours: not similar
        return topk_dense(block, int(n), exclude_self(items, self.n_items))


class ItemKNN(_ItemKNNBase):
    """Item-item cosine kNN (implicit.nearest_neighbours.CosineRecommender).
    K: neighbours kept per item (default 100)."""

    name = "itemknn"

    def _model(self):
        from implicit.nearest_neighbours import CosineRecommender
        return CosineRecommender(K=int(self.params["K"]))


class BM25KNN(_ItemKNNBase):
    """Item-item kNN on BM25-weighted interactions (implicit BM25Recommender).
    K: neighbours per item (100); K1 (1.2), B (0.75): the BM25 saturation and length
    normalisation."""

    name = "bm25"

    def _model(self):
        from implicit.nearest_neighbours import BM25Recommender
        return BM25Recommender(K=int(self.params["K"]), K1=float(self.params["K1"]),
                               B=float(self.params["B"]))


# --------------------------------------------------------------------------------------
# Factor models (implicit, CPU)
# --------------------------------------------------------------------------------------
class _FactorBase(BaseRecommender):
    """score(u, i) = user_factors[u] . item_factors[i]; recommend uses our ``topk``."""

    #: Called as ``on_epoch(epochs_done, implicit_model)`` after each epoch when set (the
    #: tuner reads the factors so far to report intermediate values; it may raise to stop).
    on_epoch = None

    def _model(self):  # pragma: no cover
        raise NotImplementedError

    def _fit(self, matrix, progress):
        total = int(self.params.get("iterations", 0))
        stage = f"fit {self.name}"
        progress(stage, 0, total)

        last: list = []

        def callback(epoch, *rest):
            last[:] = [epoch, *rest]
            progress(stage, min(int(epoch) + 1, total), total)
            if self.on_epoch is not None:  # the tuner scores the model on the way
                self.on_epoch(int(epoch) + 1, model)

        with threadpool_limits(1, "blas"):
            model = self._model()  # implicit checks the BLAS threads when constructed
            model.fit(matrix, show_progress=False, callback=callback)
        self.model = model
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        if not (np.isfinite(self.user_factors).all() and np.isfinite(self.item_factors).all()):
            raise DataError(f"The {self.name} model diverged (non-finite factors); lower its "
                            f"learning_rate or raise its regularization.")
        self.fit_info = self._fit_info(matrix, last)
        progress(stage, total, total)

    def _fit_info(self, matrix, last: list) -> dict:
        """What the fit said about itself, from implicit's last callback arguments
        (``engine.evaluate.health`` reads it); nothing by default."""
        return {}

    def batch_size(self, n_columns, cap):
        return int(cap)  # topk chunks the items itself

    def recommend(self, user_idx, matrix, k, exclude_seen=True):
        users, matrix, k = self._check_call(user_idx, matrix, k)
        if len(users) and users.max() >= self.user_factors.shape[0]:
            raise DataError(f"The {self.name} model has factors for {self.user_factors.shape[0]} "
                            f"users; user index {int(users.max())} is not one of them.")
        ex = matrix[users] if exclude_seen else None
        return topk(self.user_factors[users], self.item_factors, k, ex)

    def similar_items(self, item_idx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items whose factors have the highest cosine with each query item's
        (itself excluded), as implicit's similar_items computes it."""
        items = self._check_items(item_idx)
        norms = np.linalg.norm(self.item_factors, axis=1)
        normed = self.item_factors / np.where(norms > 0, norms, 1e-10)[:, None]
        return topk(normed[items], normed, int(n), exclude_self(items, self.n_items))


class ALS(_FactorBase):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008), implicit's CPU solver.
    factors 64, regularization 0.05, alpha 1.0 (confidence = 1 + alpha * weight),
    iterations 15, random_state = seed."""

    name = "als"

    def _model(self):
        from implicit.cpu.als import AlternatingLeastSquares
        p = self.params
        return AlternatingLeastSquares(factors=int(p["factors"]),
                                       regularization=float(p["regularization"]),
                                       alpha=float(p["alpha"]), iterations=int(p["iterations"]),
                                       random_state=self.seed)

    def explain(self, user_idx: int, matrix: sp.csr_matrix, item_idx: np.ndarray,
                n: int = 3) -> list[list[tuple[int, float]]]:
        """For each item in ``item_idx``: the ``n`` items of the user's history (row
        ``user_idx`` of the training ``matrix``) that contribute most to its score, as
        ``(history_item_index, contribution)`` best first: ``engine.recommend.explain``'s
        one ALS explanation, on this model's item factors."""
        users, matrix, _ = self._check_call([user_idx], matrix, 1)
        items = self._check_items(item_idx)
        explained = explain_row(self.item_factors, self.params, matrix[int(users[0])], items,
                                n=int(n))
        return [contrib for _, contrib in explained]


class BPR(_FactorBase):
    """Bayesian Personalised Ranking (Rendle et al. 2009), implicit's CPU SGD.
    Treats every stored interaction as a positive. factors 64, learning_rate 0.01,
    regularization 0.01, iterations 100, random_state = seed, one thread (so that the
    same seed gives the same factors)."""

    name = "bpr"

    def _model(self):
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        p = self.params
        return BayesianPersonalizedRanking(factors=int(p["factors"]),
                                           learning_rate=float(p["learning_rate"]),
                                           regularization=float(p["regularization"]),
                                           iterations=int(p["iterations"]),
                                           random_state=self.seed,
                                           # one SGD thread: implicit's multi-threaded BPR
                                           # updates shared factors without locks
                                           # (Hogwild), so two fits with the same seed
                                           # differed (max factor gap ~0.01 on ml-100k) and
                                           # a paired test then measured that noise. One
                                           # thread makes a seed a seed; on 2 cores it cost
                                           # no time on ml-100k (0.87 s vs 1.01 s, load 8).
                                           num_threads=1)

    def _fit_info(self, matrix, last: list) -> dict:
        # implicit's BPR calls back (epoch, seconds, correct, skipped) per epoch: correct
        # of the sampled (user, positive, negative) triples that the model already ordered
        # right, out of one sample per stored interaction minus the skipped ones; its
        # progress bar shows the same share as "train_auc"
        if len(last) < 4:
            return {}
        correct, skipped = float(last[2]), float(last[3])
        total = float(matrix.nnz) - skipped
        return {"train_auc": correct / total} if total > 0 else {}


class LMF(_FactorBase):
    """Logistic Matrix Factorisation (Johnson 2014), implicit's CPU SGD.
    factors 30, learning_rate 1.0, regularization 0.6, iterations 30, neg_prop 30
    (negative samples per positive), random_state = seed."""

    name = "lmf"

    def _model(self):
        from implicit.cpu.lmf import LogisticMatrixFactorization
        p = self.params
        return LogisticMatrixFactorization(factors=int(p["factors"]),
                                           learning_rate=float(p["learning_rate"]),
                                           regularization=float(p["regularization"]),
                                           iterations=int(p["iterations"]),
                                           neg_prop=int(p["neg_prop"]),
                                           random_state=self.seed)


# --------------------------------------------------------------------------------------
# EASE^R (Steck 2019): closed form, written with numpy because no maintained library
# offers it on CPU with sparse input; it is three lines of linear algebra.
# --------------------------------------------------------------------------------------
class EASE(BaseRecommender):
    """Embarrassingly Shallow Autoencoder: B = I - P / diag(P) with
    P = (X'X + regularization * I)^-1, so diag(B) = 0; score(u) = x_u B.
    regularization (lambda) 500; refuses catalogues above max_items (20,000) because
    it holds dense items x items matrices (float64 up to 5,000 items, float32 above)."""

    name = "ease"

    def _fit(self, matrix, progress):
        n = matrix.shape[1]
        max_items = int(self.params["max_items"])
        if n > max_items:
            raise DataError(f"EASE needs a dense {n:,} x {n:,} item matrix, more than its "
                            f"max_items={max_items:,}; choose another algorithm or raise "
                            f"max_items if the machine has the memory.")
        progress(f"fit {self.name}", 0, 1)
        dtype = np.float64 if n <= 5000 else np.float32
        with threadpool_limits(1, "blas"):
            G = (matrix.T @ matrix).toarray().astype(dtype)
            G[np.diag_indices(n)] += float(self.params["regularization"])
            P = np.linalg.inv(G)
            del G
            B = P / (-np.diag(P))[None, :]
            B[np.diag_indices(n)] = 0.0
        self.B = B.astype(np.float32)
        progress(f"fit {self.name}", 1, 1)

    def _scores(self, users, matrix):
        with threadpool_limits(1, "blas"):
            return np.asarray(matrix[users] @ self.B, dtype=np.float32)

    def similar_items(self, item_idx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Items that item i pushes up most: the largest weights in row i of B."""
        items = self._check_items(item_idx)
        return topk_dense(self.B[items].copy(), int(n), exclude_self(items, self.n_items))
