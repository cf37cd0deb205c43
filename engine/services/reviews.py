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
from engine.reviews.labels import current_labels, training_targets
from engine.reviews.rules import rule_reasons
from engine.store import Store
from engine.store import reviews as db


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
    if not train.any():
        raise DataError(f"No review of {dataset!r} has a label; import it with --label-col or "
                        f"label some reviews in the page first.")

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
    row["model_id"] = db.save_model(store, row, frame)
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
