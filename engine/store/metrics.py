"""Readers of the ``metrics`` (summary) and ``user_metrics`` (per-user) tables beyond the
single-run readers in ``engine.store.runs``: several runs at once, for the Runs and
Compare pages. Rows come back ordered by run, then user (or metric, k)."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from engine.store.core import Store
from engine.store.sql import SAMPLE, empty, ph, run_ids


def stored_user_metrics(store: Store, run_ids_: Iterable) -> pd.DataFrame:
    """Which per-user metrics the runs stored: DataFrame[metric, k, n_runs] (small table)."""
    ids = run_ids(run_ids_)
    if not ids:
        return empty({"metric": "object", "k": "int64", "n_runs": "int64"})
    return store.df(f"SELECT metric, k, count(DISTINCT run_id) AS n_runs FROM metrics "
                    f"WHERE run_id IN ({ph(ids)}) GROUP BY metric, k ORDER BY metric, k", ids)


def user_metric_values(store: Store, run_ids_: Iterable, user_id: str) -> pd.DataFrame:
    """One user's stored per-user metrics under each run: DataFrame[run_id, metric, k, value]."""
    ids = run_ids(run_ids_)
    if not ids:
        return empty({"run_id": "int64", "metric": "object", "k": "int64", "value": "float64"})
    return store.df(f"SELECT run_id, metric, k, value FROM user_metrics WHERE run_id IN ({ph(ids)}) "
                    f"AND user_id = ? ORDER BY run_id, metric, k", ids + [str(user_id)])


def metric_values(store: Store, run_id: int, metric: str, k: int,
                  sample: int | None = None) -> pd.DataFrame:
    """Per-user ``metric@k`` of one run: DataFrame[user_id, value]; with ``sample`` (a
    ``sql.sample_threshold``) only the users the hash sample keeps."""
    keep, extra = ("", []) if sample is None else (SAMPLE, [int(sample)])
    return store.df(f"SELECT user_id, value FROM user_metrics WHERE run_id = ? AND metric = ? "
                    f"AND k = ?{keep}", [int(run_id), str(metric), int(k)] + extra)


def user_values(store: Store, run_ids_: Iterable, metric: str, k: int) -> pd.DataFrame:
    """Per-user ``metric@k`` of the runs: DataFrame[run_id, user_id, value], by run then user."""
    ids = run_ids(run_ids_)
    if not ids:
        return empty({"run_id": "int64", "user_id": "object", "value": "float64"})
    return store.df(
        f"SELECT run_id, user_id, value FROM user_metrics WHERE run_id IN ({ph(ids)}) "
        f"AND metric = ? AND k = ? ORDER BY run_id, user_id", ids + [str(metric), int(k)])


def user_values_with_activity(store: Store, run_ids_: Iterable, metric: str, k: int) -> pd.DataFrame:
    """``user_values`` plus ``n_train``: the user's distinct items in its run's train split
    (0 when the run has no split or the user has no train rows): DataFrame[run_id, split_id,
    user_id, value, n_train]."""
    ids = run_ids(run_ids_)
    if not ids:
        return empty({"run_id": "int64", "split_id": "float64", "user_id": "object",
                      "value": "float64", "n_train": "int64"})
    sql = f"""
        WITH um AS (
            SELECT u.run_id, r.split_id, u.user_id, u.value
            FROM user_metrics u JOIN runs r USING (run_id)
            WHERE u.run_id IN ({ph(ids)}) AND u.metric = ? AND u.k = ?),
        tr AS (
            SELECT split_id, user_id, count(DISTINCT item_id) AS n_train FROM splits
            WHERE part = 'train' AND split_id IN (SELECT DISTINCT split_id FROM um)
            GROUP BY split_id, user_id)
        SELECT um.run_id, um.split_id, um.user_id, um.value, coalesce(tr.n_train, 0) AS n_train
        FROM um LEFT JOIN tr ON tr.split_id = um.split_id AND tr.user_id = um.user_id
        ORDER BY um.run_id, um.user_id"""
    return store.df(sql, ids + [str(metric), int(k)])


def metric_catalogue(store: Store, dataset: str) -> pd.DataFrame:
    """Which summary metrics the dataset's runs have: DataFrame[metric, k, n_runs]."""
    return store.df("SELECT m.metric, m.k, count(DISTINCT m.run_id) AS n_runs FROM metrics m "
                    "JOIN runs r USING (run_id) WHERE r.dataset = ? GROUP BY ALL "
                    "ORDER BY m.k, m.metric", [dataset])
