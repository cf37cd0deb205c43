"""All SQL about reviews: the reviews themselves, model versions, scores and labels.

Labels are append-only: nothing here updates or deletes a row of ``review_labels``.
"""

from __future__ import annotations

import json

import pandas as pd

from engine.errors import DataError, NotFound
from engine.store.core import Store
from engine.store.datasets import require_dataset
from engine.validate import check_name

LABELS = ("meaningless", "fine", "skip", "undo")


def load_reviews(store: Store, dataset: str) -> pd.DataFrame:
    """review_id, text, label (Int64, shipped truth), company, user_id, created_at."""
    require_dataset(store, dataset)
    df = store.df("SELECT review_id, text, label, company, user_id, created_at FROM reviews "
                  "WHERE dataset = ? ORDER BY review_id", [dataset])
    df["label"] = df["label"].astype("Int64")
    return df


def review_datasets(store: Store) -> pd.DataFrame:
    """Datasets that have reviews: dataset, n_reviews, n_models, latest_model_id."""
    return store.df(
        "SELECT r.dataset, count(*) AS n_reviews, "
        "  (SELECT count(*) FROM review_models m WHERE m.dataset = r.dataset) AS n_models, "
        "  (SELECT max(model_id) FROM review_models m WHERE m.dataset = r.dataset) AS latest_model_id "
        "FROM reviews r GROUP BY r.dataset ORDER BY r.dataset")


def save_model(store: Store, model: dict, scores: pd.DataFrame) -> int:
    """Write one model version and its scores in one transaction; returns the new model_id.

    ``model`` holds the review_models columns (without model_id); ``scores`` has
    review_id, score, out_of_fold, reasons (list), spans (list)."""
    sc = pd.DataFrame({
        "review_id": scores["review_id"].astype(str).astype(object),
        "score": scores["score"].astype("float64"),
        "out_of_fold": scores["out_of_fold"].astype(bool),
        "reasons": [json.dumps(r, ensure_ascii=False) for r in scores["reasons"]],
        "spans": [json.dumps(s, ensure_ascii=False) for s in scores["spans"]],
    })
    cols = ["dataset", "parent_model_id", "params", "n_train", "n_positive", "n_human_labels",
            "cv_folds", "roc_auc", "pr_auc", "f1", "precision", "recall", "cv_threshold", "threshold",
            "n_scored", "n_flagged", "top_ngrams", "code_version"]
    vals = [model.get(c) for c in cols]
    vals = [json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for v in vals]
    with store.transaction() as con:
        model_id = con.execute("SELECT nextval('review_model_id_seq')").fetchall()[0][0]
        con.execute(f"INSERT INTO review_models (model_id, {', '.join(cols)}) "
                    f"VALUES (?, {', '.join('?' * len(cols))})", [model_id, *vals])
        con.register("_scores", sc)
        con.execute("INSERT INTO review_scores SELECT ?, review_id, score, out_of_fold, reasons, spans "
                    "FROM _scores", [model_id])
        con.unregister("_scores")
    return int(model_id)


def list_models(store: Store, dataset: str) -> pd.DataFrame:
    """The dataset's model versions, newest first."""
    return store.df("SELECT * FROM review_models WHERE dataset = ? ORDER BY model_id DESC", [dataset])


def get_model(store: Store, model_id: int) -> dict:
    df = store.df("SELECT * FROM review_models WHERE model_id = ?", [int(model_id)])
    if df.empty:
        raise NotFound(f"There is no review model {model_id} in {store.path}.")
    row = df.iloc[0].to_dict()
    for k in ("params", "top_ngrams"):
        row[k] = json.loads(row[k]) if row.get(k) else None
    return row


def latest_model_id(store: Store, dataset: str) -> int | None:
    v = store.scalar("SELECT max(model_id) FROM review_models WHERE dataset = ?", [dataset])
    return None if v is None else int(v)


