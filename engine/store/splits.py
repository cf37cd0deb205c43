"""Readers of the ``split_defs`` and ``splits`` tables beyond the split readers in
``engine.store.runs``: one user's held-out and train rows, item co-occurrence in a
split's train part, and the catalogue's popularity deciles.

``splits`` is written sorted by (split_id, user_id, part), so per-user queries filter on
those columns with constants and DuckDB's zonemaps skip the other row groups.
"""

from __future__ import annotations

import json
from typing import Iterable

import pandas as pd

from engine.store.core import Store
from engine.store.items import items_meta, with_item_meta
from engine.store.runs import run_splits
from engine.store.sql import empty, ph, run_ids, text_ids

#: Catalogue popularity deciles (1 = least popular tenth of the items, 10 = most popular).
N_DECILES = 10


def user_test_items(store: Store, dataset: str, split_ids: Iterable, user_id: str) -> pd.DataFrame:
    """The user's held-out items in each split: DataFrame[split_id, item_id, ts, title, ...]."""
    sids = sorted({int(s) for s in split_ids if s is not None and not pd.isna(s)})
    if not sids:
        return empty({"split_id": "int64", "item_id": "object", "ts": "datetime64[us]",
                       "title": "object", "category": "object", "attrs": "object"})
    with store.session() as s:
        df = s.df(
            f"SELECT split_id, item_id, ts FROM splits WHERE split_id IN ({ph(sids)}) "
            f"AND user_id = ? AND part = 'test' ORDER BY split_id, ts, item_id",
            sids + [str(user_id)])
        return with_item_meta(s, dataset, df)


def user_train_rows(store: Store, split_id: int, user_id: str) -> pd.DataFrame:
    """The user's rows in the train part of a split: DataFrame[item_id, weight, event]."""
    return store.df("SELECT item_id, weight, event FROM splits WHERE split_id = ? AND user_id = ? "
                    "AND part = 'train'", [int(split_id), str(user_id)])


def drivers(store: Store, dataset: str, split_id: int, user_id: str, item_ids: Iterable,
            n: int = 2) -> pd.DataFrame:
    """For each listed item, the ``n`` items of the user's training history most similar
    to it by cosine over the training matrix's item columns (binary co-occurrence:
    users who have both / sqrt(users of one x users of the other)).

    This explains a list by the data (what people who interacted with the history item
    also interacted with), not by any model's internals, so it applies to every run.
    DataFrame[item_id, driver_id, similarity, n_common, driver_title], best first.
    """
    recs = sorted(set(text_ids(item_ids)))
    cols = {"item_id": "object", "driver_id": "object", "similarity": "float64",
            "n_common": "int64", "driver_title": "object"}
    if not recs:
        return empty(cols)
    with store.session() as s:
        hist = text_ids(s.df(
            "SELECT DISTINCT item_id FROM splits WHERE split_id = ? AND user_id = ? AND part = 'train'",
            [int(split_id), str(user_id)])["item_id"])
        if not hist:
            return empty(cols)
        both = sorted(set(recs) | set(hist))
        df = s.df(
            f"""WITH tr AS (
                    SELECT DISTINCT user_id, item_id FROM splits
                    WHERE split_id = ? AND part = 'train' AND item_id IN ({ph(both)})),
                deg AS (SELECT item_id, count(*) AS d FROM tr GROUP BY item_id),
                a AS (SELECT user_id, item_id FROM tr WHERE item_id IN ({ph(recs)})),
                b AS (SELECT user_id, item_id FROM tr WHERE item_id IN ({ph(hist)})),
                co AS (SELECT a.item_id AS item_id, b.item_id AS driver_id, count(*) AS n_common
                       FROM a JOIN b USING (user_id) WHERE a.item_id <> b.item_id GROUP BY ALL)
            SELECT co.item_id, co.driver_id, co.n_common / sqrt(da.d * db.d) AS similarity,
                   co.n_common
            FROM co JOIN deg da ON da.item_id = co.item_id JOIN deg db ON db.item_id = co.driver_id
            QUALIFY row_number() OVER (PARTITION BY co.item_id
                                       ORDER BY similarity DESC, co.driver_id) <= ?
            ORDER BY co.item_id, similarity DESC, co.driver_id""",
            [int(split_id)] + both + recs + hist + [int(n)])
        if df.empty:
            return empty(cols)
        meta = items_meta(s, dataset, df["driver_id"].tolist())
    titles = dict(zip(meta["item_id"], meta["title"]))
    df["driver_title"] = [titles.get(d) or d for d in df["driver_id"]]
    df["n_common"] = df["n_common"].astype("int64")
    return df[list(cols)].reset_index(drop=True)


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


def popularity_deciles(store: Store, run_ids_: Iterable, k: int) -> pd.DataFrame:
    """Where each run's top-``k`` slots and hits fall among the catalogue's popularity deciles.

    Popularity of an item = distinct users with it in the train part of the run's split;
    decile 1 holds the least popular tenth of the dataset's items, 10 the most popular.
    A hit is a recommended item in the user's test part. Returns DataFrame[run_id, decile,
    pop_min, pop_max, n_items, n_slots, n_hits, share_slots, share_hits] with all ten
    deciles for every run (zeros where nothing fell); shares are within the run.
    Recommended items missing from the items table are left out.
    """
    ids = run_ids(run_ids_)
    cols = {"run_id": "int64", "decile": "int64", "pop_min": "int64", "pop_max": "int64",
            "n_items": "int64", "n_slots": "int64", "n_hits": "int64", "share_slots": "float64",
            "share_hits": "float64"}
    if not ids:
        return empty(cols)
    frames = []
    for (dataset, split_id), g in run_splits(store, ids).groupby(["dataset", "split_id"],
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
    out = pd.concat(frames, ignore_index=True) if frames else empty(cols)
    tot = out.groupby("run_id")[["n_slots", "n_hits"]].transform("sum")
    out["share_slots"] = (out["n_slots"] / tot["n_slots"]).where(tot["n_slots"] > 0)
    out["share_hits"] = (out["n_hits"] / tot["n_hits"]).where(tot["n_hits"] > 0)
    return out[list(cols)].reset_index(drop=True)


def test_popularity_deciles(store: Store, split_id: int) -> pd.DataFrame:
    """How the held-out (test) items of a split spread over the popularity deciles:
    DataFrame[decile, pop_min, pop_max, n_items, n_test, share_test]."""
    dataset = store.scalar("SELECT dataset FROM split_defs WHERE split_id = ?", [int(split_id)])
    if dataset is None:
        return empty({"decile": "int64", "pop_min": "int64", "pop_max": "int64",
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
