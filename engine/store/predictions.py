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
