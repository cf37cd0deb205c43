"""What the Compare page reads: one user's history, lists, held-out items and metrics
under several runs, plus the all-user views (disagreement, exposure). All its SQL.

Speed on big stores: ``recommendations`` is written sorted by (run_id, user_id, rank),
``splits`` by (split_id, user_id, part) and ``interactions`` by (dataset, user_id), so
every per-user query here filters on those columns with constants (``run_id IN (...)
AND user_id = ?``): DuckDB's zonemaps then skip all row groups but the user's few.
Item metadata is fetched afterwards for the handful of item ids shown (``item_id IN
(...)``) rather than by a join, so a large ``items`` table is never a hash-join build
side on the per-user path. The all-user aggregates (``disagreement``, ``exposure``) scan
whole runs; the viewer caches them and computes them only when their tab is open.
"""

from __future__ import annotations

import json
import re
import zlib
from contextlib import contextmanager
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from engine.evaluate.overlap import jaccard, kendall_tau, rbo, user_overlap
from engine.store.core import Store

_ISO_TS = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

#: Persistence of RBO everywhere on the Compare page (weight 0.9 puts ~86% on the top 10).
RBO_P = 0.9


class _OneConnection:
    """Stands in for a Store so that several reads share one open connection (opening
    the file costs more than a pruned per-user query). Used inside ``store.connect()``."""

    def __init__(self, con):
        self.con = con

    @contextmanager
    def connect(self):
        yield self.con

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()


def _ph(values: Sequence) -> str:
    return ", ".join("?" for _ in values)


def _ids(values: Iterable) -> list[str]:
    return [str(v) for v in values]


def _run_ids(run_ids: Iterable) -> list[int]:
    return [int(r) for r in run_ids]


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})


def _items_meta(con, dataset: str, item_ids: Iterable[str]) -> pd.DataFrame:
    """title, category and attrs (JSON text) of the listed items (constants: cheap)."""
    ids = sorted(set(_ids(item_ids)))
    if not ids:
        return _empty({"item_id": "object", "title": "object", "category": "object",
                       "attrs": "object"})
    out = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        out.append(con.execute(
            f"SELECT item_id, any_value(title) AS title, any_value(category) AS category, "
            f"any_value(attrs) AS attrs FROM items WHERE dataset = ? AND item_id IN ({_ph(chunk)}) "
            f"GROUP BY item_id", [dataset] + chunk).df())
    return pd.concat(out, ignore_index=True)


def _with_meta(con, dataset: str, df: pd.DataFrame) -> pd.DataFrame:
    meta = _items_meta(con, dataset, df["item_id"].tolist()) if len(df) else None
    if meta is None or meta.empty:
        df = df.copy()
        for c in ("title", "category", "attrs"):
            df[c] = None
    else:
        df = df.merge(meta, on="item_id", how="left")
    # an item with no metadata row still gets a readable title: its id
    df["title"] = df["title"].where(df["title"].notna() & (df["title"].astype(str) != ""),
                                    df["item_id"])
    return df


def format_attrs(attrs: str | None, max_len: int = 32, max_parts: int = 3) -> str:
    """A short display line from an item's attrs JSON.

    Text values appear as they are (``東京都``), numbers with their key (``hourly wage
    1,500``), timestamps as dates; at most ``max_parts`` values, each cut at ``max_len``.
    """
    if not attrs:
        return ""
    try:
        d = json.loads(attrs)
    except (TypeError, ValueError):
        return ""
    if not isinstance(d, dict):
        return ""
    parts = []
    for key, value in d.items():
        if value is None or value == "" or isinstance(value, (list, dict)) \
                or (isinstance(value, float) and np.isnan(value)):
            continue
        name = str(key).replace("_", " ")
        if isinstance(value, bool):
            text = f"{name}: {'yes' if value else 'no'}"
        elif isinstance(value, (int, float)):
            value = int(value) if float(value).is_integer() else value
            # no thousands separator for years and ids ("year 1997", not "year 1,997")
            plain = isinstance(value, int) and (name.endswith("year") or name.endswith(" id"))
            text = f"{name} {value}" if plain else f"{name} {value:,}"
        else:
            text = str(value)
            if _ISO_TS.match(text):
                text = f"{name} {text[:10]}"
        if len(text) > max_len:
            text = text[: max_len - 1] + "…"
        parts.append(text)
        if len(parts) >= max_parts:
            break
    return " · ".join(parts)


