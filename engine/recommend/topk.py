"""Batch top-K scoring for factor models: ``scores = U @ V.T``, best K items per user.

Written by hand because the library versions do not fit: implicit's own ``topk`` is
tied to its models (and measured slower here, see ``bench/bench_topk.py``), and
numpy/scipy have no "top K of each row of a product that never fits in memory".

How it works, per chunk of users (chunks run on a thread pool; numpy releases the GIL
and BLAS is limited to one thread per worker, so the workers do not fight):

1. ``S = U[chunk] @ V.T`` in float32 (one sgemm).
2. Items in ``exclude`` (e.g. the user's training items) are set to ``-inf``.
3. A *lower bound* ``t`` on each row's K-th best score is found cheaply: the columns are
   dealt into B >= K interleaved blocks, each block's maximum is taken (one vectorised
   pass), and ``t`` is the K-th largest of those B maxima. The K block maxima above it
   are K distinct items scoring >= t, so every true top-K item scores >= t.
4. Only the few candidates with ``S >= t`` (and ``> -inf``) are pulled out and sorted.

This replaces a per-row ``np.argpartition`` over the whole catalogue (which builds an
index array for every row) by two cheap vectorised passes plus a sort of ~K values.

Ties: the result is exact and deterministic. Items are ordered by score descending,
then by item index ascending; at the K boundary the lower item index wins. Excluded
items never appear. When a user has fewer than K selectable items (K larger than the
catalogue, or most items excluded), the row is padded with item ``-1`` and score
``-inf``; callers drop those.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from engine.errors import DataError

#: Target size of one chunk's score block, in float32 cells (~16 MB): large enough that
#: the per-chunk Python overhead is small, small enough to stay near the CPU caches.
_CHUNK_CELLS = 4 * 1024 * 1024  # 100k x 20k bench: 2M cells 2.11 s, 4M 2.02 s, 8M 2.32 s


def default_threads() -> int:
    """This process's usable cores, or ``$RECSCOPE_THREADS`` when set (the Ray backend
    sets it in a worker to the CPUs Ray gave the task, so that two one-CPU workers on a
    node do not each start a thread per core)."""
    cap = os.environ.get("RECSCOPE_THREADS", "")
    if cap.isdigit() and int(cap) > 0:
        return int(cap)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def topk(user_factors: np.ndarray, item_factors: np.ndarray, k: int,
         exclude: sp.csr_matrix | None = None, *, n_threads: int | None = None,
         chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` items of ``user_factors @ item_factors.T`` for every user row.

    Args:
        user_factors: float array [n_users, f] (one row per user to score).
        item_factors: float array [n_items, f].
        k: list length (>= 0). May exceed n_items; the tail is then padding.
        exclude: optional scipy.sparse matrix [n_users, n_items] whose stored entries
            (any value, even 0) are items never to return for that row.
        n_threads: worker threads (default: the CPUs this process may use).
        chunk_size: users per chunk (default: about 4M score cells per chunk).

    Returns:
        ``(items, scores)``: int64 [n_users, k] and float32 [n_users, k], best first,
        ties broken by lower item index, padded with -1 / -inf.
    """
    U = np.ascontiguousarray(user_factors, dtype=np.float32)
    V = np.ascontiguousarray(item_factors, dtype=np.float32)
    if U.ndim != 2 or V.ndim != 2 or U.shape[1] != V.shape[1]:
        raise DataError(f"topk needs user factors [n_users, f] and item factors [n_items, f] "
                        f"with the same f; got {U.shape} and {V.shape}.")
    k = int(k)
    if k < 0:
        raise DataError(f"topk needs k >= 0; got k={k}.")
    if not (np.isfinite(U).all() and np.isfinite(V).all()):
        raise DataError("topk got non-finite (NaN or infinite) factors; the model did not "
                        "train properly.")
    n_users, n_items = U.shape[0], V.shape[0]
    if exclude is not None:
        if exclude.shape != (n_users, n_items):
            raise DataError(f"topk's exclude matrix must be {n_users} x {n_items} "
                            f"(users x items); got {exclude.shape[0]} x {exclude.shape[1]}.")
        exclude = sp.csr_matrix(exclude) if not sp.isspmatrix_csr(exclude) else exclude

    items = np.full((n_users, k), -1, dtype=np.int64)
    scores = np.full((n_users, k), -np.inf, dtype=np.float32)
    if n_users == 0 or n_items == 0 or k == 0:
        return items, scores

    if chunk_size is None:
        chunk_size = int(min(4096, max(16, _CHUNK_CELLS // n_items)))
    chunk_size = max(1, int(chunk_size))
    n_threads = default_threads() if n_threads is None else max(1, int(n_threads))
    VT = V.T  # a transposed view: BLAS reads it without a copy

    def work(start: int) -> None:
        stop = min(start + chunk_size, n_users)
        S = U[start:stop] @ VT
        if exclude is not None:
            _apply_exclusions(S, exclude, start, stop)
        _select_into(S, k, items[start:stop], scores[start:stop])

    starts = range(0, n_users, chunk_size)
    with threadpool_limits(1, "blas"):
        if n_threads == 1 or len(starts) == 1:
            for s in starts:
                work(s)
        else:
            with ThreadPoolExecutor(max_workers=n_threads) as pool:
                for _ in pool.map(work, starts):
                    pass
    return items, scores


def _apply_exclusions(S: np.ndarray, exclude: sp.csr_matrix, start: int, stop: int) -> None:
    ip = exclude.indptr[start:stop + 1]
    if ip[-1] == ip[0]:
        return
    cols = exclude.indices[ip[0]:ip[-1]]
    rows = np.repeat(np.arange(stop - start), np.diff(ip))
    S[rows, cols] = -np.inf


def _row_threshold(S: np.ndarray, kk: int) -> np.ndarray:
    """A lower bound on each row's kk-th largest value (see the module docstring)."""
    c, n = S.shape
    n_blocks = max(8 * kk, 64)
    block_len = n // n_blocks
    if block_len < 2:
        # Small catalogue: the exact kk-th largest value.
        return np.sort(S, axis=1)[:, n - kk]
    # Interleaved blocks: block j holds columns j, j + B, j + 2B, ... of the first B*L
    # (splitting the row axis is a view, no copy; the last n - B*L columns are simply
    # not used for the bound). Reducing over the middle axis keeps the inner loop
    # contiguous (SIMD-friendly).
    maxima = S[:, :n_blocks * block_len].reshape(c, block_len, n_blocks).max(axis=1)
    # sorting B small values is faster than np.partition here
    return np.sort(maxima, axis=1)[:, n_blocks - kk]


def _select_into(S: np.ndarray, k: int, out_items: np.ndarray, out_scores: np.ndarray) -> None:
    c, n = S.shape
    kk = min(k, n)
    t = _row_threshold(S, kk)
    flat = np.flatnonzero(S >= t[:, None])  # 1-D nonzero is ~10x faster than 2-D here
    vals = S.ravel()[flat]
    if np.isneginf(t).any():  # rows with many exclusions: drop the excluded (-inf) cells
        keep = vals > -np.inf
        flat, vals = flat[keep], vals[keep]
    rows, cols = np.divmod(flat, n)
    # flat is sorted by row then item; a stable sort on -score keeps that within ties,
    # then a stable sort on row regroups: order = row, score desc, item asc
    order = np.argsort(-vals, kind="stable")
    order = order[np.argsort(rows[order], kind="stable")]
    rows, cols, vals = rows[order], cols[order], vals[order]
    counts = np.bincount(rows, minlength=c)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.arange(rows.size) - first[rows]
    take = pos < kk
    out_items[rows[take], pos[take]] = cols[take]
    out_scores[rows[take], pos[take]] = vals[take]


def topk_dense(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` of each row of an already computed score block [n_rows, n_items].

    Same contract as ``topk`` (ties by lower item index, padding -1 / -inf); ``exclude``
    is a CSR matrix of the same shape. ``scores`` is converted to float32 and may be
    modified in place. Scores of ``-inf`` (or NaN) are treated as not selectable.
    For score-based models (popularity, kNN, EASE) that produce a dense block per batch.
    """
    S = np.asarray(scores, dtype=np.float32)
    if S.ndim != 2:
        raise DataError(f"topk_dense needs a 2-D score block; got shape {S.shape}.")
    k = int(k)
    if k < 0:
        raise DataError(f"topk_dense needs k >= 0; got k={k}.")
    c, n = S.shape
    items = np.full((c, k), -1, dtype=np.int64)
    out = np.full((c, k), -np.inf, dtype=np.float32)
    if c == 0 or n == 0 or k == 0:
        return items, out
    if np.isnan(S).any():
        S = np.where(np.isnan(S), np.float32(-np.inf), S)
    if exclude is not None:
        if exclude.shape != S.shape:
            raise DataError(f"topk_dense's exclude matrix must be {c} x {n}; got "
                            f"{exclude.shape[0]} x {exclude.shape[1]}.")
        exclude = sp.csr_matrix(exclude) if not sp.isspmatrix_csr(exclude) else exclude
        _apply_exclusions(S, exclude, 0, c)
    _select_into(S, k, items, out)
    return items, out
