"""Train, store and use funnel prediction models (orchestration: read the store,
compute with engine.predict, write back).

``train(store, dataset, target, ...)`` builds the samples and their leakage-free
features, splits them by time (fit / calibration slice / test), fits and calibrates the
model, measures it on the test period against the baselines (the item's and the user's
past rate, which are features already computed without leakage) and, for synthetic data,
against the true probabilities, and stores the model with its test predictions.
"""

from __future__ import annotations

import json

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
PERMUTATION_ROWS = 10_000


def prepare(ds: Dataset, target_text: str, given: str | None = None, run_scores: pd.DataFrame | None = None,
            seed: int = 0, horizon_days: float | None = None):
    """(samples, features, categorical columns, fit/cal/test masks) of a dataset."""
    target = parse_target(target_text)
    samples = build_samples(ds.interactions, target, given, seed=seed, dataset=ds.name,
                            horizon_days=horizon_days)
    t, _ = event_times(ds.interactions, seed)
    X, cats = build_features(samples.frame, _events(ds.interactions, t), ds.items, ds.users, run_scores,
                             given=samples.given)
    masks = time_split(samples.frame["time"].to_numpy())
    if samples.timed and not samples.target.is_condition:
        # Outcomes need time to happen (a hire comes days after the application): test
        # samples too close to the data's end, by the 95th percentile of the outcome lag
        # in the training period, are left out (their label is not known yet).
        S = samples.frame
        lag = (S["target_time"] - S["time"])[(S["label"] == 1).to_numpy() & ~masks[2]]
        # With a horizon, exactly the horizon (a sample needs it all to be judged).
        wait = horizon_days * 86_400e9 if horizon_days is not None else (np.quantile(lag, 0.95) if len(lag) else 0)
        mature = S["time"].to_numpy() <= int(t.max()) - int(wait)
        if (masks[2] & mature).sum() >= 100:
            masks = (masks[0], masks[1], masks[2] & mature)
            samples.maturity_days = float(wait / 86_400e9)
    return samples, X, cats, masks


def _events(inter: pd.DataFrame, t: np.ndarray) -> pd.DataFrame:
    """Every event as build_features wants it: user_id, item_id, time (int64 ns), event."""
    return pd.DataFrame({"user_id": inter["user_id"].astype(str).to_numpy(),
                         "item_id": inter["item_id"].astype(str).to_numpy(), "time": t,
                         "event": inter["event"].astype(str).to_numpy()})


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
          kind: str = "lightgbm", seed: int = 0, horizon_days: float | None = None) -> dict:
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
    samples, X, cats, (f, c, te) = prepare(ds, target, given, run_scores, seed, horizon_days)
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
    pairs = pair_probability(orc, samples.target.event if not samples.target.is_condition else "", samples.given,
                             horizon_days)
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
              "timed": samples.timed, "split": {"test": 0.2, "calibration": 0.2},
              "maturity_days": samples.maturity_days, "horizon_days": horizon_days}
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


# ------------------------------------------------------------------------- re-ranking

def position_prior(rank) -> np.ndarray:
    """P(view) of a list position, up to a constant: 1 / log2(1 + rank) (the position
    discount nDCG assumes). Not calibrated on data: re-ranking uses it only as a weight
    beside the model's calibrated P(target | view)."""
    return 1.0 / np.log2(1.0 + np.asarray(rank, dtype="float64"))


def _candidate_scores(store: Store, model_row: dict, ds: Dataset, train: pd.DataFrame,
                      cand: pd.DataFrame) -> np.ndarray:
    """The model's calibrated P(target | given) for candidate pairs, with features as of
    just after the split's training period (history: the training part only)."""
    model = model_row["bundle"]
    target = parse_target(model_row["target"])
    inter = train.assign(weight=train["weight"].astype("float64"))
    try:
        hist = build_samples(inter, target, model_row["given"], dataset=ds.name,
                             horizon_days=model_row["params"].get("horizon_days")).frame
    except DataError:  # no outcome in the training part: candidates alone
        hist = pd.DataFrame({"user_id": [], "item_id": [], "time": np.array([], "int64"),
                             "label": np.array([], "int8"), "target_time": np.array([], "int64")})
    t, _ = event_times(inter)
    now = int(t.max()) + 1
    c = pd.DataFrame({"user_id": cand["user_id"].astype(str).to_numpy(),
                      "item_id": cand["item_id"].astype(str).to_numpy(), "time": now,
                      "label": np.zeros(len(cand), "int8"),
                      "target_time": np.full(len(cand), np.iinfo(np.int64).max)})
    both = pd.concat([hist, c], ignore_index=True)
    run_scores = None
    if model_row.get("run_id") is not None:
        run_scores = store_runs.recommendations(store, int(model_row["run_id"]))
    X, _ = build_features(both, _events(inter, t), ds.items, ds.users, run_scores, given=model_row["given"])
    return model.predict(X.iloc[len(hist):].reset_index(drop=True))


