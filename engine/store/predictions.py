"""Readers and writers of the funnel-prediction tables (``oracle``, ``prediction_models``,
``predictions``; see engine/store/predict_tables.py). Only SQL; no computation."""

from __future__ import annotations

import json
import pickle

import pandas as pd

from engine.errors import NotFound
from engine.store.core import Store


def oracle(store: Store, dataset: str) -> pd.DataFrame:
    """The dataset's true per-view probabilities: user_id, item_id, time, p_apply, p_hire
    (empty when the dataset has none)."""
    return store.df("SELECT user_id, item_id, time, p_apply, p_hire FROM oracle WHERE dataset = ?",
                    [dataset])


def save_model(store: Store, *, dataset: str, target: str, given: str, kind: str, run_id: int | None,
               params: dict, metrics: dict, importance: dict, bundle, predictions: pd.DataFrame) -> int:
    """Insert a model and its test-period predictions in one transaction; its new id."""
    blob = pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)
    pred = predictions[["user_id", "item_id", "label", "score", "ts", "oracle"]].copy()
    with store.transaction() as con:
        model_id = int(con.execute("SELECT nextval('prediction_model_id_seq')").fetchall()[0][0])
        con.execute("INSERT INTO prediction_models (model_id, dataset, target, given, kind, run_id, "
                    "params, metrics, importance, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [model_id, dataset, target, given, kind, run_id, json.dumps(params, default=str),
                     json.dumps(metrics, default=_nan_none), json.dumps(importance, default=_nan_none),
                     blob])
        con.register("_pred", pred)
        con.execute("INSERT INTO predictions SELECT ?, user_id, item_id, CAST(label AS INTEGER), score, "
                    "ts, oracle FROM _pred", [model_id])
        con.unregister("_pred")
    return model_id


def _nan_none(o):
    try:
        return float(o)
    except (TypeError, ValueError):
        return str(o)


def list_models(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """model_id, dataset, target, given, kind, run_id, params, metrics, importance,
    created_at (JSON columns parsed), newest last."""
    where, params = ("WHERE dataset = ?", [dataset]) if dataset else ("", [])
    df = store.df(f"SELECT model_id, dataset, target, given, kind, run_id, params, metrics, importance, "
                  f"created_at FROM prediction_models {where} ORDER BY model_id", params)
    for c in ("params", "metrics", "importance"):
        df[c] = [json.loads(v) if v else {} for v in df[c]]
    return df


def get_model(store: Store, model_id: int) -> dict:
    """One model's row (JSON parsed) plus ``bundle``: the unpickled model."""
    with store.connect() as con:
        row = con.execute("SELECT model_id, dataset, target, given, kind, run_id, params, metrics, "
                          "importance, model, created_at FROM prediction_models WHERE model_id = ?",
                          [int(model_id)]).fetchone()
    if row is None:
        raise NotFound(f"There is no prediction model {model_id} in {store.path}; "
                       f"`recscope predict models` lists them.")
    keys = ["model_id", "dataset", "target", "given", "kind", "run_id", "params", "metrics",
            "importance", "model", "created_at"]
    out = dict(zip(keys, row))
    for c in ("params", "metrics", "importance"):
        out[c] = json.loads(out[c]) if out[c] else {}
    out["bundle"] = pickle.loads(out.pop("model"))
    return out


def predictions(store: Store, model_id: int) -> pd.DataFrame:
    """A model's stored test predictions: user_id, item_id, label, score, ts, oracle."""
    return store.df("SELECT user_id, item_id, label, score, ts, oracle FROM predictions "
                    "WHERE model_id = ? ORDER BY ts, user_id, item_id", [int(model_id)])


# ------------------------------------------------------------------ relevance metrics

def pairs_with_events(store: Store, dataset: str, events: list[str]) -> pd.DataFrame:
    """Distinct (user_id, item_id) pairs of the dataset with any of ``events``."""
    ph = ", ".join("?" for _ in events)
    return store.df(f"SELECT DISTINCT user_id, item_id FROM interactions WHERE dataset = ? "
                    f"AND event IN ({ph})", [dataset, *events])


def dataset_events(store: Store, dataset: str) -> list[str]:
    return store.df("SELECT DISTINCT event FROM interactions WHERE dataset = ? ORDER BY event",
                    [dataset])["event"].astype(str).tolist()


def relevance_runs(store: Store, run_ids: list[int], relevance: str) -> list[int]:
    """Which of the runs already have metrics for ``relevance``."""
    if not run_ids:
        return []
    ph = ", ".join("?" for _ in run_ids)
    return store.df(f"SELECT DISTINCT run_id FROM relevance_metrics WHERE relevance = ? AND run_id IN ({ph})",
                    [relevance, *[int(r) for r in run_ids]])["run_id"].astype(int).tolist()


def save_relevance_metrics(store: Store, run_id: int, relevance: str, metrics: pd.DataFrame,
                           user_metrics: pd.DataFrame) -> None:
    with store.transaction() as con:
        con.execute("DELETE FROM relevance_metrics WHERE run_id = ? AND relevance = ?", [int(run_id), relevance])
        con.execute("DELETE FROM relevance_user_metrics WHERE run_id = ? AND relevance = ?",
                    [int(run_id), relevance])
        con.register("_m", metrics[["metric", "k", "value"]])
        con.execute("INSERT INTO relevance_metrics SELECT ?, ?, metric, k, value FROM _m", [int(run_id), relevance])
        con.register("_um", user_metrics[["user_id", "metric", "k", "value"]])
        con.execute("INSERT INTO relevance_user_metrics SELECT ?, ?, user_id, metric, k, value FROM _um "
                    "ORDER BY metric, k, user_id", [int(run_id), relevance])
        con.unregister("_m")
        con.unregister("_um")


def relevance_metrics(store: Store, run_ids: list[int], relevance: str) -> pd.DataFrame:
    """run_id, metric, k, value of the runs under ``relevance``."""
    if not run_ids:
        return pd.DataFrame({"run_id": [], "metric": [], "k": [], "value": []})
    ph = ", ".join("?" for _ in run_ids)
    return store.df(f"SELECT run_id, metric, k, value FROM relevance_metrics WHERE relevance = ? "
                    f"AND run_id IN ({ph}) ORDER BY run_id, metric, k", [relevance, *[int(r) for r in run_ids]])


def relevance_user_series(store: Store, run_id: int, relevance: str, metric: str, k: int) -> pd.Series:
    df = store.df("SELECT user_id, value FROM relevance_user_metrics WHERE run_id = ? AND relevance = ? "
                  "AND metric = ? AND k = ? ORDER BY user_id", [int(run_id), relevance, metric, int(k)])
    return pd.Series(df["value"].to_numpy(dtype="float64"),
                     index=pd.Index(df["user_id"].astype(object), name="user_id"), name=f"{metric}@{int(k)}")