# --------------------------------------------------------------------------- runs, users

def runs_info(store: Store, run_ids: Iterable) -> pd.DataFrame:
    """The listed runs (those that exist): run_id, dataset, split_id, algorithm, name,
    params (JSON text), source, status, k, n_users; in the order asked."""
    ids = _run_ids(run_ids)
    cols = ["run_id", "dataset", "split_id", "algorithm", "name", "params", "source", "status",
            "k", "n_users"]
    if not ids:
        return _empty({c: "object" for c in cols})
    df = store.df(f"SELECT {', '.join(cols)} FROM runs WHERE run_id IN ({_ph(ids)})", ids)
    order = {r: i for i, r in enumerate(ids)}
    return df.sort_values("run_id", key=lambda s: s.map(order)).reset_index(drop=True)


def stored_user_metrics(store: Store, run_ids: Iterable) -> pd.DataFrame:
    """Which per-user metrics the runs stored: DataFrame[metric, k, n_runs] (small table)."""
    ids = _run_ids(run_ids)
    if not ids:
        return _empty({"metric": "object", "k": "int64", "n_runs": "int64"})
    return store.df(f"SELECT metric, k, count(DISTINCT run_id) AS n_runs FROM metrics "
                    f"WHERE run_id IN ({_ph(ids)}) GROUP BY metric, k ORDER BY metric, k", ids)


def user_exists(store: Store, dataset: str, user_id: str) -> bool:
    """Whether ``user_id`` is a user of ``dataset`` (users table or any interaction)."""
    return bool(store.scalar(
        "SELECT (EXISTS (SELECT 1 FROM users WHERE dataset = ? AND user_id = ?)) "
        "OR (EXISTS (SELECT 1 FROM interactions WHERE dataset = ? AND user_id = ?))",
        [dataset, str(user_id), dataset, str(user_id)]))


def search_users(store: Store, dataset: str, prefix: str, limit: int = 20) -> list[str]:
    """Up to ``limit`` user ids of ``dataset`` that start with ``prefix`` (sorted)."""
    return store.df("SELECT DISTINCT user_id FROM users WHERE dataset = ? AND starts_with(user_id, ?) "
                    "ORDER BY user_id LIMIT ?", [dataset, str(prefix), int(limit)])["user_id"].tolist()