def rerank(store: Store, run_id: int, model_id: int, *, hire_model_id: int | None = None,
           candidates: int = 100) -> dict:
    """Re-order a run's top-``candidates`` per user by expected applications
    (position_prior(rank) x P(apply | view)), or expected hires (x P(hire | apply)) with
    a hire model; store the result as a new run (algorithm "rerank"). Returns {run_id}."""
    from engine.pipeline import code_version, eval_ks, evaluate

    if int(candidates) < 1:
        raise DataError(f"--candidates must be at least 1; got {candidates}.")
    run = store_runs.get_run(store, run_id)
    if run["status"] != "done":
        raise DataError(f"Run {run_id} is {run['status']}; only a finished run can be re-ranked.")
    rows = [store_pred.get_model(store, model_id)]
    if hire_model_id is not None:
        rows.append(store_pred.get_model(store, hire_model_id))
    for r in rows:
        if r["dataset"] != run["dataset"]:
            raise DataError(f"Model {r['model_id']} belongs to dataset {r['dataset']!r}, but run "
                            f"{run_id} to {run['dataset']!r}.")
    ds = load_dataset(store, run["dataset"])
    train, test = store_runs.load_split(store, run["split_id"])
    cand = store_runs.recommendations(store, run_id, k=int(candidates))
    score = position_prior(cand["rank"].to_numpy())
    for r in rows:
        score = score * _candidate_scores(store, r, ds, train, cand)
    k = int(run["k"] or 20)
    out = cand.assign(score=score).sort_values(["user_id", "score", "rank"], ascending=[True, False, True],
                                               kind="stable")
    out["rank"] = out.groupby("user_id", sort=False).cumcount() + 1
    out = out[out["rank"] <= k][["user_id", "rank", "item_id", "score"]].reset_index(drop=True)
    params = {"source_run": int(run_id), "model": int(model_id), "candidates": int(candidates),
              "view_prior": "1/log2(1+rank)"}
    if hire_model_id is not None:  # absent rather than None: the Runs table shows params as text
        params["hire_model"] = int(hire_model_id)
    new_id = store_runs.create_run(store, dataset=run["dataset"], split_id=run["split_id"],
                                   algorithm="rerank", params=params, source="trained", k=k,
                                   code_version=code_version())
    metrics, per_user = evaluate(out, train, test, ds.items, eval_ks(k), n_items=int(train["item_id"].nunique()))
    store_runs.finish_run(store, new_id, recs=out, metrics=metrics, user_metrics=per_user,
                          n_users=int(test["user_id"].nunique()))
    return {"run_id": new_id}


def explain_pair(store: Store, model_id: int, user_id: str, item_id: str) -> dict:
    """The model's probability for one (user, item) pair with features as of just after
    the dataset's last event, and each feature's value and contribution (log-odds;
    LightGBM only). Returns {probability, raw, contributions: DataFrame[feature, value,
    contribution]} sorted by |contribution|."""
    row = store_pred.get_model(store, model_id)
    ds = load_dataset(store, row["dataset"])
    for what, value, ids in (("user", user_id, ds.users["user_id"]), ("item", item_id, ds.items["item_id"])):
        if str(value) not in set(ids.astype(str)):
            raise DataError(f"There is no {what} {value!r} in dataset {row['dataset']!r}.")
    model = row["bundle"]
    target = parse_target(row["target"])
    inter = ds.interactions
    hist = build_samples(inter, target, row["given"], dataset=ds.name,
                         horizon_days=row["params"].get("horizon_days")).frame
    t, _ = event_times(inter)
    pair = pd.DataFrame({"user_id": [str(user_id)], "item_id": [str(item_id)], "time": [int(t.max()) + 1],
                         "label": np.array([0], "int8"), "target_time": [np.iinfo(np.int64).max]})
    run_scores = store_runs.recommendations(store, int(row["run_id"])) if row.get("run_id") is not None else None
    X, _ = build_features(pd.concat([hist, pair], ignore_index=True), _events(inter, t), ds.items, ds.users,
                          run_scores, given=row["given"])
    x = X.iloc[[-1]].reset_index(drop=True)
    contrib = model.contributions(x)
    values = model._frame(x).iloc[0]
    frame = pd.DataFrame({"feature": model.features, "value": [values[f] for f in model.features]})
    frame["contribution"] = (contrib.iloc[0][model.features].to_numpy() if contrib is not None else np.nan)
    frame = frame.reindex(frame["contribution"].abs().sort_values(ascending=False, na_position="last").index)
    return {"probability": float(model.predict(x)[0]), "raw": float(model.raw(x)[0]),
            "bias": float(contrib.iloc[0]["bias"]) if contrib is not None else None,
            "contributions": frame.reset_index(drop=True)}


def rerank_runs(store: Store, dataset: str) -> pd.DataFrame:
    """The dataset's re-ranked runs: run_id, source_run, model, hire_model, candidates."""
    runs = store_runs.list_runs(store, dataset)
    runs = runs[runs["algorithm"] == "rerank"]
    rows = []
    for r in runs.itertuples():
        p = json.loads(r.params) if isinstance(r.params, str) and r.params else {}
        rows.append({"run_id": int(r.run_id), "source_run": p.get("source_run"), "model": p.get("model"),
                     "hire_model": p.get("hire_model"), "candidates": p.get("candidates"),
                     "status": r.status})
    return pd.DataFrame(rows, columns=["run_id", "source_run", "model", "hire_model", "candidates", "status"])


def model_detail(store: Store, model_id: int) -> dict:
    """A stored model's row without the pickled model (metrics, importance, params)."""
    row = store_pred.get_model(store, model_id)
    row.pop("bundle", None)
    return row
