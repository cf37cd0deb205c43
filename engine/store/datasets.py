"""Datasets in the store: save (transactionally), list, load back."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from engine.data.dataset import ITEM_COLUMNS, REVIEW_COLUMNS, USER_COLUMNS, Dataset
from engine.errors import DataError, NotFound
from engine.store import runs as store_runs
from engine.store.core import Store
from engine.validate import check_name


def _attrs_json(df: pd.DataFrame, fixed: list[str]) -> pd.Series:
    extra = [c for c in df.columns if c not in fixed]
    if not extra:
        return pd.Series([None] * len(df), index=df.index, dtype=object)

    def clean(v):
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (np.floating,)):
            return None if np.isnan(v) else float(v)
        if isinstance(v, float) and np.isnan(v):
            return None
        if isinstance(v, pd.Timestamp):
            return v.isoformat()
        if v is pd.NA or v is pd.NaT:
            return None
        return v

    records = df[extra].to_dict(orient="records")
    return pd.Series([json.dumps({k: clean(v) for k, v in r.items()}, ensure_ascii=False)
                      for r in records], index=df.index, dtype=object)


def dataset_exists(store: Store, name: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM datasets WHERE name = ?", [name]))


def save_dataset(store: Store, ds: Dataset, replace: bool = False) -> None:
    """Write a dataset in one transaction. Refuses an existing name unless ``replace``."""
    if not ds.name or not ds.name.strip():
        raise DataError("A dataset needs a non-empty --name.")
    check_name(ds.name, "A dataset name")  # no newlines / terminal escapes
    users = pd.DataFrame({"user_id": ds.users["user_id"], "attrs": _attrs_json(ds.users, USER_COLUMNS)})
    items = ds.items[ITEM_COLUMNS].copy()
    items["attrs"] = _attrs_json(ds.items, ITEM_COLUMNS)
    inter = ds.interactions.rename(columns={"timestamp": "ts"})
    with store.transaction() as con:
        exists = con.execute("SELECT count(*) FROM datasets WHERE name = ?", [ds.name]).fetchone()[0]
        if exists and not replace:
            raise DataError(f"A dataset named {ds.name!r} is already in the store; "
                            f"choose another --name or pass --replace.")
        if exists:
            _delete_dataset(con, ds.name)
        con.execute(
            "INSERT INTO datasets (name, source, n_users, n_items, n_interactions, n_reviews, info) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [ds.name, ds.source, ds.n_users, ds.n_items, ds.n_interactions, ds.n_reviews,
             json.dumps(ds.info, ensure_ascii=False, default=str)])
        con.register("_users", users)
        con.execute("INSERT INTO users SELECT ?, user_id, attrs FROM _users", [ds.name])
        con.register("_items", items)
        con.execute("INSERT INTO items SELECT ?, item_id, title, category, attrs FROM _items", [ds.name])
        con.register("_inter", inter)
        con.execute("INSERT INTO interactions SELECT ?, user_id, item_id, ts, event, weight "
                    "FROM _inter ORDER BY user_id, ts", [ds.name])
        if ds.reviews is not None and len(ds.reviews):
            _insert_reviews(con, ds.name, ds.reviews)
        if ds.oracle is not None and len(ds.oracle):
            con.register("_oracle", ds.oracle)
            con.execute("INSERT INTO oracle SELECT ?, user_id, item_id, time, p_apply, p_hire "
                        "FROM _oracle", [ds.name])
            con.unregister("_oracle")
        for t in ("_users", "_items", "_inter"):
            con.unregister(t)


def _insert_reviews(con, dataset: str, reviews: pd.DataFrame) -> None:
    rv = reviews[REVIEW_COLUMNS].copy()
    rv["label"] = rv["label"].astype("float64")
    rv["attrs"] = _attrs_json(reviews, REVIEW_COLUMNS)
    con.register("_reviews", rv)
    con.execute("INSERT INTO reviews SELECT ?, review_id, text, CAST(label AS INTEGER), company, "
                "user_id, created_at, attrs FROM _reviews", [dataset])
    con.unregister("_reviews")


#: The positive class of a reviews dataset when none was named at import (the demo's).
DEFAULT_POSITIVE_NAME = "meaningless"


def save_reviews(store: Store, name: str, reviews: pd.DataFrame, source: str = "",
                 replace: bool = False, info: dict | None = None,
                 positive_name: str | None = None) -> None:
    """Write a reviews-only dataset (or add reviews to an existing one when ``replace``).

    ``positive_name`` names the class of label 1 ("deceptive", "spam"); None stores
    nothing and readers fall back to DEFAULT_POSITIVE_NAME."""

    check_name(name, "A dataset name")  # no newlines / terminal escapes
    with store.transaction() as con:
        exists = con.execute("SELECT count(*) FROM datasets WHERE name = ?", [name]).fetchone()[0]
        if exists and not replace:
            raise DataError(f"A dataset named {name!r} is already in the store; "
                            f"choose another --name or pass --replace.")
        if exists:
            _delete_dataset(con, name)
        con.execute(
            "INSERT INTO datasets (name, source, n_users, n_items, n_interactions, n_reviews, info, "
            "positive_name) VALUES (?, ?, 0, 0, 0, ?, ?, ?)",
            [name, source, int(len(reviews)), json.dumps(info or {}, ensure_ascii=False, default=str),
             positive_name])
        _insert_reviews(con, name, reviews)


def _delete_dataset(con, name: str) -> None:
    """Remove a dataset and everything derived from it (inside the caller's transaction)."""
    for table in ("users", "items", "interactions", "reviews", "oracle"):
        con.execute(f"DELETE FROM {table} WHERE dataset = ?", [name])
    con.execute("DELETE FROM predictions WHERE model_id IN "
                "(SELECT model_id FROM prediction_models WHERE dataset = ?)", [name])
    con.execute("DELETE FROM prediction_models WHERE dataset = ?", [name])
    # review models and their scores belong to the old reviews; human labels are kept
    # (append-only history, matched to reviews by id if the same reviews come back)
    con.execute("DELETE FROM review_scores WHERE model_id IN "
                "(SELECT model_id FROM review_models WHERE dataset = ?)", [name])
    # ... and scores that another dataset's model gave these reviews (`reviews score --model`)
    con.execute("DELETE FROM review_scores WHERE dataset = ?", [name])
    con.execute("DELETE FROM review_model_artifacts WHERE model_id IN "
                "(SELECT model_id FROM review_models WHERE dataset = ?)", [name])
    con.execute("DELETE FROM review_models WHERE dataset = ?", [name])
    for table in ("review_batch_members", "review_batches"):
        con.execute(f"DELETE FROM {table} WHERE dataset = ?", [name])
    run_ids = "SELECT run_id FROM runs WHERE dataset = ?"
    for table in store_runs.RUN_OUTPUT_TABLES:
        con.execute(f"DELETE FROM {table} WHERE run_id IN ({run_ids})", [name])
    con.execute("DELETE FROM runs WHERE dataset = ?", [name])
    con.execute("DELETE FROM splits WHERE split_id IN (SELECT split_id FROM split_defs WHERE dataset = ?)", [name])
    con.execute("DELETE FROM split_defs WHERE dataset = ?", [name])
    con.execute("DELETE FROM datasets WHERE name = ?", [name])


def dataset_footprint(store: Store, name: str) -> dict:
    """What replacing dataset ``name`` would drop: its run ids, review model count, and
    (experiment_id, name, arms JSON) of every bandit experiment; {} if there is no such
    dataset. (Which experiments use its runs is for the caller to read from the arms.)"""
    if not store.path.exists() or not dataset_exists(store, name):
        return {}
    with store.connect() as con:
        runs = [r[0] for r in con.execute("SELECT run_id FROM runs WHERE dataset = ? "
                                          "ORDER BY run_id", [name]).fetchall()]
        models = con.execute("SELECT count(*) FROM review_models WHERE dataset = ?",
                             [name]).fetchone()[0]
        exps = con.execute("SELECT experiment_id, name, arms FROM bandit_experiments "
                           "ORDER BY experiment_id").fetchall()
    return {"run_ids": runs, "n_review_models": int(models), "experiments": exps}


def list_datasets(store: Store) -> pd.DataFrame:
    """One row per dataset: name, source, created_at, n_users, n_items, n_interactions, n_reviews."""
    return store.df("SELECT name, source, created_at, n_users, n_items, n_interactions, n_reviews "
                    "FROM datasets ORDER BY created_at, name")


def positive_name(store: Store, name: str) -> str:
    """The name of the dataset's positive review class (DEFAULT_POSITIVE_NAME if none)."""
    value = store.scalar("SELECT positive_name FROM datasets WHERE name = ?", [name])
    return value or DEFAULT_POSITIVE_NAME


def require_dataset(store: Store, name: str) -> None:
    if not dataset_exists(store, name):
        known = list_datasets(store)["name"].tolist()
        hint = f" Known datasets: {', '.join(known)}." if known else " The store has no datasets yet."
        raise NotFound(f"There is no dataset named {name!r} in {store.path}.{hint}")


def _expand_attrs(df: pd.DataFrame) -> pd.DataFrame:
    if "attrs" not in df.columns:
        return df
    parsed = [json.loads(a) if a else {} for a in df["attrs"]]
    extra = pd.DataFrame(parsed, index=df.index)
    return pd.concat([df.drop(columns=["attrs"]), extra], axis=1)


def load_dataset(store: Store, name: str) -> Dataset:
    """Read a whole dataset back from the store."""
    require_dataset(store, name)
    with store.connect() as con:
        src = con.execute("SELECT source, info FROM datasets WHERE name = ?", [name]).fetchone()
        inter = con.execute("SELECT user_id, item_id, ts AS timestamp, event, weight FROM interactions "
                            "WHERE dataset = ?", [name]).df()
        users = con.execute("SELECT user_id, attrs FROM users WHERE dataset = ?", [name]).df()
        items = con.execute("SELECT item_id, title, category, attrs FROM items WHERE dataset = ?", [name]).df()
        reviews = con.execute("SELECT review_id, text, label, company, user_id, created_at FROM reviews "
                              "WHERE dataset = ?", [name]).df()
    return Dataset(name=name, interactions=inter, users=_expand_attrs(users), items=_expand_attrs(items),
                   reviews=reviews if len(reviews) else None, source=src[0] or "",
                   info=json.loads(src[1]) if src[1] else {})


def items_frame(store: Store, dataset: str, item_ids: list[str] | None = None) -> pd.DataFrame:
    """Items with their display metadata expanded into columns (all, or those listed)."""
    if item_ids is None:
        df = store.df("SELECT item_id, title, category, attrs FROM items WHERE dataset = ?", [dataset])
    else:
        with store.connect() as con:
            con.register("_ids", pd.DataFrame({"item_id": pd.Series(list(item_ids), dtype=object)}))
            df = con.execute("SELECT i.item_id, i.title, i.category, i.attrs FROM items i "
                             "JOIN _ids USING (item_id) WHERE i.dataset = ?", [dataset]).df()
    return _expand_attrs(df)


def dataset_checksum(store: Store, name: str) -> str | None:
    """The content checksum an experiment file recorded in the dataset's info (None when
    the dataset is absent or was imported another way)."""
    return store.scalar("SELECT json_extract_string(info, '$.content_checksum') FROM datasets "
                        "WHERE name = ?", [name])
