"""Tuning studies, their trials, and cross-validation fold groups (tables in
``engine/store/tuning_tables.py``). Reads and writes only; JSON columns are decoded
into Python objects by the readers.

Each trial is written in its own short transaction as soon as it ends, so stopping a
study (Ctrl-C) loses nothing already finished.
"""

from __future__ import annotations

import json

import pandas as pd

from engine.errors import NotFound
from engine.store.core import Store
from engine.store.runs import canonical_json
from engine.store.sql import empty, ph

_STUDY_COLUMNS = ("study_id, dataset, algorithm, split_id, objectives, directions, space, fixed, "
                  "seed, status, run_id, created_at, updated_at")
_JSON_STUDY = ("objectives", "directions", "space", "fixed")
TRIAL_COLUMNS = {"study_id": "int64", "number": "int64", "params": "object", "value": "float64",
                 "vals": "object", "state": "object", "intermediate": "object",
                 "seconds": "float64", "error": "object"}


def create_study(store: Store, *, dataset: str, algorithm: str, split_id: int, objectives: list,
                 directions: list, space: dict, fixed: dict, seed: int) -> int:
    with store.transaction() as con:
        study_id = int(con.execute("SELECT nextval('study_id_seq')").fetchone()[0])
        con.execute(f"INSERT INTO studies ({_STUDY_COLUMNS}) VALUES "
                    f"(?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', NULL, current_timestamp, "
                    f"current_timestamp)",
                    [study_id, dataset, algorithm, int(split_id), json.dumps(objectives),
                     json.dumps(directions), canonical_json(space), canonical_json(fixed),
                     int(seed)])
    return study_id


def set_study_status(store: Store, study_id: int, status: str, run_id: int | None = None) -> None:
    with store.transaction() as con:
        con.execute("UPDATE studies SET status = ?, run_id = coalesce(?, run_id), "
                    "updated_at = current_timestamp WHERE study_id = ?",
                    [status, run_id, int(study_id)])


def add_trial(store: Store, study_id: int, number: int, params: dict, values: list | None,
              state: str, intermediate: dict, seconds: float, error: str | None = None) -> None:
    first = None if not values else values[0]
    with store.transaction() as con:
        con.execute("INSERT INTO trials (study_id, number, params, value, vals, state, "
                    "intermediate, seconds, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [int(study_id), int(number), canonical_json(params), first,
                     json.dumps(values), state, canonical_json(intermediate), float(seconds),
                     error])
        con.execute("UPDATE studies SET updated_at = current_timestamp WHERE study_id = ?",
                    [int(study_id)])


def _decode_studies(df: pd.DataFrame) -> pd.DataFrame:
    for col in _JSON_STUDY:
        df[col] = df[col].map(lambda t: json.loads(t) if isinstance(t, str) else None)
    return df


def get_study(store: Store, study_id: int) -> dict:
    df = store.df(f"SELECT {_STUDY_COLUMNS} FROM studies WHERE study_id = ?", [int(study_id)])
    if df.empty:
        known = store.df("SELECT study_id FROM studies ORDER BY study_id")["study_id"].tolist()
        raise NotFound(f"No study {study_id} in the store; "
                       + (f"studies: {', '.join(map(str, known))}." if known else "it has none."))
    return _decode_studies(df).iloc[0].to_dict()


