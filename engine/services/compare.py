"""The Compare page's reads: store readers combined with the computation in
``engine.evaluate.compare`` (marks, overlaps, disagreement, exposure) and
``engine.recommend.explain`` (ALS explanations). The viewer calls this module only; it
re-exports the plain readers and pure functions the page uses, so one name space serves it.

The per-user reads (``user_view``, ``model_drivers``) share one connection
(``Store.session``): opening the file costs more than a pruned per-user query. The
all-user views (``disagreement``, ``exposure``) scan whole runs; the viewer caches them
and computes them only when their tab is open.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

import pandas as pd

from engine.evaluate.compare import (  # noqa: F401  (re-exported for the viewer)
    RBO_P, disagreement_table, exposure_contrast, exposure_summary, exposure_table, mark_lists,
    pair_overlaps, stable_seed, with_titles)
from engine.recommend import registry
from engine.recommend.explain import als_explain
from engine.recommend.matrix import row_weights
from engine.store.core import Session, Store
from engine.store.interactions import search_users, user_exists, user_history  # noqa: F401
from engine.store.items import items_meta
from engine.store.metrics import metric_values, stored_user_metrics, user_metric_values  # noqa: F401
from engine.store.recommendations import (  # noqa: F401
    exposure_counts, n_listed_users, random_user, top_lists, user_lists)
from engine.store.runs import get_run, item_factors, runs_info
from engine.store.splits import drivers, user_test_items, user_train_rows  # noqa: F401
from engine.store.sql import empty, run_ids, sample_threshold


def user_view(store: Store, dataset: str, run_ids_: Iterable, user_id: str, k: int,
              history_limit: int = 20) -> dict:
    """Everything the Compare page shows for one user, from per-user queries only.

    Keys: history (DataFrame), n_history (int), lists (``mark_lists`` output), tests
    (``user_test_items``), metrics (``user_metric_values``), overlaps (``pair_overlaps``),
    missing_runs (run ids with no list for this user).
    """
    ids = run_ids(run_ids_)
    with store.session() as s, ThreadPoolExecutor(1) as pool:
        # The per-user metrics are stored by (run, metric, k, user), so one user's rows
        # sit in a row group per (metric, k): the costliest of these reads. It runs on a
        # second cursor of the same connection while the others run (DuckDB releases
        # the GIL while it scans).
        cur = s.con.cursor()
        try:
            metrics_f = pool.submit(user_metric_values, Session(s, cur), ids, user_id)
            info = runs_info(s, ids)
            run_split = {int(r): (None if pd.isna(sp) else int(sp))
                         for r, sp in zip(info["run_id"], info["split_id"])}
            splits = [sp for sp in run_split.values() if sp is not None]
            lists = user_lists(s, dataset, ids, user_id, k)
            tests = user_test_items(s, dataset, splits, user_id)
            history, n_history = user_history(s, dataset, user_id,
                                              splits[0] if splits else None, history_limit)
            metrics = metrics_f.result()
        finally:
            cur.close()
    lists = mark_lists(lists, tests, run_split)
    present = set(lists["run_id"].astype(int))
    return {
        "history": history, "n_history": n_history, "lists": lists, "tests": tests,
        "metrics": metrics, "overlaps": pair_overlaps(lists, ids),
        "missing_runs": [r for r in ids if r not in present],
    }


def model_drivers(store: Store, dataset: str, run_id: int, user_id: str, item_ids: Iterable,
                  n: int = 1) -> pd.DataFrame | None:
    """For each listed item, the ``n`` history items that contribute most to its score in
    the ALS run's own model (implicit's explain on the run's stored item factors and the
    user's training row, weighted as the run weighted it; see engine.recommend.explain).

    DataFrame[item_id, driver_id, contribution, score, driver_title], largest contribution
    first per item; ``score`` is the item's score under the user's re-solved factors (the
    sum of all history contributions). None when the run kept no item factors (other
    algorithms, imported runs, ALS runs trained before factors were kept): the caller
    then falls back to ``drivers``.
    """
    cols = {"item_id": "object", "driver_id": "object", "contribution": "float64",
            "score": "float64", "driver_title": "object"}
    recs = sorted({str(i) for i in item_ids})
    with store.session() as s:
        info = runs_info(s, [run_id])
        if info.empty or pd.isna(info["split_id"].iloc[0]) \
                or not registry.explains(info["algorithm"].iloc[0]):
            return None
        kept = item_factors(s, int(run_id))
        if kept is None:
            return None
        if not recs:
            return empty(cols)
        params = get_run(s, int(run_id))["params"]
        # the user's row of the training matrix: the split's train rows (already the
        # positives when the run used --min-weight), weighted by the run's event weights
        train = user_train_rows(s, int(info["split_id"].iloc[0]), user_id)
        weights = row_weights(train, params.get("event_weights"))
        explained = als_explain(kept[0], kept[1], params, train["item_id"].tolist(), weights,
                                recs, n=int(n))
        out = pd.DataFrame([{"item_id": rec, "driver_id": d, "contribution": c, "score": score}
                            for rec, (score, contrib) in explained.items() for d, c in contrib],
                           columns=list(cols)[:-1])
        if out.empty:
            return empty(cols)
        meta = items_meta(s, dataset, out["driver_id"].tolist())
    titles = dict(zip(meta["item_id"], meta["title"]))
    out["driver_title"] = [titles.get(d) or d for d in out["driver_id"]]
    return out.astype({"contribution": "float64", "score": "float64"})[list(cols)] \
        .reset_index(drop=True)


def disagreement(store: Store, run_a: int, run_b: int, k: int, metric: str = "ndcg",
                 p: float = RBO_P, max_users: int | None = 100_000) -> pd.DataFrame:
    """Per user in both runs: how much their top-``k`` lists disagree, most first
    (``engine.evaluate.compare.disagreement_table``; metric_diff = B - A of the stored
    per-user ``metric``@``k``, nan when the runs did not store it).

    Reads both runs' whole lists: call it cached, on demand. When run A lists more than
    ``max_users`` users, a fixed pseudo-random sample of about ``max_users`` of them
    (by a hash of the user id, the same for both runs) is compared instead, and
    ``result.attrs["sampled_from"]`` holds the number of users run A lists.
    """
    a, b = int(run_a), int(run_b)
    with store.session() as s:
        n_a = n_listed_users(s, a)
        sample = sample_threshold(max_users, n_a) \
            if max_users is not None and n_a > int(max_users) else None
        ra, rb = top_lists(s, a, k, sample), top_lists(s, b, k, sample)
        ma, mb = metric_values(s, a, metric, k, sample), metric_values(s, b, metric, k, sample)
    out = disagreement_table(ra, rb, ma, mb, k=int(k), p=p)
    if sample is not None:
        out.attrs["sampled_from"] = int(n_a)
    return out


def exposure(store: Store, dataset: str, run_ids_: Iterable, k: int) -> pd.DataFrame:
    """How often each item is recommended in each run's top-``k`` across all users.

    Wide DataFrame[item_id, title, category, n_<run>, share_<run> for each run, ...]:
    n = users whose top-k holds the item, share = n / users with a list in that run.
    Sorted by total exposure. One GROUP BY over the runs' rows: call it cached, on demand.
    Titles are read for the 5000 most exposed items (the others show their id).
    """
    ids = run_ids(run_ids_)
    base = {"item_id": "object", "title": "object", "category": "object"}
    if not ids:
        return empty(base)
    with store.session() as s:
        counts, n_users = exposure_counts(s, ids, k)
        wide = exposure_table(counts, n_users, ids)
        if wide.empty:
            out = empty(base)
            for c in wide.columns[1:]:
                out[c] = wide[c]
            return out
        meta = items_meta(s, dataset, wide["item_id"].head(5000).tolist())
    return with_titles(wide, meta)
