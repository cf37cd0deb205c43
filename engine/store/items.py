"""Readers about items: metadata of listed items (``items_meta``, ``with_item_meta``),
and one item's details, popularity, neighbours and audience (the Item page).

"Similar items" come from three sources, each named on the page:

- ``model_neighbours``: what a run's own model calls similar (kNN/BM25 similarity,
  cosine of ALS/BPR/LMF item factors, EASE weights), kept at training time in
  ``item_neighbours`` for the models that can say.
- ``similar_by_cointeraction``: cosine similarity of two items' columns in the binary
  user x item matrix of the train data (|users of both| / sqrt(|users of i| x |users of
  j|)) — what an item-item neighbour model would start from.
- ``co_recommended``: the items that appear most often in the same top-K lists as this
  item in one run — what that run treats as going together.
"""

from __future__ import annotations

import json
from typing import Iterable

import pandas as pd

from engine.errors import NotFound
from engine.store.core import Store
from engine.store.item_index import RECIPIENTS_KEPT
from engine.store.sql import empty as _empty
from engine.store.sql import ph as _ph
from engine.store.sql import run_ids as run_ids_of
from engine.store.sql import text_ids


def parse_attrs(text) -> dict:
    """An item's attrs JSON as a dict ({} when empty or not an object)."""
    return _attrs(text)


def _attrs(text) -> dict:
    try:
        d = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return d if isinstance(d, dict) else {}


def item_exists(store: Store, dataset: str, item_id: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM items WHERE dataset = ? AND item_id = ?",
                             [dataset, str(item_id)]))


def item_info(store: Store, dataset: str, item_id: str) -> dict:
    """item_id, title, category and ``attrs`` (dict of further metadata). NotFound if absent."""
    df = store.df("SELECT item_id, title, category, attrs FROM items WHERE dataset = ? AND "
                  "item_id = ? LIMIT 1", [dataset, str(item_id)])
    if df.empty:
        raise NotFound(f"Dataset {dataset!r} has no item with id {str(item_id)!r}.")
    row = df.iloc[0]
    return {"item_id": str(row["item_id"]),
            "title": None if pd.isna(row["title"]) else str(row["title"]),
            "category": None if pd.isna(row["category"]) else str(row["category"]),
            "attrs": _attrs(row["attrs"])}


def search_items(store: Store, dataset: str, query: str, limit: int = 25) -> pd.DataFrame:
    """Items whose id equals or starts with ``query`` or whose title contains it (case-
    insensitive), exact id first, then by popularity: DataFrame[item_id, title, category,
    n_users]. An empty query lists the most popular items."""
    q = (query or "").strip()
    # the matching items first, then the popularity of those only (an id typed in full
    # counts one item's users, not every item's)
    sql = """
        WITH hit AS MATERIALIZED (
            SELECT item_id, title, category FROM items i
            WHERE i.dataset = $d AND ($q = '' OR lower(i.item_id) = lower($q)
                  OR starts_with(lower(i.item_id), lower($q))
                  OR contains(lower(coalesce(i.title, '')), lower($q)))),
        pop AS (SELECT item_id, count(DISTINCT user_id) AS n_users FROM interactions
                WHERE dataset = $d AND item_id IN (SELECT item_id FROM hit) GROUP BY item_id)
        SELECT h.item_id, h.title, h.category, coalesce(p.n_users, 0) AS n_users
        FROM hit h LEFT JOIN pop p USING (item_id)
        ORDER BY (lower(h.item_id) = lower($q)) DESC, n_users DESC, h.item_id
        LIMIT $n"""
    return store.df(sql, {"d": dataset, "q": q, "n": int(limit)})