def list_studies(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Studies (newest first) with their trial counts and best first-objective value."""
    where, params = ("WHERE s.dataset = ?", [dataset]) if dataset is not None else ("", [])
    df = store.df(
        f"SELECT s.study_id, s.dataset, s.algorithm, s.split_id, s.objectives, s.directions, "
        f"s.space, s.fixed, s.seed, s.status, s.run_id, s.created_at, s.updated_at, "
        f"count(t.number) AS n_trials, "
        f"count(t.number) FILTER (WHERE t.state = 'COMPLETE') AS n_complete, "
        f"max(t.value) FILTER (WHERE t.state = 'COMPLETE') AS max_value, "
        f"min(t.value) FILTER (WHERE t.state = 'COMPLETE') AS min_value "
        f"FROM studies s LEFT JOIN trials t USING (study_id) {where} "
        f"GROUP BY ALL ORDER BY s.study_id DESC", params)
    return _decode_studies(df)


def trials(store: Store, study_id: int) -> pd.DataFrame:
    """The study's trials in number order; params, vals and intermediate decoded."""
    df = store.df("SELECT study_id, number, params, value, vals, state, intermediate, seconds, "
                  "error FROM trials WHERE study_id = ? ORDER BY number", [int(study_id)])
    if df.empty:
        return empty(TRIAL_COLUMNS)
    for col in ("params", "vals", "intermediate"):
        df[col] = df[col].map(lambda t: json.loads(t) if isinstance(t, str) else None)
    return df


# --------------------------------------------------------------------------- folds

def new_fold_group(store: Store) -> int:
    """The next fold group id. Not a sequence: a nextval with no row written in the same
    transaction is not persisted by DuckDB, so every call would get 1 again."""
    return int(store.scalar("SELECT coalesce(max(fold_group), 0) + 1 FROM fold_runs"))


def add_fold_run(store: Store, run_id: int, fold_group: int, fold: int, n_folds: int,
                 scheme: str) -> None:
    with store.transaction() as con:
        con.execute("INSERT INTO fold_runs VALUES (?, ?, ?, ?, ?)",
                    [int(run_id), int(fold_group), int(fold), int(n_folds), scheme])


def fold_runs(store: Store, run_ids: list | None = None, dataset: str | None = None) -> pd.DataFrame:
    """DataFrame[run_id, fold_group, fold, n_folds, scheme, algorithm, dataset, split_id,
    status] of fold runs (of ``run_ids`` or of ``dataset``)."""
    sql = ("SELECT f.run_id, f.fold_group, f.fold, f.n_folds, f.scheme, r.algorithm, r.dataset, "
           "r.split_id, r.status FROM fold_runs f JOIN runs r USING (run_id) WHERE true")
    params: list = []
    if run_ids is not None:
        ids = [int(r) for r in run_ids]
        if not ids:
            return store.df(sql + " AND false")
        sql += f" AND f.run_id IN ({ph(ids)})"
        params += ids
    if dataset is not None:
        sql += " AND r.dataset = ?"
        params.append(dataset)
    return store.df(sql + " ORDER BY f.fold_group, r.algorithm, f.fold", params)


def fold_metric_values(store: Store, dataset: str, metric: str, k: int) -> pd.DataFrame:
    """DataFrame[run_id, fold_group, fold, n_folds, scheme, algorithm, value]: one summary
    metric of every finished fold run of ``dataset``."""
    return store.df(
        "SELECT f.run_id, f.fold_group, f.fold, f.n_folds, f.scheme, r.algorithm, m.value "
        "FROM fold_runs f JOIN runs r USING (run_id) "
        "LEFT JOIN metrics m ON m.run_id = f.run_id AND m.metric = ? AND m.k = ? "
        "WHERE r.dataset = ? AND r.status = 'done' ORDER BY f.fold_group, r.algorithm, f.fold",
        [metric, int(k), dataset])


def fold_user_values(store: Store, run_ids: list, metric: str, k: int) -> pd.DataFrame:
    """DataFrame[run_id, fold, user_id, value] of fold runs (per-user metric)."""
    ids = [int(r) for r in run_ids]
    if not ids:
        return empty({"run_id": "int64", "fold": "int64", "user_id": "object", "value": "float64"})
    return store.df(
        f"SELECT u.run_id, f.fold, u.user_id, u.value FROM user_metrics u "
        f"JOIN fold_runs f USING (run_id) WHERE u.run_id IN ({ph(ids)}) AND u.metric = ? "
        f"AND u.k = ?", ids + [metric, int(k)])