def random_user(store: Store, run_ids: Iterable, split_id: int | None, seed: int = 0,
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
    ids = _run_ids(run_ids)
    if not ids:
        return None
    with store.connect() as con:
        if prefer_hits:
            at_k = "" if k is None else " AND k <= ?"
            names = [] if hit_metrics is None else [str(m) for m in hit_metrics]
            among = f" AND metric IN ({_ph(names)})" if names else ""
            row = con.execute(
                f"SELECT user_id FROM user_metrics WHERE run_id IN ({_ph(ids)})"
                f"{among} AND value > 0{at_k} ORDER BY hash(user_id, ?) LIMIT 1",
                ids + names + ([] if k is None else [int(k)]) + [int(seed)]).fetchone()
            if row is not None:
                return str(row[0])
        if split_id is not None:
            cands = con.execute(
                "SELECT user_id FROM splits WHERE split_id = ? AND part = 'test' GROUP BY user_id "
                "ORDER BY hash(user_id, ?) LIMIT 50", [int(split_id), int(seed)]).df()["user_id"]
            cands = _ids(cands)
            if cands:
                have = con.execute(
                    f"SELECT DISTINCT user_id FROM recommendations WHERE run_id = ? AND rank = 1 "
                    f"AND user_id IN ({_ph(cands)})", [ids[0]] + cands).df()["user_id"]
                have = set(_ids(have))
                for u in cands:
                    if u in have:
                        return u
        row = con.execute("SELECT user_id FROM recommendations WHERE run_id = ? AND rank = 1 "
                          "ORDER BY hash(user_id, ?) LIMIT 1", [ids[0], int(seed)]).fetchone()
    return None if row is None else str(row[0])


# --------------------------------------------------------------------------- one user

def user_history(store: Store, dataset: str, user_id: str, split_id: int | None = None,
                 limit: int = 20) -> tuple[pd.DataFrame, int]:
    """The user's most recent interactions, newest first, and how many there are in all.

    DataFrame[item_id, ts, event, weight, held_out, title, category, attrs]; ``held_out``
    is True for items in the test part of ``split_id`` (what the runs did not see).
    """
    with store.connect() as con:
        n = con.execute("SELECT count(*) FROM interactions WHERE dataset = ? AND user_id = ?",
                        [dataset, str(user_id)]).fetchone()[0]
        hist = con.execute(
            "SELECT item_id, ts, event, weight FROM interactions WHERE dataset = ? AND user_id = ? "
            "ORDER BY ts DESC NULLS LAST, item_id LIMIT ?",
            [dataset, str(user_id), int(limit)]).df()
        held = set()
        if split_id is not None:
            held = set(_ids(con.execute(
                "SELECT item_id FROM splits WHERE split_id = ? AND user_id = ? AND part = 'test'",
                [int(split_id), str(user_id)]).df()["item_id"]))
        hist["held_out"] = hist["item_id"].isin(held)
        hist = _with_meta(con, dataset, hist)
    return hist, int(n)


def user_lists(store: Store, dataset: str, run_ids: Iterable, user_id: str, k: int) -> pd.DataFrame:
    """The top-``k`` of each run for one user with item metadata.

    DataFrame[run_id, rank, item_id, score, title, category, attrs] sorted by run, rank.
    """
    ids = _run_ids(run_ids)
    if not ids:
        return _empty({"run_id": "int64", "rank": "int64", "item_id": "object", "score": "float64",
                       "title": "object", "category": "object", "attrs": "object"})
    with store.connect() as con:
        df = con.execute(
            f"SELECT run_id, CAST(rank AS INTEGER) AS rank, item_id, score FROM recommendations "
            f"WHERE run_id IN ({_ph(ids)}) AND user_id = ? AND rank <= ? ORDER BY run_id, rank",
            ids + [str(user_id), int(k)]).df()
        df = _with_meta(con, dataset, df)
    return df.sort_values(["run_id", "rank"]).reset_index(drop=True)


def user_test_items(store: Store, dataset: str, split_ids: Iterable, user_id: str) -> pd.DataFrame:
    """The user's held-out items in each split: DataFrame[split_id, item_id, ts, title, ...]."""
    sids = sorted({int(s) for s in split_ids if s is not None and not pd.isna(s)})
    if not sids:
        return _empty({"split_id": "int64", "item_id": "object", "ts": "datetime64[us]",
                       "title": "object", "category": "object", "attrs": "object"})
    with store.connect() as con:
        df = con.execute(
            f"SELECT split_id, item_id, ts FROM splits WHERE split_id IN ({_ph(sids)}) "
            f"AND user_id = ? AND part = 'test' ORDER BY split_id, ts, item_id",
            sids + [str(user_id)]).df()
        return _with_meta(con, dataset, df)


def user_metric_values(store: Store, run_ids: Iterable, user_id: str) -> pd.DataFrame:
    """The user's stored per-user metrics under each run: DataFrame[run_id, metric, k, value]."""
    ids = _run_ids(run_ids)
    if not ids:
        return _empty({"run_id": "int64", "metric": "object", "k": "int64", "value": "float64"})
    return store.df(f"SELECT run_id, metric, k, value FROM user_metrics WHERE run_id IN ({_ph(ids)}) "
                    f"AND user_id = ? ORDER BY run_id, metric, k", ids + [str(user_id)])


def mark_lists(lists: pd.DataFrame, tests: pd.DataFrame, run_split: dict) -> pd.DataFrame:
    """Add the marks the page shows to ``user_lists`` output.

    hit: the item is held out for this user in the run's split (a correct guess);
    n_runs: how many of the compared runs list it; shared: n_runs > 1; unique: only this
    run lists it while other runs are compared; other_ranks: "#3 in run 2, ..." text.
    """
    out = lists.copy()
    held = {(int(s), str(i)) for s, i in zip(tests["split_id"], tests["item_id"])} if len(tests) else set()
    out["hit"] = [(run_split.get(int(r)) is not None and (int(run_split[int(r)]), str(i)) in held)
                  for r, i in zip(out["run_id"], out["item_id"])]
    runs_per_item = out.groupby("item_id")["run_id"].nunique()
    out["n_runs"] = out["item_id"].map(runs_per_item).fillna(0).astype(int)
    n_compared = out["run_id"].nunique()
    out["shared"] = out["n_runs"] > 1
    out["unique"] = (out["n_runs"] == 1) & (n_compared > 1)
    ranks = {(int(r), str(i)): int(k) for r, i, k in zip(out["run_id"], out["item_id"], out["rank"])}
    by_item: dict[str, list[tuple[int, int]]] = {}
    for (r, i), k in ranks.items():
        by_item.setdefault(i, []).append((r, k))
    out["other_ranks"] = [[(r2, k2) for r2, k2 in sorted(by_item[str(i)]) if r2 != int(r)]
                          for r, i in zip(out["run_id"], out["item_id"])]
    return out


def pair_overlaps(lists: pd.DataFrame, run_ids: Sequence, p: float = RBO_P) -> pd.DataFrame:
    """Jaccard, RBO and Kendall's tau of each pair of runs' lists for one user.

    DataFrame[run_a, run_b, jaccard, rbo, kendall_tau, n_shared]; rbo is nan when a list
    is empty; kendall_tau is nan with fewer than 2 shared items.
    """
    ids = _run_ids(run_ids)
    # an item listed twice (possible in imported runs) counts once, at its best rank
    seqs = {r: list(dict.fromkeys(lists.loc[lists["run_id"] == r].sort_values("rank")["item_id"]
                                  .astype(str)))
            for r in ids}
    rows = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            la, lb = seqs[a], seqs[b]
            shared = len(set(la) & set(lb))
            rows.append({
                "run_a": a, "run_b": b,
                "jaccard": jaccard(la, lb) if (la or lb) else np.nan,
                "rbo": rbo(la, lb, p).ext if (la and lb) else np.nan,
                "kendall_tau": kendall_tau(la, lb),
                "n_shared": shared,
            })
    cols = {"run_a": "int64", "run_b": "int64", "jaccard": "float64", "rbo": "float64",
            "kendall_tau": "float64", "n_shared": "int64"}
    return pd.DataFrame(rows) if rows else _empty(cols)


def user_view(store: Store, dataset: str, run_ids: Iterable, user_id: str, k: int,
              history_limit: int = 20) -> dict:
    """Everything the Compare page shows for one user, from per-user queries only.

    Keys: history (DataFrame), n_history (int), lists (``mark_lists`` output), tests
    (``user_test_items``), metrics (``user_metric_values``), overlaps (``pair_overlaps``),
    missing_runs (run ids with no list for this user).
    """
    ids = _run_ids(run_ids)
    with store.connect() as con:
        one = _OneConnection(con)
        info = runs_info(one, ids)
        run_split = {int(r): (None if pd.isna(s) else int(s))
                     for r, s in zip(info["run_id"], info["split_id"])}
        splits = [s for s in run_split.values() if s is not None]
        lists = user_lists(one, dataset, ids, user_id, k)
        tests = user_test_items(one, dataset, splits, user_id)
        history, n_history = user_history(one, dataset, user_id, splits[0] if splits else None,
                                          history_limit)
        metrics = user_metric_values(one, ids, user_id)
    lists = mark_lists(lists, tests, run_split)
    present = set(lists["run_id"].astype(int))
    return {
        "history": history, "n_history": n_history, "lists": lists, "tests": tests,
        "metrics": metrics, "overlaps": pair_overlaps(lists, ids),
        "missing_runs": [r for r in ids if r not in present],
    }


def drivers(store: Store, dataset: str, split_id: int, user_id: str, item_ids: Iterable,
            n: int = 2) -> pd.DataFrame:
    """For each listed item, the ``n`` items of the user's training history most similar
    to it by cosine over the training matrix's item columns (binary co-occurrence:
    users who have both / sqrt(users of one x users of the other)).

    This explains a list by the data (what people who interacted with the history item
    also interacted with), not by any model's internals, so it applies to every run.
    DataFrame[item_id, driver_id, similarity, n_common, driver_title], best first.
    """
    recs = sorted(set(_ids(item_ids)))
    cols = {"item_id": "object", "driver_id": "object", "similarity": "float64",
            "n_common": "int64", "driver_title": "object"}
    if not recs:
        return _empty(cols)
    with store.connect() as con:
        hist = _ids(con.execute(
            "SELECT DISTINCT item_id FROM splits WHERE split_id = ? AND user_id = ? AND part = 'train'",
            [int(split_id), str(user_id)]).df()["item_id"])
        if not hist:
            return _empty(cols)
        both = sorted(set(recs) | set(hist))
        df = con.execute(
            f"""WITH tr AS (
                    SELECT DISTINCT user_id, item_id FROM splits
                    WHERE split_id = ? AND part = 'train' AND item_id IN ({_ph(both)})),
                deg AS (SELECT item_id, count(*) AS d FROM tr GROUP BY item_id),
                a AS (SELECT user_id, item_id FROM tr WHERE item_id IN ({_ph(recs)})),
                b AS (SELECT user_id, item_id FROM tr WHERE item_id IN ({_ph(hist)})),
                co AS (SELECT a.item_id AS item_id, b.item_id AS driver_id, count(*) AS n_common
                       FROM a JOIN b USING (user_id) WHERE a.item_id <> b.item_id GROUP BY ALL)
            SELECT co.item_id, co.driver_id, co.n_common / sqrt(da.d * db.d) AS similarity,
                   co.n_common
            FROM co JOIN deg da ON da.item_id = co.item_id JOIN deg db ON db.item_id = co.driver_id
            QUALIFY row_number() OVER (PARTITION BY co.item_id
                                       ORDER BY similarity DESC, co.driver_id) <= ?
            ORDER BY co.item_id, similarity DESC, co.driver_id""",
            [int(split_id)] + both + recs + hist + [int(n)]).df()
        if df.empty:
            return _empty(cols)
        meta = _items_meta(con, dataset, df["driver_id"].tolist())
    titles = dict(zip(meta["item_id"], meta["title"]))
    df["driver_title"] = [titles.get(d) or d for d in df["driver_id"]]
    df["n_common"] = df["n_common"].astype("int64")
    return df[list(cols)].reset_index(drop=True)


def model_drivers(store: Store, dataset: str, run_id: int, user_id: str, item_ids: Iterable,
                  n: int = 1) -> pd.DataFrame | None:
    """For each listed item, the ``n`` history items that contribute most to its score in
    the ALS run's own model (implicit's explain on the run's stored item factors and the
    user's training row, weighted as the run weighted it; see engine.recommend.explain).

    DataFrame[item_id, driver_id, contribution, score, driver_title], largest contribution
    first per item; ``score`` is the item's score under the user's re-solved factors (the
    sum of all history contributions). None when the run kept no item factors (other
    algorithms, imported runs, ALS runs trained before factors were kept): the caller
    then falls back to ``drivers``. The caller asks the algorithm registry
    (``engine.recommend.registry.explains``) which runs to explain.
    """
    from engine.recommend.explain import als_explain
    from engine.recommend.matrix import row_weights
    from engine.store.runs import item_factors

    cols = {"item_id": "object", "driver_id": "object", "contribution": "float64",
            "score": "float64", "driver_title": "object"}
    recs = sorted(set(_ids(item_ids)))
    with store.connect() as con:
        row = con.execute("SELECT split_id, params, algorithm FROM runs WHERE run_id = ?",
                          [int(run_id)]).fetchone()
        if row is None or row[0] is None:
            return None
        kept = item_factors(_OneConnection(con), int(run_id))
        if kept is None:
            return None
        if not recs:
            return _empty(cols)
        params = json.loads(row[1] or "{}")
        # the user's row of the training matrix: the split's train rows (already the
        # positives when the run used --min-weight), weighted by the run's event weights
        train = con.execute(
            "SELECT item_id, weight, event FROM splits WHERE split_id = ? AND user_id = ? "
            "AND part = 'train'", [int(row[0]), str(user_id)]).df()
        weights = row_weights(train, params.get("event_weights"))
        explained = als_explain(kept[0], kept[1], params, train["item_id"].tolist(), weights,
                                recs, n=int(n))
        out = pd.DataFrame([{"item_id": rec, "driver_id": d, "contribution": c, "score": score}
                            for rec, (score, contrib) in explained.items() for d, c in contrib],
                           columns=list(cols)[:-1])
        if out.empty:
            return _empty(cols)
        meta = _items_meta(con, dataset, out["driver_id"].tolist())
    titles = dict(zip(meta["item_id"], meta["title"]))
    out["driver_title"] = [titles.get(d) or d for d in out["driver_id"]]
    return out.astype({"contribution": "float64", "score": "float64"})[list(cols)] \
        .reset_index(drop=True)


# --------------------------------------------------------------------------- all users

def disagreement(store: Store, run_a: int, run_b: int, k: int, metric: str = "ndcg",
                 p: float = RBO_P, max_users: int | None = 100_000) -> pd.DataFrame:
    """Per user in both runs: how much their top-``k`` lists disagree, most first.

    DataFrame[user_id, rbo, jaccard, kendall_tau, metric_a, metric_b, metric_diff] with
    metric_diff = metric_b - metric_a of the stored per-user ``metric``@``k`` (nan when the
    runs did not store it). Sorted by rbo ascending, then |metric_diff| descending.
    Reads both runs' whole lists: call it cached, on demand. When run A lists more than
    ``max_users`` users, a fixed pseudo-random sample of about ``max_users`` of them
    (by a hash of the user id, the same for both runs) is compared instead, and
    ``result.attrs["sampled_from"]`` holds the number of users run A lists.
    """
    a, b = int(run_a), int(run_b)
    cols = "user_id, CAST(rank AS INTEGER) AS rank, item_id"
    with store.connect() as con:
        n_a = con.execute("SELECT count(*) FROM recommendations WHERE run_id = ? AND rank = 1",
                          [a]).fetchone()[0]
        keep, extra = "", []
        if max_users is not None and n_a > int(max_users):
            keep = " AND hash(user_id) % 1000003 < ?"
            extra = [int(1000003 * int(max_users) / n_a)]
        ra = con.execute(f"SELECT {cols} FROM recommendations WHERE run_id = ? AND rank <= ?{keep}",
                         [a, int(k)] + extra).df()
        rb = con.execute(f"SELECT {cols} FROM recommendations WHERE run_id = ? AND rank <= ?{keep}",
                         [b, int(k)] + extra).df()
        ma = con.execute(f"SELECT user_id, value FROM user_metrics WHERE run_id = ? AND metric = ? "
                         f"AND k = ?{keep}", [a, metric, int(k)] + extra).df()
        mb = con.execute(f"SELECT user_id, value FROM user_metrics WHERE run_id = ? AND metric = ? "
                         f"AND k = ?{keep}", [b, metric, int(k)] + extra).df()
    ov = user_overlap(ra, rb, k=int(k), p=p)
    ov["user_id"] = ov["user_id"].astype(object)
    ma["user_id"] = ma["user_id"].astype(object)
    mb["user_id"] = mb["user_id"].astype(object)
    ov = ov.merge(ma.rename(columns={"value": "metric_a"}), on="user_id", how="left")
    ov = ov.merge(mb.rename(columns={"value": "metric_b"}), on="user_id", how="left")
    ov["metric_diff"] = ov["metric_b"] - ov["metric_a"]
    ov["_abs"] = ov["metric_diff"].abs()
    ov = ov.sort_values(["rbo", "_abs", "user_id"], ascending=[True, False, True],
                        na_position="last", kind="stable")
    out = ov.drop(columns="_abs")[["user_id", "rbo", "jaccard", "kendall_tau", "metric_a",
                                   "metric_b", "metric_diff"]].reset_index(drop=True)
    if extra:
        out.attrs["sampled_from"] = int(n_a)
    return out


def exposure(store: Store, dataset: str, run_ids: Iterable, k: int) -> pd.DataFrame:
    """How often each item is recommended in each run's top-``k`` across all users.

    Wide DataFrame[item_id, title, category, n_<run>, share_<run> for each run, ...]:
    n = users whose top-k holds the item, share = n / users with a list in that run.
    Sorted by total exposure. One GROUP BY over the runs' rows: call it cached, on demand.
    """
    ids = _run_ids(run_ids)
    base = {"item_id": "object", "title": "object", "category": "object"}
    if not ids:
        return _empty(base)
    with store.connect() as con:
        long = con.execute(
            f"SELECT run_id, item_id, count(*) AS n FROM recommendations "
            f"WHERE run_id IN ({_ph(ids)}) AND rank <= ? GROUP BY run_id, item_id",
            ids + [int(k)]).df()
        users = con.execute(
            f"SELECT run_id, count(*) AS n FROM recommendations WHERE run_id IN ({_ph(ids)}) "
            f"AND rank = 1 GROUP BY run_id", ids).df()
        n_users = {int(r): int(n) for r, n in zip(users["run_id"], users["n"])}
        if long.empty:
            out = _empty(base)
            for r in ids:
                out[f"n_{r}"] = pd.Series([], dtype="int64")
                out[f"share_{r}"] = pd.Series([], dtype="float64")
            return out
        wide = long.pivot_table(index="item_id", columns="run_id", values="n", aggfunc="sum",
                                fill_value=0)
        wide = wide.reindex(columns=ids, fill_value=0)
        out = pd.DataFrame({"item_id": wide.index.astype(object)})
        for r in ids:
            out[f"n_{r}"] = wide[r].to_numpy(dtype="int64")
            out[f"share_{r}"] = out[f"n_{r}"] / n_users[r] if n_users.get(r) else 0.0
        out["_total"] = out[[f"n_{r}" for r in ids]].sum(axis=1)
        out = out.sort_values(["_total", "item_id"], ascending=[False, True]).drop(columns="_total")
        meta = _items_meta(con, dataset, out["item_id"].head(5000).tolist())
    out = out.merge(meta.drop(columns="attrs"), on="item_id", how="left")
    out["title"] = out["title"].where(out["title"].notna() & (out["title"].astype(str) != ""),
                                      out["item_id"])
    return out[["item_id", "title", "category"] + [c for c in out.columns
                                                   if c.startswith(("n_", "share_"))]] \
        .reset_index(drop=True)


def exposure_summary(expo: pd.DataFrame, run_ids: Iterable, n_items: int | None = None) -> pd.DataFrame:
    """Per run, from ``exposure`` output: distinct items recommended, catalogue coverage
    (when ``n_items`` is given) and the share of all list slots taken by the 10 most
    recommended items (how concentrated the run is). DataFrame[run_id, items, coverage, top10_share]."""
    rows = []
    for r in _run_ids(run_ids):
        n = expo[f"n_{r}"] if f"n_{r}" in expo.columns else pd.Series([], dtype="int64")
        n = n[n > 0].sort_values(ascending=False)
        total = n.sum()
        rows.append({"run_id": r, "items": int(len(n)),
                     "coverage": (len(n) / n_items) if n_items else np.nan,
                     "top10_share": float(n.head(10).sum() / total) if total else np.nan})
    return pd.DataFrame(rows)


def exposure_contrast(expo: pd.DataFrame, run_a: int, run_b: int, top: int = 15) -> pd.DataFrame:
    """Items ``run_a`` pushes far more than ``run_b``: largest share_a - share_b first.

    DataFrame[item_id, title, category, share_a, share_b, diff, n_a, n_b] (top rows).
    """
    a, b = int(run_a), int(run_b)
    out = pd.DataFrame({"item_id": expo["item_id"], "title": expo["title"],
                        "category": expo["category"],
                        "share_a": expo[f"share_{a}"], "share_b": expo[f"share_{b}"],
                        "n_a": expo[f"n_{a}"], "n_b": expo[f"n_{b}"]})
    out["diff"] = out["share_a"] - out["share_b"]
    out = out[out["diff"] > 0].sort_values(["diff", "item_id"], ascending=[False, True])
    return out.head(int(top))[["item_id", "title", "category", "share_a", "share_b", "diff",
                               "n_a", "n_b"]].reset_index(drop=True)


def stable_seed(*parts) -> int:
    """A small deterministic integer from text parts (for "surprise me" draws)."""
    return zlib.crc32("|".join(map(str, parts)).encode()) % 1_000_000
