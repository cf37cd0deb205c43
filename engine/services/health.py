"""A run's health warnings at training: the inputs gathered, the pure rules of
``engine.evaluate.health`` applied, the result handed to ``finish_run`` (stored in
``run_warnings``).

The popularity baseline of the ``worse_than_popularity`` rule is the per-user nDCG@10 of
the newest finished popularity run on the same split when there is one (what the Runs
page pairs the run with), else popularity computed in-process on the split (the same
model, not stored). Within one ``train_runs`` call the in-process baseline is computed
once per split and reused.

Runs finished before warnings existed are not re-checked: they show no warnings.
"""

from __future__ import annotations

import pandas as pd

from engine.evaluate import health as H
from engine.store import runs as store_runs
from engine.store.core import Store


def popularity_baseline(store: Store, split_id: int, train: pd.DataFrame, test: pd.DataFrame,
                        cache: dict | None = None) -> pd.Series:
    """Popularity's per-user nDCG@10 on split ``split_id`` (see the module docstring);
    ``cache``, when given, keeps the in-process one for the next run on the split."""
    rid = store_runs.done_run_id(store, split_id, "popularity")
    if rid is not None:
        s = store_runs.user_metric_series(store, rid, "ndcg", H.HEALTH_K)
        if len(s):
            return s
    key = ("popularity_ndcg", int(split_id))
    if cache is not None and key in cache:
        return cache[key]
    s = H.popularity_user_metric(train, test, H.HEALTH_K)
    if cache is not None:
        cache[key] = s
    return s


def check(store: Store, *, split_id: int, train: pd.DataFrame, test: pd.DataFrame,
          algorithm: str, recs: pd.DataFrame, per_user: pd.DataFrame, n_items: int,
          n_test_users: int, fit_info: dict | None = None,
          cache: dict | None = None) -> list[dict]:
    """The health warnings of one run about to be stored (``engine.evaluate.health``).

    A check that itself fails must not fail a run that trained: it becomes one warning
    (``unchecked``) that names the error, so it is seen rather than swallowed."""
    try:
        baseline = None
        if algorithm not in H.BASELINES:
            baseline = popularity_baseline(store, split_id, train, test, cache)
        return H.check_run(algorithm, recs, per_user, n_items=n_items,
                           n_test_users=n_test_users, baseline=baseline, fit_info=fit_info)
    except Exception as exc:  # noqa: BLE001 - reported as a warning, see above
        first = (str(exc).strip().splitlines() or [""])[0]
        return [H.warning("unchecked", f"The health checks could not run ({type(exc).__name__}: "
                                       f"{first}); the run's numbers are unchecked, so report "
                                       f"this error.", None)]
