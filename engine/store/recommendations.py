"""Readers of the ``recommendations`` table beyond ``engine.store.runs.recommendations``:
one user's lists under several runs, whole top-K lists of a run, exposure counts.

Speed on big stores: ``recommendations`` is written sorted by (run_id, user_id, rank), so
every per-user query filters on those columns with constants (``run_id IN (...) AND
user_id = ?``): DuckDB's zonemaps then skip all row groups but the user's few. Item
metadata is fetched afterwards for the handful of item ids shown (``items_meta``) rather
than by a join. The all-user readers (``top_lists``, ``exposure_counts``) scan whole runs.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd

from engine.store.core import Store
from engine.store.items import with_item_meta
from engine.store.sql import SAMPLE, empty, ph, run_ids, text_ids

def n_listed_users(store: Store, run_id: int) -> int:
    """How many users run ``run_id`` lists (rows at rank 1)."""
    return int(store.scalar("SELECT count(*) FROM recommendations WHERE run_id = ? AND rank = 1",
                            [int(run_id)]))


def user_lists(store: Store, dataset: str, run_ids_: Iterable, user_id: str, k: int) -> pd.DataFrame:
    """The top-``k`` of each run for one user with item metadata.

    DataFrame[run_id, rank, item_id, score, title, category, attrs] sorted by run, rank.
    """
    ids = run_ids(run_ids_)
    if not ids:
        return empty({"run_id": "int64", "rank": "int64", "item_id": "object", "score": "float64",
                      "title": "object", "category": "object", "attrs": "object"})
    with store.session() as s:
        df = s.df(
            f"SELECT run_id, CAST(rank AS INTEGER) AS rank, item_id, score FROM recommendations "
            f"WHERE run_id IN ({ph(ids)}) AND user_id = ? AND rank <= ? ORDER BY run_id, rank",
            ids + [str(user_id), int(k)])
        df = with_item_meta(s, dataset, df)
    return df.sort_values(["run_id", "rank"]).reset_index(drop=True)


def top_lists(store: Store, run_id: int, k: int, sample: int | None = None) -> pd.DataFrame:
    """Every user's top-``k`` of a run: DataFrame[user_id, rank, item_id]; with ``sample``
    (a ``sql.sample_threshold``) only the users the hash sample keeps."""
    keep, extra = ("", []) if sample is None else (SAMPLE, [int(sample)])
    return store.df(f"SELECT user_id, CAST(rank AS INTEGER) AS rank, item_id FROM recommendations "
                    f"WHERE run_id = ? AND rank <= ?{keep}", [int(run_id), int(k)] + extra)


def exposure_counts(store: Store, run_ids_: Iterable, k: int) -> tuple[pd.DataFrame, dict[int, int]]:
    """How many users get each item in each run's top-``k``: (DataFrame[run_id, item_id,
    n], {run_id: users with a list}). One GROUP BY over the runs' rows."""
    ids = run_ids(run_ids_)
    if not ids:
        return empty({"run_id": "int64", "item_id": "object", "n": "int64"}), {}
    with store.session() as s:
        long = s.df(f"SELECT run_id, item_id, count(*) AS n FROM recommendations "
                    f"WHERE run_id IN ({ph(ids)}) AND rank <= ? GROUP BY run_id, item_id",
                    ids + [int(k)])
        users = s.df(f"SELECT run_id, count(*) AS n FROM recommendations "
                     f"WHERE run_id IN ({ph(ids)}) AND rank = 1 GROUP BY run_id", ids)
    return long, {int(r): int(n) for r, n in zip(users["run_id"], users["n"])}


def random_user(store: Store, run_ids_: Iterable, split_id: int | None, seed: int = 0,
                prefer_hits: bool = True, k: int | None = None,
                hit_metrics: Sequence[str] | None = None) -> str | None:
    """A user to look at ("surprise me"); None when no run lists anyone.

    Preference order: a user for whom at least one run has a hit (a positive per-user
    value of one of ``hit_metrics`` at a K <= ``k`` when given, so the hit shows in a
    top-``k`` view; when ``prefer_hits``); else a user with held-out items in
    ``split_id`` and a list in the first run; else any user of the first run.
    Deterministic per seed: users are ordered by a hash of (user_id, seed).
    ``hit_metrics``: the names from ``engine.evaluate.metrics.HIT_METRICS`` (the caller
    passes them: the store knows no metric); None = any per-user metric, all of which
    are hit metrics today.
    """
    ids = run_ids(run_ids_)
    if not ids:
        return None
    with store.connect() as con:
        if prefer_hits:
            at_k = "" if k is None else " AND k <= ?"
            names = [] if hit_metrics is None else [str(m) for m in hit_metrics]
            among = f" AND metric IN ({ph(names)})" if names else ""
            row = con.execute(
                f"SELECT user_id FROM user_metrics WHERE run_id IN ({ph(ids)})"
                f"{among} AND value > 0{at_k} ORDER BY hash(user_id, ?) LIMIT 1",
                ids + names + ([] if k is None else [int(k)]) + [int(seed)]).fetchone()
            if row is not None:
                return str(row[0])
        if split_id is not None:
            cands = con.execute(
                "SELECT user_id FROM splits WHERE split_id = ? AND part = 'test' GROUP BY user_id "
                "ORDER BY hash(user_id, ?) LIMIT 50", [int(split_id), int(seed)]).df()["user_id"]
            cands = text_ids(cands)
            if cands:
                have = con.execute(
                    f"SELECT DISTINCT user_id FROM recommendations WHERE run_id = ? AND rank = 1 "
                    f"AND user_id IN ({ph(cands)})", [ids[0]] + cands).df()["user_id"]
                have = set(text_ids(have))
                for u in cands:
                    if u in have:
                        return u
        row = con.execute("SELECT user_id FROM recommendations WHERE run_id = ? AND rank = 1 "
                          "ORDER BY hash(user_id, ?) LIMIT 1", [ids[0], int(seed)]).fetchone()
    return None if row is None else str(row[0])
