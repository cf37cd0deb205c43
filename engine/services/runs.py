"""The Runs page's reads beyond single-run readers: store readers combined with the
slice and test arithmetic of ``engine.evaluate.slices``. The viewer calls this module
only; it re-exports the plain readers the page uses, so one name space serves it.

- ``user_values`` / ``user_value_summary``: one per-user metric of several runs.
- ``metrics_by_slice``: mean per-user metric per (run, slice).
- ``popularity_deciles`` / ``test_popularity_deciles``: where top-K slots, hits and
  held-out items fall among the catalogue's popularity deciles.
- ``paired_tests``: every pair of runs tested on one per-user metric (Holm-corrected).
- ``split_requests``, ``metric_catalogue``: what was asked for and what was stored.
"""

from __future__ import annotations

from typing import Iterable

from engine.evaluate import slices as S
from engine.store.core import Store
from engine.store.metrics import (  # noqa: F401  (re-exported for the viewer)
    metric_catalogue, user_values, user_values_with_activity)
from engine.store.runs import run_splits
from engine.store.splits import (  # noqa: F401
    N_DECILES, popularity_deciles, split_requests, test_popularity_deciles)
from engine.store.sql import run_ids


def user_value_summary(store: Store, run_ids_: Iterable, metric: str, k: int):
    """``engine.evaluate.slices.distribution_summary`` of ``user_values`` (one row per run)."""
    return S.distribution_summary(user_values(store, run_ids_, metric, k))


def metrics_by_slice(store: Store, run_ids_: Iterable, metric: str, k: int, by: str = "activity",
                     n_buckets: int = S.ACTIVITY_BUCKETS, cold_max: int = S.COLD_MAX):
    """Mean per-user ``metric@k`` per (run, slice) with a 95% t interval.

    by = 'activity' (quantile buckets of distinct train items, see engine.evaluate.slices)
    or 'coldwarm' (at most ``cold_max`` train items = cold). Returns DataFrame[run_id,
    slice, n_users, mean, ci_low, ci_high]; ``slice`` is ordered from least to most active.
    Bucket edges are computed once over all users of the runs, so every run is cut alike.
    """
    if by not in ("activity", "coldwarm"):
        raise ValueError(f"by must be 'activity' or 'coldwarm', not {by!r}")
    values = user_values_with_activity(store, run_ids_, metric, k)
    return S.slice_summary(S.label_slices(values, by, n_buckets, cold_max))


def paired_tests(store: Store, run_ids_: Iterable, metric: str, k: int, n_boot: int = 2000,
                 seed: int = 0):
    """Every pair of the runs (in the order given) tested on per-user ``metric@k``
    (``engine.evaluate.slices.tests_on_same_split``: pairs on different splits are left
    out and listed in the result's ``skipped`` attribute)."""
    ids = run_ids(run_ids_)
    with store.session() as s:
        values = user_values(s, ids, metric, k)
        runs = run_splits(s, ids)
    splits = dict(zip(runs["run_id"].astype(int), runs["split_id"]))
    return S.tests_on_same_split(values, splits, ids, n_boot=n_boot, seed=seed)
