"""Train, cross-validate and score a dataset's reviews; compare model versions.

``train_dataset`` reads the reviews and the label history, computes first (signals,
k-fold CV, the final fit, scores, explanations) and writes the model version and all its
scores in one short transaction at the end.

Training data: a review whose standing human label is 'meaningless' or 'fine' takes that
label (it overrides the truth shipped with the data); otherwise its shipped truth; a
review with neither is scored but not trained on. Training reviews get their
out-of-fold score (from the CV model that did not see them), so a wrong label shows up
as a confident disagreement instead of being memorised; the others get the final model's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.pipeline import code_version
from engine.progress import ProgressFn, null_progress
from engine.reviews import model as M
from engine.reviews import agreement
from engine.reviews.coldstart import MIN_PER_CLASS, diverse_order, labels_needed, refusal
from engine.reviews.drift import batch_drift
from engine.reviews.label_issues import find_issues
from engine.reviews.labels import current_labels, training_targets
from engine.reviews.rules import rule_reasons
from engine.store import Store
from engine.store import reviews as db
from engine.store.datasets import positive_name


def _reasons(sig: pd.DataFrame, spans: list[list[dict]]) -> list[list[dict]]:
    out = []
    for (_, row), sp in zip(sig.iterrows(), spans):
        r = rule_reasons(row)
        if sp:
            grams = ", ".join(repr(s["ngram"]) for s in sp[:3])
            r.append({"code": "ngrams", "text": f"classifier n-grams such as {grams}"})
        out.append(r)
    return out


def train_dataset(store: Store, dataset: str, params: M.ModelParams | None = None,
                  progress: ProgressFn = null_progress) -> dict:
    """Train, cross-validate and score every review of ``dataset``; store a new model
    version. Returns the review_models row as a dict (with model_id)."""
    params = params or M.ModelParams()
    reviews = db.load_reviews(store, dataset)
    if reviews.empty:
        raise DataError(f"The dataset {dataset!r} has no reviews to train on.")
    parent = db.latest_model_id(store, dataset)
    labels = current_labels(db.label_history(store, dataset))
    target, from_human = training_targets(reviews, labels)
    train = target.notna().to_numpy()
    n_pos = int((target[train] == 1).sum())
    refused = refusal(dataset, n_pos, int(train.sum()) - n_pos, positive_name(store, dataset))
    if refused:
        raise DataError(refused)

    progress("rule signals", 0, 1)
    X = M.prepare(reviews)
    progress("rule signals", 1, 1)
    y = target[train].to_numpy(dtype=int)
    oof_dec = M.cross_validate(X[train], y, params, progress)

    progress("fit and score", 0, 2)
    model = M.fit_calibrated(X[train], y, oof_dec, params)
    oof = model.calibrate(oof_dec)
    cv = M.metrics(y, oof)
    scores = M.predict(model, X)
    scores[train] = oof
    progress("fit and score", 1, 2)
    spans = M.explain(model, X, reviews["text"].fillna("").astype(str).tolist())
    progress("fit and score", 2, 2)

    row = {
        "dataset": dataset, "parent_model_id": parent, "params": params.to_dict(),
        "n_train": int(train.sum()), "n_positive": int(y.sum()),
        "n_human_labels": int((from_human & target.notna()).sum()),
        "cv_folds": M.n_folds(y, params),
        "roc_auc": cv["roc_auc"], "pr_auc": cv["pr_auc"], "f1": cv["f1"],
        "precision": cv["precision"], "recall": cv["recall"],
        "cv_threshold": cv["threshold"], "threshold": cv["threshold"],
        "n_scored": int(len(scores)), "n_flagged": int((scores >= cv["threshold"]).sum()),
        "top_ngrams": [{"ngram": g, "coef": round(float(c), 4)}
                       for g, c in M.top_ngrams(model, 30).itertuples(index=False)],
        "code_version": code_version(),
    }
    frame = pd.DataFrame({"review_id": reviews["review_id"], "score": scores, "out_of_fold": train,
                          "reasons": _reasons(X, spans), "spans": spans})
    progress("store", 0, 1)
    row["model_id"] = db.save_model(store, row, frame, artifact=_pickle(model))
    progress("store", 1, 1)
    return row


#: Below this cross-validated ROC-AUC a model ranks reviews little better than a coin.
CHANCE_AUC = 0.6


def weak_model_note(row: dict) -> str | None:
    """One sentence when a model's cross-validated ROC-AUC is near chance (its flags are
    then mostly noise, e.g. the Japanese toxic subset, which is semantic), else None."""
    auc = row.get("roc_auc")
    if auc is None or auc != auc or auc >= CHANCE_AUC:
        return None
    flagged = row.get("n_flagged")
    scored = row.get("n_scored")
    part = (f" and its {int(flagged):,} flags (of {int(scored):,} reviews) are mostly noise"
            if flagged is not None and scored else "")
    return (f"Model {row['model_id']} ranks reviews little better than chance (cross-validated "
            f"ROC-AUC {auc:.2f}, below {CHANCE_AUC}){part}; label more reviews, or read its "
            f"scores as a weak hint only.")


def summary(row: dict) -> dict:
    """What ``recscope reviews train --json`` prints."""
    return {k: row[k] for k in ("model_id", "roc_auc", "pr_auc", "f1", "threshold", "n_flagged")}


COMPARE_FIELDS = ["model_id", "created_at", "n_train", "n_positive", "n_human_labels", "roc_auc",
                  "pr_auc", "f1", "precision", "recall", "cv_threshold", "threshold", "n_flagged"]


def compare_models(store: Store, old_id: int, new_id: int) -> tuple[pd.DataFrame, dict]:
    """Two model versions side by side: a table (rows = fields, columns = 'old', 'new')
    and how the flags moved between them, each at its own threshold in use."""
    old, new = db.get_model(store, old_id), db.get_model(store, new_id)
    table = pd.DataFrame({"old": [old[f] for f in COMPARE_FIELDS], "new": [new[f] for f in COMPARE_FIELDS]},
                         index=COMPARE_FIELDS)
    a = db.model_scores(store, old_id).set_index("review_id")["score"]
    b = db.model_scores(store, new_id).set_index("review_id")["score"]
    both = pd.concat([a.rename("old"), b.rename("new")], axis=1, join="inner")
    fo = both["old"] >= old["threshold"]
    fn = both["new"] >= new["threshold"]
    moves = {"n_common": int(len(both)), "newly_flagged": int((~fo & fn).sum()),
             "no_longer_flagged": int((fo & ~fn).sum()), "flagged_by_both": int((fo & fn).sum()),
             "score_correlation": float(np.corrcoef(both["old"], both["new"])[0, 1]) if len(both) > 1 else float("nan")}
    return table, moves


def demo_step(store: Store, dataset_name: str, seed: int, progress: ProgressFn = null_progress) -> None:
    """The demo's review step: train and score the demo dataset's reviews."""
    train_dataset(store, dataset_name, M.ModelParams(seed=seed), progress=progress)


# --------------------------------------------------------------------------- the daily loop


def _pickle(model: M.CalibratedModel) -> bytes:
    """The fitted model as bytes for the store. The vectoriser's ``stop_words_`` (every
    n-gram pruned by min_df/max_features, kept by scikit-learn for introspection only) is
    dropped first: it is often larger than the model."""
    import pickle

    vec = model.pipeline.named_steps["features"].named_transformers_["ngrams"]
    if hasattr(vec, "stop_words_"):
        vec.stop_words_ = None
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def load_fitted(store: Store, model_id: int) -> M.CalibratedModel:
    """The stored fitted model of a version; DataError for versions trained before models
    were stored."""
    import pickle

    db.get_model(store, model_id)  # NotFound for an unknown id
    blob = db.model_artifact(store, model_id)
    if blob is None:
        raise DataError(f"Model {model_id} was trained before fitted models were kept in the store, "
                        f"so it cannot score new reviews; retrain it with `recscope reviews train`.")
    return pickle.loads(blob)  # the team's own store: trusted like the code (see review_tables)


def _score_rows(model: M.CalibratedModel, reviews: pd.DataFrame, which: np.ndarray) -> pd.DataFrame:
    """Scores, reasons and spans of ``reviews[which]``. Rule signals are computed over all of
    ``reviews`` (duplicates and the main script are dataset-wide)."""
    X = M.prepare(reviews)
    Xn = X[which]
    texts = reviews.loc[which, "text"].fillna("").astype(str).tolist()
    if not len(Xn):
        return pd.DataFrame(columns=["review_id", "score", "out_of_fold", "reasons", "spans"])
    spans = M.explain(model, Xn, texts)
    return pd.DataFrame({"review_id": reviews.loc[which, "review_id"].astype(str).to_numpy(),
                         "score": M.predict(model, Xn), "out_of_fold": False,
                         "reasons": _reasons(Xn, spans), "spans": spans})


def score_dataset(store: Store, dataset: str, model_id: int | None = None) -> dict:
    """Score the reviews of ``dataset`` that have no score from ``model_id`` (default: the
    dataset's latest model; a model of another dataset works too). No new model version.
    Returns {model_id, n_scored, n_flagged, threshold}."""
    if model_id is None:
        model_id = db.latest_model_id(store, dataset)
        if model_id is None:
            raise DataError(f"The dataset {dataset!r} has no review model yet; train one "
                            f"(`recscope reviews train --dataset {dataset}`) or pass --model.")
    meta = db.get_model(store, model_id)
    model = load_fitted(store, model_id)
    scored = db.scored_reviews(store, dataset, model_id)
    reviews = db.load_reviews(store, dataset)
    todo = reviews["review_id"].astype(str).isin(scored.loc[scored["score"].isna(), "review_id"].astype(str))
    rows = _score_rows(model, reviews, todo.to_numpy())
    if len(rows):
        db.save_scores(store, model_id, dataset, rows)
    thr = float(meta["threshold"])
    return {"model_id": int(model_id), "n_scored": int(len(rows)),
            "n_flagged": int((rows["score"] >= thr).sum()) if len(rows) else 0, "threshold": thr}


DUPLICATE_POLICIES = ("skip", "error")


def append_reviews(store: Store, dataset: str, new: pd.DataFrame, source: str = "",
                   on_duplicate: str = "skip") -> dict:
    """Add the reviews of ``new`` (normalised) whose ids the dataset does not have yet, as
    one batch; when the dataset has a model, its latest model scores them in the same
    transaction (no retraining), so they enter the queue. Ids already present are skipped
    (``on_duplicate='skip'``) or refused (``'error'``: DataError, nothing written).
    Returns {batch_id (None when nothing was new), n_added, n_skipped, skipped (ids),
    model_id, n_scored, n_flagged}."""
    if on_duplicate not in DUPLICATE_POLICIES:
        raise DataError(f"--on-duplicate must be skip or error, not {on_duplicate!r}.")
    existing = db.existing_review_ids(store, dataset)
    ids = new["review_id"].astype(str)
    dup = ids.isin(existing).to_numpy()
    skipped = ids[dup].tolist()
    if skipped and on_duplicate == "error":
        raise DataError(f"{len(skipped):,} review id(s) of the file are already in {dataset!r} "
                        f"(e.g. {skipped[0]!r}); nothing was added (use --on-duplicate skip).")
    fresh = new[~dup].reset_index(drop=True)
    model_id = db.latest_model_id(store, dataset)
    scores, thr = None, None
    if model_id is not None and len(fresh) and db.model_artifact(store, model_id) is not None:
        model = load_fitted(store, model_id)
        old = db.load_reviews(store, dataset)
        both = pd.concat([old, fresh[old.columns.intersection(fresh.columns)]], ignore_index=True)
        which = np.zeros(len(both), dtype=bool)
        which[len(old):] = True
        scores = _score_rows(model, both, which)
        thr = float(db.get_model(store, model_id)["threshold"])
    # nothing new (the same file again): no batch, the store stays as it was
    batch = (db.append_reviews(store, dataset, fresh, source, len(skipped),
                               model_id if scores is not None else None, scores) if len(fresh) else None)
    return {"batch_id": batch, "n_added": int(len(fresh)), "n_skipped": len(skipped), "skipped": skipped,
            "model_id": model_id if scores is not None else None,
            "n_scored": 0 if scores is None else int(len(scores)),
            "n_flagged": 0 if scores is None else int((scores["score"] >= thr).sum())}


def drift_report(store: Store, dataset: str, model: dict) -> pd.DataFrame:
    """Per appended batch: PSI of its scores against the model's training (out-of-fold)
    scores and the share flagged (see ``engine.reviews.drift``)."""
    mid = int(model["model_id"])
    return batch_drift(db.training_scores(store, mid)["score"], db.batch_scores(store, dataset, mid),
                       float(model["threshold"]))


def label_progress(store: Store, dataset: str) -> dict:
    """Towards the first model: labels per class (human over shipped truth) and how many
    more each class needs. Keys: n_positive, n_negative, need_positive, need_negative, minimum."""
    reviews = db.load_reviews(store, dataset)
    target, _ = training_targets(reviews, current_labels(db.label_history(store, dataset)))
    n_pos, n_neg = int((target == 1).sum()), int((target == 0).sum())
    need_p, need_n = labels_needed(n_pos, n_neg)
    return {"n_positive": n_pos, "n_negative": n_neg, "need_positive": need_p, "need_negative": need_n,
            "minimum": MIN_PER_CLASS}


def signal_ranks(store: Store, dataset: str) -> pd.DataFrame:
    """review_id, signal_rank: the cold-start order (rule signals dealt out for diversity,
    ``engine.reviews.coldstart.diverse_order``)."""
    reviews = db.load_reviews(store, dataset)
    X = M.prepare(reviews)
    reasons = [rule_reasons(r) for _, r in X.iterrows()]
    return pd.DataFrame({"review_id": reviews["review_id"].astype(str),
                         "signal_rank": diverse_order(X, reasons)})


def label_agreement(store: Store, dataset: str) -> dict:
    """Agreement between reviewers (``engine.reviews.agreement.summary``)."""
    return agreement.summary(db.label_history(store, dataset))


def label_issues(store: Store, dataset: str, top: int | None = None) -> pd.DataFrame:
    """Labelled reviews whose label the latest model doubts (cleanlab on its stored
    out-of-fold scores against the current training targets), most doubtful first:
    review_id, label ('meaningless'/'fine'), score, self_confidence."""
    mid = db.latest_model_id(store, dataset)
    if mid is None:
        raise DataError(f"The dataset {dataset!r} has no review model yet; label issues need the "
                        f"out-of-fold scores of one (`recscope reviews train --dataset {dataset}`).")
    reviews = db.load_reviews(store, dataset)
    target, _ = training_targets(reviews, current_labels(db.label_history(store, dataset)))
    oof = db.training_scores(store, mid).set_index("review_id")["score"]
    frame = pd.DataFrame({"review_id": reviews["review_id"].astype(str), "y": target})
    frame["score"] = frame["review_id"].map(oof)
    frame = frame[frame["y"].notna() & frame["score"].notna()]
    out = find_issues(frame["review_id"], frame["y"].astype(int), frame["score"])
    out["label"] = out["label"].map({1: "meaningless", 0: "fine"})
    return out.head(top) if top is not None else out


def queue_ranks(store: Store, dataset: str, order: str) -> pd.DataFrame:
    """review_id and the rank column of a ranked queue order (``engine.reviews.queue.RANKED``):
    signals (cold start), batch (newest batch first), disagreement (most even split
    between reviewers first), mislabelled (cleanlab, most doubtful first; empty without a
    model). Reviews without a rank are absent."""
    if order == "signals":
        return signal_ranks(store, dataset)
    if order == "batch":
        b = db.batch_members(store, dataset)
        return pd.DataFrame({"review_id": b["review_id"].astype(str),
                             "batch_rank": b["batch_id"].max() - b["batch_id"]})
    if order == "disagreement":
        d = label_agreement(store, dataset)["disagreements"]
        return pd.DataFrame({"review_id": d["review_id"].astype(str), "disagree_rank": np.arange(len(d))})
    if order == "mislabelled":
        issues = (label_issues(store, dataset) if db.latest_model_id(store, dataset) is not None
                  else pd.DataFrame(columns=["review_id"]))
        return pd.DataFrame({"review_id": issues["review_id"].astype(str), "issue_rank": np.arange(len(issues))})
    raise DataError(f"{order!r} is not a ranked queue order.")


def news_since(store: Store, dataset: str, since) -> dict:
    """What was appended to the dataset after ``since`` (None: ever): n_new, batches (ids)."""
    if since is None:
        b = db.list_batches(store, dataset)
        return {"n_new": int(b["n_added"].sum()) if len(b) else 0, "batches": b["batch_id"].astype(int).tolist()}
    new = db.added_since(store, dataset, since)
    return {"n_new": int(len(new)), "batches": sorted(new["batch_id"].astype(int).unique().tolist())}