def set_threshold(store: Store, model_id: int, threshold: float) -> None:
    """Move the threshold a model flags at (the cross-validated one stays in cv_threshold)."""
    if not 0.0 <= float(threshold) <= 1.0:
        raise DataError(f"A threshold must lie between 0 and 1, not {threshold}.")
    with store.transaction() as con:
        n = con.execute("SELECT count(*) FROM review_models WHERE model_id = ?", [int(model_id)]).fetchall()[0][0]
        if not n:
            raise NotFound(f"There is no review model {model_id} in {store.path}.")
        con.execute("UPDATE review_models SET threshold = ? WHERE model_id = ?",
                    [float(threshold), int(model_id)])


def scored_reviews(store: Store, dataset: str, model_id: int | None) -> pd.DataFrame:
    """Every review of the dataset with the model's score, reasons and spans (JSON text;
    score NULL when there is no model). Columns: review_id, text, truth, company,
    user_id, created_at, length, score, out_of_fold, reasons, spans."""
    return store.df(
        "SELECT r.review_id, r.text, r.label AS truth, r.company, r.user_id, r.created_at, "
        "  length(r.text) AS length, s.score, s.out_of_fold, s.reasons, s.spans "
        "FROM reviews r LEFT JOIN review_scores s ON s.review_id = r.review_id AND s.model_id = ? "
        "WHERE r.dataset = ? ORDER BY r.review_id", [-1 if model_id is None else int(model_id), dataset])


def model_scores(store: Store, model_id: int) -> pd.DataFrame:
    """review_id, score, out_of_fold of one model."""
    return store.df("SELECT review_id, score, out_of_fold FROM review_scores WHERE model_id = ? "
                    "ORDER BY review_id", [int(model_id)])


def companies(store: Store, dataset: str) -> list[str]:
    df = store.df("SELECT DISTINCT company FROM reviews WHERE dataset = ? AND company IS NOT NULL "
                  "ORDER BY company", [dataset])
    return df["company"].tolist()


def append_labels(store: Store, dataset: str, review_ids: list[str], label: str, reviewer: str,
                  model_id: int | None = None, batch_id: str | None = None) -> int:
    """Append one label row per review (one transaction). Returns how many were written."""
    if label not in LABELS:
        raise DataError(f"A label must be one of {', '.join(LABELS)}, not {label!r}.")
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise DataError("A label needs the reviewer's name.")
    check_name(reviewer, "The reviewer's name")  # no newlines / terminal escapes
    ids = [str(r) for r in review_ids]
    if not ids:
        return 0
    frame = pd.DataFrame({"review_id": pd.Series(ids, dtype=object),
                          "ord": range(len(ids))})
    with store.transaction() as con:
        con.register("_ids", frame)
        unknown = con.execute("SELECT i.review_id FROM _ids i LEFT JOIN reviews r ON r.review_id = i.review_id "
                              "AND r.dataset = ? WHERE r.review_id IS NULL LIMIT 1", [dataset]).fetchall()
        if unknown:
            con.unregister("_ids")
            raise NotFound(f"There is no review {unknown[0][0]!r} in dataset {dataset!r}.")
        con.execute("INSERT INTO review_labels (label_id, dataset, review_id, label, reviewer, labelled_at, "
                    "model_id, batch_id, text_hash) SELECT nextval('review_label_id_seq'), ?, "
                    "i.review_id, ?, ?, current_timestamp, ?, ?, "
                    "(SELECT md5(r.text) FROM reviews r WHERE r.dataset = ? "
                    "AND r.review_id = i.review_id LIMIT 1) FROM _ids i ORDER BY i.ord",
                    [dataset, label, reviewer, model_id, batch_id, dataset])
        con.unregister("_ids")
    return len(ids)


def label_history(store: Store, dataset: str) -> pd.DataFrame:
    """Every label event of the dataset, oldest first. ``earlier_text`` is true for a
    label given to another text than the review's current one (the reviews were
    replaced and the id reused): it belongs to an earlier version of that review."""
    return store.df("SELECT l.label_id, l.review_id, l.label, l.reviewer, l.labelled_at, "
                    "l.model_id, l.batch_id, coalesce(l.text_hash IS NOT NULL AND l.text_hash "
                    "IS DISTINCT FROM (SELECT md5(r.text) FROM reviews r WHERE r.dataset = "
                    "l.dataset AND r.review_id = l.review_id LIMIT 1), false) AS earlier_text "
                    "FROM review_labels l WHERE l.dataset = ? ORDER BY l.label_id", [dataset])
