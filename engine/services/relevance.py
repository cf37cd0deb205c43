"""Runs evaluated by relevance type: against all held-out events ("any", the stored
metrics), or only against held-out applications ("apply": test pairs that have an apply
or a hire event, since a hire follows an application) or hires ("hire").

Computed on first request from the run's stored lists and split (so older runs and
imported or re-ranked runs get them too) and kept in ``relevance_metrics`` /
``relevance_user_metrics``. Users without a relevant held-out pair are not evaluated.
"""

from __future__ import annotations

import pandas as pd

from engine.errors import DataError
from engine.store import Store
from engine.store import predictions as SP
from engine.store import runs as store_runs
from engine.store.datasets import items_frame

#: relevance -> the events that make a held-out pair relevant (None: any event).
RELEVANCE = {"any": None, "apply": ("apply", "hire"), "hire": ("hire",)}


def check(relevance: str, dataset: str | None = None, store: Store | None = None) -> str:
    """The relevance name, or a one-sentence error (unknown, or absent from the dataset)."""
    if relevance not in RELEVANCE:
        raise DataError(f"--relevance {relevance!r} is not one of {', '.join(RELEVANCE)}.")
    if RELEVANCE[relevance] and store is not None and dataset is not None:
        have = SP.dataset_events(store, dataset)
        if not set(RELEVANCE[relevance]) & set(have):
            raise DataError(f"--relevance {relevance}: dataset {dataset!r} has no "
                            f"{' or '.join(RELEVANCE[relevance])} events (its events: {', '.join(have)}).")
    return relevance


def ensure(store: Store, run_ids: list[int], relevance: str) -> None:
    """Compute and store the relevance metrics of the runs that lack them."""
    from engine.pipeline import eval_ks, evaluate

    if RELEVANCE.get(relevance) is None:
        return
    done = set(SP.relevance_runs(store, list(run_ids), relevance))
    for rid in run_ids:
        if int(rid) in done:
            continue
        run = store_runs.get_run(store, int(rid))
        if run["status"] != "done" or run["split_id"] is None:
            continue
        train, test = store_runs.load_split(store, run["split_id"])
        pairs = SP.pairs_with_events(store, run["dataset"], list(RELEVANCE[relevance]))
        keep = pd.MultiIndex.from_frame(test[["user_id", "item_id"]]).isin(
            pd.MultiIndex.from_frame(pairs[["user_id", "item_id"]]))
        recs = store_runs.recommendations(store, int(rid))
        k = int(run["k"] or recs["rank"].max() or 10)
        m, um = evaluate(recs, train, test[keep].reset_index(drop=True), items_frame(store, run["dataset"]),
                         eval_ks(k))
        SP.save_relevance_metrics(store, int(rid), relevance, m, um)


def run_metrics(store: Store, run_ids: list[int], relevance: str) -> pd.DataFrame:
    """run_id, metric, k, value under ``relevance`` (computed when missing)."""
    ensure(store, run_ids, relevance)
    return SP.relevance_metrics(store, list(run_ids), relevance)


def user_series(store: Store, run_id: int, relevance: str, metric: str, k: int) -> pd.Series:
    ensure(store, [run_id], relevance)
    return SP.relevance_user_series(store, run_id, relevance, metric, k)