def item_popularity(store: Store, dataset: str) -> pd.DataFrame:
    """Distinct users per item of ``dataset``, every item (0 when nobody interacted):
    DataFrame[item_id, n_users]. One scan of the dataset's interactions, for callers that
    keep it (the Item page caches it per store version)."""
    return store.df(
        """SELECT DISTINCT i.item_id, CAST(coalesce(p.n, 0) AS BIGINT) AS n_users FROM items i
           LEFT JOIN (SELECT item_id, count(DISTINCT user_id) AS n FROM interactions
                      WHERE dataset = $d GROUP BY item_id) p USING (item_id)
           WHERE i.dataset = $d""", {"d": dataset})


def item_stats(store: Store, dataset: str, item_id: str, with_rank: bool = True) -> dict:
    """n_interactions, n_users, events ({event: count}), first_ts, last_ts, and the item's
    popularity rank among the dataset's items by distinct users (1 = most popular; tied
    items share the best rank), with n_items. ``with_rank=False`` leaves out the rank
    and n_items (the two that read every item's interactions; see ``item_popularity``)."""
    item_id = str(item_id)
    with store.connect() as con:
        row = con.execute(
            "SELECT count(*), count(DISTINCT user_id), min(ts), max(ts) FROM interactions "
            "WHERE dataset = ? AND item_id = ?", [dataset, item_id]).fetchone()
        ev = con.execute(
            "SELECT coalesce(event, '') AS event, count(*) AS n FROM interactions "
            "WHERE dataset = ? AND item_id = ? GROUP BY 1 ORDER BY n DESC", [dataset, item_id]).fetchall()
        if not with_rank:
            return {"n_interactions": int(row[0]), "n_users": int(row[1]), "first_ts": row[2],
                    "last_ts": row[3], "events": {e: int(n) for e, n in ev if e}}
        rank = con.execute(
            """WITH pop AS (SELECT i.item_id, count(DISTINCT x.user_id) AS n FROM items i
                            LEFT JOIN interactions x ON x.dataset = i.dataset AND x.item_id = i.item_id
                            WHERE i.dataset = ? GROUP BY i.item_id)
               SELECT 1 + count(*) FILTER (WHERE n > (SELECT n FROM pop WHERE item_id = ?)),
                      count(*) FROM pop""", [dataset, item_id]).fetchone()
    return {"n_interactions": int(row[0]), "n_users": int(row[1]), "first_ts": row[2],
            "last_ts": row[3], "events": {e: int(n) for e, n in ev if e},
            "popularity_rank": int(rank[0]), "n_items": int(rank[1])}


