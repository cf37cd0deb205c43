"""Train, store and use funnel prediction models (orchestration: read the store,
compute with engine.predict, write back).

``train(store, dataset, target, ...)`` builds the samples and their leakage-free
features, splits them by time (fit / calibration slice / test), fits and calibrates the
model, measures it on the test period against the baselines (the item's and the user's
past rate, which are features already computed without leakage) and, for synthetic data,
against the true probabilities, and stores the model with its test predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.dataset import Dataset
from engine.errors import DataError
from engine.predict import metrics as M
from engine.predict.features import build_features
from engine.predict.model import fit
from engine.predict.oracle import pair_probability
from engine.predict.samples import build_samples, event_times, parse_target, time_split
from engine.store import Store
from engine.store import predictions as store_pred
from engine.store import runs as store_runs
from engine.store.datasets import load_dataset, require_dataset

#: Test rows used for permutation importance (bounded: it re-scores once per feature).
PERMUTATION_ROWS = 20_000


def prepare(ds: Dataset, target_text: str, given: str | None = None, run_scores: pd.DataFrame | None = None,
            seed: int = 0):
    """(samples, features, categorical columns, fit/cal/test masks) of a dataset."""
    target = parse_target(target_text)
    samples = build_samples(ds.interactions, target, given, seed=seed, dataset=ds.name)
    t, _ = event_times(ds.interactions, seed)
    events = pd.DataFrame({"user_id": ds.interactions["user_id"].astype(str).to_numpy(),
                           "item_id": ds.interactions["item_id"].astype(str).to_numpy(), "time": t})
    X, cats = build_features(samples.frame, events, ds.items, ds.users, run_scores)
    masks = time_split(samples.frame["time"].to_numpy())
    return samples, X, cats, masks


def permutation_importance(model, X: pd.DataFrame, y, seed: int = 0, repeats: int = 2) -> dict[str, float]:
    """Drop in test ROC-AUC when one feature's column is shuffled (mean over ``repeats``).
    By hand: scikit-learn's version wants a fitted scikit-learn classifier, and the
    calibrated model here is a small wrapper."""
    rng = np.random.default_rng(seed)
    if len(X) > PERMUTATION_ROWS:
        take = rng.choice(len(X), PERMUTATION_ROWS, replace=False)
        X, y = X.iloc[take].reset_index(drop=True), np.asarray(y)[take]
    base = M.safe_auc(y, model.predict(X))
    out = {}
    for col in X.columns:
        drops = []
        for _ in range(repeats):
            Xp = X.copy()
            Xp[col] = Xp[col].to_numpy()[rng.permutation(len(Xp))]
            drops.append(base - M.safe_auc(y, model.predict(Xp)))
        out[col] = float(np.mean(drops))
    return out


def train(store: Store, dataset: str, target: str, *, given: str | None = None, run_id: int | None = None,
          kind: str = "lightgbm", seed: int = 0) -> dict:
    """Train, measure and store a model; returns the summary the CLI prints (+ ``note``)."""
    require_dataset(store, dataset)
    if kind not in ("lightgbm", "logistic"):
        raise DataError(f"--model {kind!r} is not one of lightgbm, logistic.")
    run_scores = None
    if run_id is not None:
        run = store_runs.get_run(store, run_id)
        if run["dataset"] != dataset:
            raise DataError(f"Run {run_id} belongs to dataset {run['dataset']!r}, not {dataset!r}.")
        run_scores = store_runs.recommendations(store, run_id)
    ds = load_dataset(store, dataset)
    samples, X, cats, (f, c, te) = prepare(ds, target, given, run_scores, seed)
    S = samples.frame
    y = S["label"].to_numpy()
    model = fit(kind, X[f], y[f], X[c], y[c], cats, seed=seed)
    p = model.predict(X[te])
    yt = y[te]
    summ = M.summary(yt, p)
    item_rate, user_rate = X.loc[te, "item_rate"].to_numpy(), X.loc[te, "user_rate"].to_numpy()
    out = {"model_id": None, "target": samples.target.text, "given": samples.given, "kind": kind,
           **{k: summ[k] for k in ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "base_rate")},
           "n_train": int(f.sum() + c.sum()), "n_test": int(te.sum()),
           "baselines": {"item_rate": M.safe_auc(yt, item_rate), "user_rate": M.safe_auc(yt, user_rate)}}
    truth = None
    orc = store_pred.oracle(store, dataset)
    pairs = pair_probability(orc, samples.target.event if not samples.target.is_condition else "", samples.given)
    if pairs is not None:
        idx = pd.MultiIndex.from_arrays([S.loc[te, "user_id"], S.loc[te, "item_id"]])
        truth = pairs.reindex(idx).to_numpy(dtype="float64")
        ok = ~np.isnan(truth)
        out["oracle_roc_auc"] = M.safe_auc(yt[ok], truth[ok])
        out["oracle_ece"] = M.ece(yt[ok], truth[ok])
    test_items = S.loc[te, "item_id"].astype(str)
    items = ds.items.set_index(ds.items["item_id"].astype(str))
    segments = {"activity": M.activity_band(X.loc[te, "user_events"]).to_numpy()}
    if "category" in items.columns:
        segments["category"] = test_items.map(items["category"]).to_numpy()
    for col in ("prefecture", "place"):
        if col in items.columns:
            segments["place"] = test_items.map(items[col]).to_numpy()
            break
    detail = {
        **out,
        "baseline_metrics": {"item_rate": M.summary(yt, item_rate), "user_rate": M.summary(yt, user_rate)},
        "reliability": M.reliability(yt, p).to_dict(orient="list"),
        "lift": M.lift_table(yt, p).to_dict(orient="list"),
        "lift_baselines": {"item_rate": M.lift_table(yt, item_rate).to_dict(orient="list"),
                           "user_rate": M.lift_table(yt, user_rate).to_dict(orient="list")},
        "segments": {name: _segments(yt, p, item_rate, user_rate, seg) for name, seg in segments.items()},
        "note": samples.note,
    }
    gain = model.gain_importance()
    perm = permutation_importance(model, X[te].reset_index(drop=True), yt, seed)
    importance = {col: {"gain": gain.get(col), "permutation": perm.get(col)} for col in model.features}
    preds = pd.DataFrame({"user_id": S.loc[te, "user_id"].to_numpy(), "item_id": test_items.to_numpy(),
                          "label": yt.astype("int64"), "score": p,
                          "ts": pd.to_datetime(S.loc[te, "time"].to_numpy()) if samples.timed else pd.NaT,
                          "oracle": truth if truth is not None else np.nan})
    params = {"target": samples.target.text, "given": samples.given, "kind": kind, "run_id": run_id,
              "seed": seed, "features": model.features, "categorical": model.categorical,
              "timed": samples.timed, "split": {"test": 0.2, "calibration": 0.2}}
    out["model_id"] = store_pred.save_model(
        store, dataset=dataset, target=samples.target.text, given=samples.given, kind=kind, run_id=run_id,
        params=params, metrics=detail, importance=importance, bundle=model, predictions=preds)
    out["note"] = samples.note
    return out


def _segments(y, p, item_rate, user_rate, seg) -> dict:
    df = M.segment_auc(y, p, pd.Series(seg))
    df["item_rate"] = M.segment_auc(y, item_rate, pd.Series(seg))["roc_auc"].to_numpy()
    df["user_rate"] = M.segment_auc(y, user_rate, pd.Series(seg))["roc_auc"].to_numpy()
    return df.to_dict(orient="list")


def models(store: Store, dataset: str | None = None) -> list[dict]:
    """One summary per stored model (what `recscope predict models --json` prints)."""
    if dataset:
        require_dataset(store, dataset)
    df = store_pred.list_models(store, dataset)
    keys = ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "base_rate", "n_train", "n_test",
            "baselines", "oracle_roc_auc", "oracle_ece")
    return [{"model_id": int(r.model_id), "dataset": r.dataset, "target": r.target, "given": r.given,
             "kind": r.kind, "run_id": None if pd.isna(r.run_id) else int(r.run_id),
             **{k: r.metrics[k] for k in keys if k in r.metrics},
             "created_at": r.created_at} for r in df.itertuples()]
