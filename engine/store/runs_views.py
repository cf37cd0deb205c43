"""SQL for the Runs page beyond the run readers in ``engine/store/runs.py``.

- ``user_values``: one per-user metric of several runs (for distributions and tests).
- ``user_values_with_activity``: the same with each user's number of distinct train
  items in the run's split (for activity and cold/warm slices).
- ``metrics_by_slice``: mean per-user metric per (run, slice); the slicing arithmetic is
  in ``engine.evaluate.slices``.
- ``popularity_deciles``: where each run's top-K slots and hits fall among the catalogue's
  popularity deciles; ``test_popularity_deciles`` the same for the held-out items.
- ``paired_tests``: every pair of runs tested on one per-user metric (Holm-corrected).
- ``split_requests``: how each split of a dataset was asked for (to train more runs on it).
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

import pandas as pd

from engine.evaluate import slices as S
from engine.store.core import Store

#: Catalogue popularity deciles (1 = least popular tenth of the items, 10 = most popular).
N_DECILES = 10


def _ph(values: Sequence) -> str:
    return ", ".join("?" for _ in values)


def _run_ids(run_ids: Iterable) -> list[int]:
    return list(dict.fromkeys(int(r) for r in run_ids))


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})


def user_values(store: Store, run_ids: Iterable, metric: str, k: int) -> pd.DataFrame:
    """Per-user ``metric@k`` of the runs: DataFrame[run_id, user_id, value], by run then user."""
    ids = _run_ids(run_ids)
    if not ids:
        return _empty({"run_id": "int64", "user_id": "object", "value": "float64"})
    return store.df(
        f"SELECT run_id, user_id, value FROM user_metrics WHERE run_id IN ({_ph(ids)}) "
        f"AND metric = ? AND k = ? ORDER BY run_id, user_id", ids + [str(metric), int(k)])


def user_value_summary(store: Store, run_ids: Iterable, metric: str, k: int) -> pd.DataFrame:
    """``engine.evaluate.slices.distribution_summary`` of ``user_values`` (one row per run)."""
    return S.distribution_summary(user_values(store, run_ids, metric, k))


def user_values_with_activity(store: Store, run_ids: Iterable, metric: str, k: int) -> pd.DataFrame:
    """``user_values`` plus ``n_train``: the user's distinct items in its run's train split
    (0 when the run has no split or the user has no train rows): DataFrame[run_id, split_id,
    user_id, value, n_train]."""
    ids = _run_ids(run_ids)
    if not ids:
        return _empty({"run_id": "int64", "split_id": "float64", "user_id": "object",
                       "value": "float64", "n_train": "int64"})
    sql = f"""
        WITH um AS (
            SELECT u.run_id, r.split_id, u.user_id, u.value
            FROM user_metrics u JOIN runs r USING (run_id)
            WHERE u.run_id IN ({_ph(ids)}) AND u.metric = ? AND u.k = ?),
        tr AS (
            SELECT split_id, user_id, count(DISTINCT item_id) AS n_train FROM splits
            WHERE part = 'train' AND split_id IN (SELECT DISTINCT split_id FROM um)
            GROUP BY split_id, user_id)
        SELECT um.run_id, um.split_id, um.user_id, um.value, coalesce(tr.n_train, 0) AS n_train
        FROM um LEFT JOIN tr ON tr.split_id = um.split_id AND tr.user_id = um.user_id
        ORDER BY um.run_id, um.user_id"""
    return store.df(sql, ids + [str(metric), int(k)])


def metrics_by_slice(store: Store, run_ids: Iterable, metric: str, k: int, by: str = "activity",
                     n_buckets: int = S.ACTIVITY_BUCKETS, cold_max: int = S.COLD_MAX) -> pd.DataFrame:
    """Mean per-user ``metric@k`` per (run, slice) with a 95% t interval.

    by = 'activity' (quantile buckets of distinct train items, see engine.evaluate.slices)
    or 'coldwarm' (at most ``cold_max`` train items = cold). Returns DataFrame[run_id,
    slice, n_users, mean, ci_low, ci_high]; ``slice`` is ordered from least to most active.
    Bucket edges are computed once over all users of the runs, so every run is cut alike.
    """
    if by not in ("activity", "coldwarm"):
        raise ValueError(f"by must be 'activity' or 'coldwarm', not {by!r}")
    df = user_values_with_activity(store, run_ids, metric, k)
    if df.empty:
        return S.slice_summary(df.assign(slice=pd.Series([], dtype="object")))
    users = df.drop_duplicates(["split_id", "user_id"])
    if by == "activity":
        labels = S.activity_buckets(users["n_train"], n_buckets)
    else:
        labels = S.cold_warm(users["n_train"], cold_max)
    key = users[["split_id", "user_id"]].assign(slice=labels.to_numpy())
    df = df.merge(key, on=["split_id", "user_id"], how="left")
    df["slice"] = pd.Categorical(df["slice"], categories=labels.cat.categories, ordered=True)
    return S.slice_summary(df)


def _split_of_runs(store: Store, ids: list[int]) -> pd.DataFrame:
    return store.df(f"SELECT run_id, dataset, split_id FROM runs WHERE run_id IN ({_ph(ids)}) "
                    f"ORDER BY run_id", ids)


_DECILE_SQL = f"""
    pop AS (
        SELECT i.item_id, count(DISTINCT s.user_id) AS n_users
        FROM items i LEFT JOIN splits s
          ON s.item_id = i.item_id AND s.split_id = $split AND s.part = 'train'
        WHERE i.dataset = $dataset GROUP BY i.item_id),
    dec AS (
        -- equal-sized tenths of the catalogue by train popularity (ties broken by item id)
        SELECT item_id, n_users, ntile({N_DECILES}) OVER (ORDER BY n_users, item_id) AS decile
        FROM pop),
    bounds AS (
        SELECT decile, min(n_users) AS pop_min, max(n_users) AS pop_max, count(*) AS n_items
        FROM dec GROUP BY decile)"""


def popularity_deciles(store: Store, run_ids: Iterable, k: int) -> pd.DataFrame:
    """Where each run's top-``k`` slots and hits fall among the catalogue's popularity deciles.

    Popularity of an item = distinct users with it in the train part of the run's split;
    decile 1 holds the least popular tenth of the dataset's items, 10 the most popular.
    A hit is a recommended item in the user's test part. Returns DataFrame[run_id, decile,
    pop_min, pop_max, n_items, n_slots, n_hits, share_slots, share_hits] with all ten
    deciles for every run (zeros where nothing fell); shares are within the run.
    Recommended items missing from the items table are left out.
    """
    ids = _run_ids(run_ids)
    cols = {"run_id": "int64", "decile": "int64", "pop_min": "int64", "pop_max": "int64",
            "n_items": "int64", "n_slots": "int64", "n_hits": "int64", "share_slots": "float64",
            "share_hits": "float64"}
    if not ids:
        return _empty(cols)
    frames = []
    for (dataset, split_id), g in _split_of_runs(store, ids).groupby(["dataset", "split_id"],
                                                                      dropna=False):
        rids = [int(r) for r in g["run_id"]]
        split = None if pd.isna(split_id) else int(split_id)
        params = {"dataset": dataset, "split": split, "k": int(k)}
        params.update({f"r{i}": r for i, r in enumerate(rids)})
        run_list = ", ".join(f"$r{i}" for i in range(len(rids)))
        sql = f"""
            WITH {_DECILE_SQL},
            recs AS (SELECT run_id, user_id, item_id FROM recommendations
                     WHERE run_id IN ({run_list}) AND rank <= $k),
            test AS (SELECT DISTINCT user_id, item_id FROM splits
                     WHERE split_id = $split AND part = 'test'),
            agg AS (
                SELECT r.run_id, d.decile, count(*) AS n_slots, count(t.item_id) AS n_hits
                FROM recs r JOIN dec d USING (item_id)
                LEFT JOIN test t ON t.user_id = r.user_id AND t.item_id = r.item_id
                GROUP BY r.run_id, d.decile),
            grid AS (SELECT r.run_id, b.* FROM (SELECT DISTINCT unnest([{run_list}]) AS run_id) r
                     CROSS JOIN bounds b)
            SELECT g.run_id, g.decile, g.pop_min, g.pop_max, g.n_items,
                   coalesce(a.n_slots, 0) AS n_slots, coalesce(a.n_hits, 0) AS n_hits
            FROM grid g LEFT JOIN agg a USING (run_id, decile)
            ORDER BY g.run_id, g.decile"""
        frames.append(store.df(sql, params))
    out = pd.concat(frames, ignore_index=True) if frames else _empty(cols)
    tot = out.groupby("run_id")[["n_slots", "n_hits"]].transform("sum")
    out["share_slots"] = (out["n_slots"] / tot["n_slots"]).where(tot["n_slots"] > 0)
    out["share_hits"] = (out["n_hits"] / tot["n_hits"]).where(tot["n_hits"] > 0)
    return out[list(cols)].reset_index(drop=True)


def test_popularity_deciles(store: Store, split_id: int) -> pd.DataFrame:
    """How the held-out (test) items of a split spread over the popularity deciles:
    DataFrame[decile, pop_min, pop_max, n_items, n_test, share_test]."""
    dataset = store.scalar("SELECT dataset FROM split_defs WHERE split_id = ?", [int(split_id)])
    if dataset is None:
        return _empty({"decile": "int64", "pop_min": "int64", "pop_max": "int64",
                       "n_items": "int64", "n_test": "int64", "share_test": "float64"})
    sql = f"""
        WITH {_DECILE_SQL},
        test AS (SELECT DISTINCT user_id, item_id FROM splits
                 WHERE split_id = $split AND part = 'test')
        SELECT b.decile, b.pop_min, b.pop_max, b.n_items, count(t.item_id) AS n_test
        FROM bounds b LEFT JOIN dec d USING (decile) LEFT JOIN test t USING (item_id)
        GROUP BY ALL ORDER BY b.decile"""
    out = store.df(sql, {"dataset": dataset, "split": int(split_id)})
    total = out["n_test"].sum()
    out["share_test"] = out["n_test"] / total if total else float("nan")
    return out


def paired_tests(store: Store, run_ids: Iterable, metric: str, k: int, n_boot: int = 2000,
                 seed: int = 0) -> pd.DataFrame:
    """Every pair of the runs (in the order given) tested on per-user ``metric@k``.

    Runs on different splits are not paired (their users' test items differ): such pairs
    are left out and listed in the ``skipped`` attribute of the result. See
    ``engine.evaluate.slices.pairwise_tests`` for the columns.
    """
    ids = _run_ids(run_ids)
    vals = user_values(store, ids, metric, k)
    splits = dict(zip(*_split_of_runs(store, ids)[["run_id", "split_id"]].T.to_numpy()))
    series = {r: pd.Series(g["value"].to_numpy(), index=g["user_id"].to_numpy())
              for r, g in vals.groupby("run_id", sort=False)}
    series = {r: series[r] for r in ids if r in series}
    pairs, skipped = [], []
    have = list(series)
    for i, a in enumerate(have):
        for b in have[i + 1:]:
            (pairs if splits.get(a) == splits.get(b) else skipped).append((a, b))
    out = S.pairwise_tests(series, pairs, n_boot=n_boot, seed=seed)
    out.attrs["skipped"] = skipped
    out.attrs["missing"] = [r for r in ids if r not in series]
    return out


def split_requests(store: Store, dataset: str) -> pd.DataFrame:
    """Each split of ``dataset`` with how it was asked for, to train more runs on it:
    DataFrame[split_id, method, n_train, n_test, n_test_users, n_runs, request (dict or
    None), event_weights (dict or None: those of the split's newest trained run)]."""
    df = store.df(
        "SELECT d.split_id, d.method, d.params, d.n_train, d.n_test, d.n_test_users, "
        "count(r.run_id) AS n_runs, "
        "arg_max(r.params, r.run_id) FILTER (WHERE r.source = 'trained') AS run_params "
        "FROM split_defs d LEFT JOIN runs r ON r.split_id = d.split_id "
        "WHERE d.dataset = ? GROUP BY ALL ORDER BY d.split_id", [dataset])

    def request(text):
        try:
            return json.loads(text or "{}").get("request")
        except (TypeError, ValueError):
            return None

    def weights(text):
        try:
            return json.loads(text or "{}").get("event_weights")
        except (TypeError, ValueError):
            return None

    df["request"] = [request(p) for p in df["params"]]
    df["event_weights"] = [weights(p) for p in df["run_params"]]
    return df.drop(columns=["params", "run_params"])


def metric_catalogue(store: Store, dataset: str) -> pd.DataFrame:
    """Which summary metrics the dataset's runs have: DataFrame[metric, k, n_runs]."""
    return store.df("SELECT m.metric, m.k, count(DISTINCT m.run_id) AS n_runs FROM metrics m "
                    "JOIN runs r USING (run_id) WHERE r.dataset = ? GROUP BY ALL "
                    "ORDER BY m.k, m.metric", [dataset])