def _with_meta(con, dataset: str, df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return df.assign(title=pd.Series([], dtype="object"), category=pd.Series([], dtype="object"),
                         attrs=pd.Series([], dtype="object"))
    con.register("_neigh", df)
    out = con.execute("SELECT n.*, i.title, i.category, i.attrs FROM _neigh n LEFT JOIN items i "
                      "ON i.dataset = ? AND i.item_id = n.item_id ORDER BY n.pos", [dataset]).df()
    con.unregister("_neigh")
    return out.drop(columns=["pos"])


def items_meta(store: Store, dataset: str, item_ids: Iterable[str]) -> pd.DataFrame:
    """title, category and attrs (JSON text) of the listed items: DataFrame[item_id,
    title, category, attrs]. Ids are constants (``item_id IN (...)``, 1000 at a time), so a
    large items table is never a hash-join build side."""
    ids = sorted(set(text_ids(item_ids)))
    if not ids:
        return _empty({"item_id": "object", "title": "object", "category": "object",
                       "attrs": "object"})
    out = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        out.append(store.df(
            f"SELECT item_id, any_value(title) AS title, any_value(category) AS category, "
            f"any_value(attrs) AS attrs FROM items WHERE dataset = ? AND item_id IN ({_ph(chunk)}) "
            f"GROUP BY item_id", [dataset] + chunk))
    return pd.concat(out, ignore_index=True)


def with_item_meta(store: Store, dataset: str, df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (with an item_id column) plus title, category and attrs; an item with no
    metadata row still gets a readable title: its id."""
    meta = items_meta(store, dataset, df["item_id"].tolist()) if len(df) else None
    if meta is None or meta.empty:
        df = df.copy()
        for c in ("title", "category", "attrs"):
            df[c] = None
    else:
        df = df.merge(meta, on="item_id", how="left")
    df["title"] = df["title"].where(df["title"].notna() & (df["title"].astype(str) != ""),
                                    df["item_id"])
    return df


def similar_by_cointeraction(store: Store, dataset: str, item_id: str, n: int = 10,
                             split_id: int | None = None) -> pd.DataFrame:
    """The ``n`` items most similar to ``item_id`` by cosine over users (binary).

    Uses the train part of ``split_id`` when given (the data the runs learned from),
    else all the dataset's interactions. Returns DataFrame[item_id, co_users, n_users,
    similarity, title, category, attrs], most similar first (ties by item id); co_users =
    users who interacted with both, n_users = users of the neighbour.
    """
    if split_id is None:
        src, params = ("SELECT user_id, item_id FROM interactions WHERE dataset = $d",
                       {"d": dataset})
    else:
        src = ("SELECT user_id, item_id FROM splits WHERE split_id = $s "
               "AND part = 'train'")
        params = {"s": int(split_id)}
    # filtered first: the item's users, then only their rows, then only the co-items'
    # rows (a DISTINCT of every (user, item) pair first took 2.2 s on 4 M split rows)
    sql = f"""
        WITH src AS ({src}),
        mine AS MATERIALIZED (SELECT DISTINCT user_id FROM src WHERE item_id = $i),
        co AS MATERIALIZED (SELECT item_id, count(DISTINCT user_id) AS co_users
                            FROM src SEMI JOIN mine USING (user_id)
                            WHERE item_id <> $i GROUP BY item_id),
        deg AS (SELECT item_id, count(DISTINCT user_id) AS n_users
                FROM src SEMI JOIN co USING (item_id) GROUP BY item_id)
        SELECT co.item_id, co.co_users, deg.n_users,
               co.co_users / sqrt(deg.n_users * (SELECT count(*) FROM mine)) AS similarity
        FROM co JOIN deg USING (item_id)
        ORDER BY similarity DESC, co.item_id LIMIT $n"""
    params.update({"i": str(item_id), "n": int(n)})
    with store.connect() as con:
        df = con.execute(sql, params).df()
        df["pos"] = range(len(df))
        return _with_meta(con, dataset, df)


def co_recommended(store: Store, run_id: int, item_id: str, n: int = 10,
                   k: int | None = None) -> pd.DataFrame:
    """Items most often in the same top-``k`` lists of run ``run_id`` as ``item_id``.

    Returns DataFrame[item_id, n_lists, share, title, category, attrs]: n_lists = lists
    holding both, share = n_lists / lists holding ``item_id``; most frequent first.
    """
    kk = 32767 if k is None else int(k)
    # the lists holding the item first, materialised (one filtered read of the run; as a
    # CTE over ``r`` it was planned as a second pass: 0.41 s -> 0.32 s for 20 M rows)
    sql = """
        WITH mine AS MATERIALIZED (SELECT user_id FROM recommendations
                                   WHERE run_id = $r AND rank <= $k AND item_id = $i),
        r AS (SELECT user_id, item_id FROM recommendations WHERE run_id = $r AND rank <= $k)
        SELECT r.item_id, count(*) AS n_lists,
               count(*) / (SELECT count(*) FROM mine) AS share
        FROM r JOIN mine USING (user_id) WHERE r.item_id <> $i
        GROUP BY r.item_id ORDER BY n_lists DESC, r.item_id LIMIT $n"""
    params = {"r": int(run_id), "k": kk, "i": str(item_id), "n": int(n)}
    with store.connect() as con:
        dataset = con.execute("SELECT dataset FROM runs WHERE run_id = ?", [int(run_id)]).fetchone()
        # An item in at most RECIPIENTS_KEPT lists of the run (most of a catalogue's tail)
        # has all its lists in run_item_recipients: then their users are constants and
        # the read prunes to their row groups instead of scanning the run.
        held = con.execute("SELECT sum(n_users) FROM run_item_ranks WHERE run_id = ? AND "
                           "item_id = ?", [int(run_id), str(item_id)]).fetchone()[0]
        users = None
        if held is not None and int(held) <= RECIPIENTS_KEPT:
            users = text_ids(con.execute(
                "SELECT DISTINCT user_id FROM run_item_recipients WHERE run_id = ? AND "
                "item_id = ?", [int(run_id), str(item_id)]).df()["user_id"])
        if users:
            params.update({f"u{j}": u for j, u in enumerate(users)})
            within = ", ".join(f"$u{j}" for j in range(len(users)))
            sql = sql.replace("WHERE run_id = $r AND rank <= $k",
                              f"WHERE run_id = $r AND rank <= $k AND user_id IN ({within})")
        df = con.execute(sql, params).df()
        df["pos"] = range(len(df))
        return _with_meta(con, (dataset[0] if dataset else None) or "", df)


def model_neighbours(store: Store, run_id: int, item_id: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` items most similar to ``item_id`` according to run ``run_id``'s model
    (kept at training time in ``item_neighbours``): DataFrame[rank, item_id, title,
    category, attrs, score], rank 1 first. Empty when the run kept none for this item
    (not a training item, or a model that cannot say)."""
    sql = """
        SELECT CAST(n.rank AS INTEGER) AS rank, n.neighbour_id AS item_id, i.title, i.category,
               i.attrs, n.score
        FROM item_neighbours n JOIN runs r USING (run_id)
        LEFT JOIN items i ON i.dataset = r.dataset AND i.item_id = n.neighbour_id
        WHERE n.run_id = ? AND n.item_id = ? AND n.rank <= ?
        ORDER BY n.rank"""
    return store.df(sql, [int(run_id), str(item_id), int(n)])


def runs_with_neighbours(store: Store, dataset: str) -> list[int]:
    """Finished runs of ``dataset`` that kept their model's item neighbours, by run id."""
    df = store.df("SELECT r.run_id FROM runs r WHERE r.dataset = ? AND r.status = 'done' AND "
                  "EXISTS (SELECT 1 FROM item_neighbours n WHERE n.run_id = r.run_id) "
                  "ORDER BY r.run_id", [dataset])
    return [int(r) for r in df["run_id"]]


def item_audience(store: Store, dataset: str, item_id: str,
                  run_ids: Iterable | None = None) -> pd.DataFrame:
    """Per finished run of ``dataset`` (or those listed): how many evaluated users get
    ``item_id`` in their list, at which ranks, and how often it is a hit.

    Returns DataFrame[run_id, algorithm, name, split_id, k, n_eval_users, n_users, share,
    best_rank, median_rank, mean_rank, n_hits], by run id. share = n_users / n_eval_users;
    a hit is the item in the user's test part of the run's split.
    """
    ids = None if run_ids is None else [int(r) for r in run_ids]
    where = "r.dataset = $d AND r.status = 'done'"
    params = {"d": dataset, "i": str(item_id)}
    if ids is not None:
        if not ids:
            return _empty({"run_id": "int64", "algorithm": "object", "name": "object",
                           "split_id": "int64", "k": "int64", "n_eval_users": "int64",
                           "n_users": "int64", "share": "float64", "best_rank": "float64",
                           "median_rank": "float64", "mean_rank": "float64", "n_hits": "int64"})
        where += " AND r.run_id IN (" + ", ".join(f"$r{j}" for j in range(len(ids))) + ")"
        params.update({f"r{j}": r for j, r in enumerate(ids)})
    # sums over the item's rows of run_item_ranks (engine/store/item_index.py); the
    # median as DuckDB's median of the listed ranks: the mean of the ranks at 0-based
    # positions floor((n-1)/2) and floor(n/2), found from the cumulative counts
    sql = f"""
        WITH rr AS (SELECT run_id, algorithm, name, split_id, k, n_users AS n_eval_users
                    FROM runs r WHERE {where}),
        h AS (SELECT run_id, rank, n_users, n_hits,
                     sum(n_users) OVER (PARTITION BY run_id ORDER BY rank) AS cum,
                     sum(n_users) OVER (PARTITION BY run_id) AS tot
              FROM run_item_ranks
              WHERE item_id = $i AND run_id IN (SELECT run_id FROM rr)),
        agg AS (SELECT run_id, sum(n_users) AS n_users, min(rank) AS best_rank,
                       (min(rank) FILTER (WHERE cum > (tot - 1) // 2)
                        + min(rank) FILTER (WHERE cum > tot // 2)) / 2 AS median_rank,
                       sum(rank * n_users) / sum(n_users) AS mean_rank, sum(n_hits) AS n_hits
                FROM h GROUP BY run_id)
        SELECT rr.run_id, rr.algorithm, rr.name, rr.split_id, rr.k, rr.n_eval_users,
               CAST(coalesce(agg.n_users, 0) AS BIGINT) AS n_users,
               coalesce(agg.n_users, 0) / nullif(rr.n_eval_users, 0) AS share,
               CAST(agg.best_rank AS DOUBLE) AS best_rank,
               CAST(agg.median_rank AS DOUBLE) AS median_rank,
               CAST(agg.mean_rank AS DOUBLE) AS mean_rank,
               CAST(coalesce(agg.n_hits, 0) AS BIGINT) AS n_hits
        FROM rr LEFT JOIN agg USING (run_id)
        ORDER BY rr.run_id"""
    return store.df(sql, params)


def item_rank_counts(store: Store, item_id: str, run_ids: Iterable) -> pd.DataFrame:
    """How many users get ``item_id`` at each rank, per run: DataFrame[run_id, rank, n_users]."""
    ids = run_ids_of(run_ids)
    if not ids:
        return _empty({"run_id": "int64", "rank": "int64", "n_users": "int64"})
    return store.df(
        f"SELECT run_id, CAST(rank AS INTEGER) AS rank, CAST(n_users AS BIGINT) AS n_users "
        f"FROM run_item_ranks WHERE item_id = ? AND run_id IN ({_ph(ids)}) ORDER BY run_id, rank",
        [str(item_id)] + ids)


def item_recipients(store: Store, run_id: int, item_id: str, n: int = 10) -> pd.DataFrame:
    """A sample of users who get ``item_id`` from run ``run_id``: their hits first, then by
    rank, then a stable hash of the user id (so the sample is spread, not alphabetical).
    Returns DataFrame[user_id, rank, hit]. Up to ``RECIPIENTS_KEPT`` users come from the
    run's first recipients kept in ``run_item_recipients`` (one item's rows); more scan the
    run's lists."""
    if int(n) <= RECIPIENTS_KEPT:
        return store.df(
            "SELECT user_id, CAST(rank AS INTEGER) AS rank, hit FROM run_item_recipients "
            "WHERE run_id = ? AND item_id = ? ORDER BY pos LIMIT ?",
            [int(run_id), str(item_id), int(n)])
    sql = """
        WITH got AS (SELECT user_id, CAST(rank AS INTEGER) AS rank FROM recommendations
                     WHERE run_id = $r AND item_id = $i),
        test AS (SELECT DISTINCT user_id FROM splits
                 WHERE split_id = (SELECT split_id FROM runs WHERE run_id = $r)
                   AND part = 'test' AND item_id = $i)
        SELECT got.user_id, got.rank, test.user_id IS NOT NULL AS hit
        FROM got LEFT JOIN test USING (user_id)
        ORDER BY hit DESC, got.rank, hash(got.user_id), got.user_id LIMIT $n"""
    return store.df(sql, {"r": int(run_id), "i": str(item_id), "n": int(n)})
