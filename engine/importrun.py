"""Imported runs: the top-K lists of a system outside recscope, evaluated like any run.

A file (CSV/TSV or Parquet) has one row per recommended item with the columns
``user_id``, ``item_id`` and ``rank`` (1 = best) or ``score`` (higher = better; ranks are
then derived from it). Ids must be ids of the dataset. The lists are evaluated on a
stored split of the dataset exactly like a trained run, so a production system can be
compared with a candidate (``recscope compare``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.loaders import ids_as_text, read_table, require_columns
from engine.errors import DataError
from engine.services.health import check as health_check
from engine.pipeline import _reason, code_version, ensure_split, eval_ks, evaluate
from engine.store import Store
from engine.store import runs as store_runs
from engine.store.datasets import items_frame, require_dataset
from engine.validate import BOUNDS, check_int, check_name


def _examples(values, n: int = 3) -> str:
    vals = list(dict.fromkeys(values))
    shown = ", ".join(repr(v) for v in vals[:n])
    return shown + (", ..." if len(vals) > n else "")


def _number(s: pd.Series, path: Path, col: str) -> pd.Series:
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() | ~np.isfinite(num.astype("float64"))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise DataError(f"{path} row {row} has {s.iloc[row - 1]!r} in column {col!r}; "
                        f"expected a number.")
    return num.astype("float64")


def read_lists(file, k: int | None = None) -> pd.DataFrame:
    """Read and check a lists file -> recs frame [user_id, rank, item_id, score], ranks 1..n.

    With ``rank``: each user's rows are ordered by it (ranks need not be contiguous but
    must not repeat). Without it: by ``score`` descending, ties by item id. ``k`` keeps
    each user's first k items.
    """
    path = Path(file)
    df = read_table(path)
    require_columns(df, path, {"user_id": "user_id", "item_id": "item_id"},
                    extra_hint="; expected user_id, item_id and rank or score")
    if "rank" not in df.columns and "score" not in df.columns:
        raise DataError(f"{path} has neither a 'rank' nor a 'score' column; expected one of them "
                        f"to order each user's list.")
    out = pd.DataFrame({"user_id": ids_as_text(df["user_id"], path, "user_id", "user id").to_numpy(),
                        "item_id": ids_as_text(df["item_id"], path, "item_id", "item id").to_numpy()})
    out["score"] = _number(df["score"], path, "score") if "score" in df.columns else np.nan
    if "rank" in df.columns:
        rank = _number(df["rank"], path, "rank")
        bad = (rank < 1) | (rank != np.floor(rank))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise DataError(f"{path} row {row} has rank {df['rank'].iloc[row - 1]!r}; ranks are "
                            f"whole numbers from 1.")
        out["_order"] = rank
        dup = out.duplicated(["user_id", "_order"])
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
            raise DataError(f"{path} row {row} repeats rank {int(out['_order'].iloc[row - 1])} "
                            f"for user {out['user_id'].iloc[row - 1]!r}; each rank appears once "
                            f"per user.")
        out = out.sort_values(["user_id", "_order"], kind="stable")
    else:
        out = out.sort_values(["user_id", "score", "item_id"], ascending=[True, False, True],
                              kind="stable")
    dup = out.duplicated(["user_id", "item_id"])
    if dup.any():
        first = out[dup].iloc[0]
        raise DataError(f"{path} lists item {first['item_id']!r} more than once for user "
                        f"{first['user_id']!r}; each item appears once per user.")
    out["rank"] = out.groupby("user_id", sort=False).cumcount().astype(np.int32) + 1
    if k is not None:
        if int(k) < 1:
            raise DataError(f"--k must be at least 1; got {k}.")
        out = out[out["rank"] <= int(k)]
    return out[["user_id", "rank", "item_id", "score"]].reset_index(drop=True)


def _check_ids(store: Store, dataset: str, recs: pd.DataFrame, path: Path) -> None:
    for what, col in (("user", "user_id"), ("item", "item_id")):
        unknown = store_runs.unknown_ids(store, dataset, what, pd.unique(recs[col]))
        if unknown:
            raise DataError(f"{path} names {len(unknown):,} {what}(s) that dataset {dataset!r} does "
                            f"not have, e.g. {_examples(unknown)}; ids must be the dataset's own "
                            f"{what} ids.")


def import_run(store: Store, file, dataset: str, name: str, *, split_id: int | None = None,
               k: int | None = None) -> int:
    """Read, check, evaluate and store a file of top-K lists as a run; return its run_id.

    ``split_id`` defaults to the dataset's latest split (the default split is made when
    the dataset has none). source='imported', algorithm = ``name``.
    """
    path = Path(file)
    if not name or not str(name).strip():
        raise DataError("An imported run needs a non-empty --name.")
    check_name(name, "An imported run's --name")
    if k is not None:
        k = check_int(k, "--k", None, BOUNDS["k"][1])  # rows and metrics grow with k
    require_dataset(store, dataset)
    recs = read_lists(path, k)
    longest = int(recs["rank"].max()) if len(recs) else 0
    if longest > BOUNDS["k"][1]:
        raise DataError(f"{path} holds lists of up to {longest:,} items; at most "
                        f"{BOUNDS['k'][1]:,} are evaluated, so keep each user's first K with --k.")
    _check_ids(store, dataset, recs, path)
    if split_id is None:
        split_id = store_runs.latest_split_id(store, dataset)
    if split_id is None:
        split_id, train, test = ensure_split(store, dataset)
    else:
        split = store_runs.get_split(store, split_id)
        if split["dataset"] != dataset:
            raise DataError(f"Split {split_id} belongs to dataset {split['dataset']!r}, not "
                            f"{dataset!r}; pass a --split-id of {dataset!r}.")
        train, test = store_runs.load_split(store, split_id)
    list_len = int(recs["rank"].max())
    ks = eval_ks(list_len if k is None else k)
    n_items = int(train["item_id"].nunique())
    run_id = store_runs.create_run(store, dataset=dataset, split_id=split_id, algorithm=name,
                                   name=name, params={"file": str(path.resolve()),
                                           "users_listed": int(recs["user_id"].nunique())},
                                   source="imported", k=list_len, code_version=code_version())
    try:
        t0 = time.perf_counter()
        # evaluate the lists of the split's test users; the stored run keeps every list
        evaluated = recs[recs["user_id"].isin(set(test["user_id"]))]
        metrics, per_user = evaluate(evaluated, train, test, items_frame(store, dataset), ks,
                                     n_items=n_items)
        health = health_check(store, split_id=split_id, train=train, test=test, algorithm=name,
                              recs=evaluated, per_user=per_user, n_items=n_items,
                              n_test_users=int(test["user_id"].nunique()))
        eval_s = time.perf_counter() - t0
        store_runs.finish_run(store, run_id, recs=recs, metrics=metrics, user_metrics=per_user,
                              evaluate_seconds=eval_s, warnings=health,
                              # like a trained run: the users evaluated (the split's test
                              # users; one without a list scores 0), not the users listed
                              n_users=int(test["user_id"].nunique()))
    except BaseException as exc:
        store_runs.fail_run(store, run_id, _reason(name, exc))
        raise
    return run_id
