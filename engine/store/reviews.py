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


def _score_frame(scores: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "review_id": scores["review_id"].astype(str).astype(object),
        "score": scores["score"].astype("float64"),
        "out_of_fold": scores["out_of_fold"].astype(bool),
        "reasons": [json.dumps(r, ensure_ascii=False) for r in scores["reasons"]],
        "spans": [json.dumps(s, ensure_ascii=False) for s in scores["spans"]],
    })


_SCORE_INSERT = ("INSERT INTO review_scores (model_id, review_id, score, out_of_fold, reasons, spans, dataset) "
                 "SELECT ?, review_id, score, out_of_fold, reasons, spans, ? FROM _scores")


def save_model(store: Store, model: dict, scores: pd.DataFrame, artifact: bytes | None = None) -> int:
    """Write one model version, its scores (of its own dataset's reviews) and, when given,
    the pickled fitted model in one transaction; returns the new model_id.

    ``model`` holds the review_models columns (without model_id); ``scores`` has
    review_id, score, out_of_fold, reasons (list), spans (list)."""
    sc = _score_frame(scores)
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
        con.execute(_SCORE_INSERT, [model_id, model.get("dataset")])
        con.unregister("_scores")
        if artifact is not None:
            con.execute("INSERT INTO review_model_artifacts VALUES (?, 'pickle', ?)", [model_id, artifact])
    return int(model_id)


def model_artifact(store: Store, model_id: int) -> bytes | None:
    """The pickled fitted model of a version (None for models trained before it was stored)."""
    v = store.scalar("SELECT data FROM review_model_artifacts WHERE model_id = ? AND format = 'pickle'",
                     [int(model_id)])
    return None if v is None else bytes(v)


def save_scores(store: Store, model_id: int, dataset: str, scores: pd.DataFrame) -> int:
    """Append a model's scores of some reviews of ``dataset`` (any dataset: a model of one
    dataset can score another). Rows already scored by that model are left as they are."""
    sc = _score_frame(scores)
    with store.transaction() as con:
        con.register("_scores", sc)
        con.execute(_SCORE_INSERT + " WHERE review_id NOT IN (SELECT review_id FROM review_scores "
                    "WHERE model_id = ? AND coalesce(dataset, ?) = ?)",
                    [int(model_id), dataset, int(model_id), _model_dataset(con, model_id), dataset])
        con.unregister("_scores")
    return len(sc)


def _model_dataset(con, model_id: int) -> str | None:
    r = con.execute("SELECT dataset FROM review_models WHERE model_id = ?", [int(model_id)]).fetchall()
    return r[0][0] if r else None


def existing_review_ids(store: Store, dataset: str) -> set[str]:
    return set(store.df("SELECT review_id FROM reviews WHERE dataset = ?", [dataset])["review_id"].astype(str))


def append_reviews(store: Store, dataset: str, reviews: pd.DataFrame, source: str, n_skipped: int,
                   model_id: int | None = None, scores: pd.DataFrame | None = None) -> int:
    """Add ``reviews`` (normalised, ids new to the dataset) as one batch, with the model's
    scores of them when given, in one transaction; returns the batch id."""
    from engine.store.datasets import _insert_reviews  # the one writer of review rows

    with store.transaction() as con:
        batch_id = int(con.execute("SELECT nextval('review_batch_id_seq')").fetchall()[0][0])
        con.execute("INSERT INTO review_batches (batch_id, dataset, added_at, source, n_added, n_skipped, "
                    "model_id) VALUES (?, ?, current_timestamp, ?, ?, ?, ?)",
                    [batch_id, dataset, source, int(len(reviews)), int(n_skipped), model_id])
        if len(reviews):
            _insert_reviews(con, dataset, reviews)
            members = pd.DataFrame({"review_id": reviews["review_id"].astype(str).astype(object)})
            con.register("_members", members)
            con.execute("INSERT INTO review_batch_members SELECT ?, review_id, ? FROM _members",
                        [dataset, batch_id])
            con.unregister("_members")
            con.execute("UPDATE datasets SET n_reviews = coalesce(n_reviews, 0) + ? WHERE name = ?",
                        [int(len(reviews)), dataset])
        if model_id is not None and scores is not None and len(scores):
            con.register("_scores", _score_frame(scores))
            con.execute(_SCORE_INSERT, [int(model_id), dataset])
            con.unregister("_scores")
    return batch_id


def list_batches(store: Store, dataset: str) -> pd.DataFrame:
    """The dataset's appended batches, oldest first."""
    return store.df("SELECT batch_id, added_at, source, n_added, n_skipped, model_id FROM review_batches "
                    "WHERE dataset = ? ORDER BY batch_id", [dataset])


def batch_members(store: Store, dataset: str) -> pd.DataFrame:
    """review_id, batch_id of every review added in a batch."""
    return store.df("SELECT review_id, batch_id FROM review_batch_members WHERE dataset = ? "
                    "ORDER BY batch_id, review_id", [dataset])


def batch_scores(store: Store, dataset: str, model_id: int) -> pd.DataFrame:
    """review_id, batch_id, added_at, score (NULL when the model has not scored it) of
    every review added in a batch."""
    return store.df(
        "SELECT m.review_id, m.batch_id, b.added_at, s.score FROM review_batch_members m "
        "JOIN review_batches b ON b.batch_id = m.batch_id "
        "LEFT JOIN review_scores s ON s.review_id = m.review_id AND s.model_id = ? "
        "  AND coalesce(s.dataset, (SELECT dataset FROM review_models WHERE model_id = ?)) = m.dataset "
        "WHERE m.dataset = ? ORDER BY m.batch_id, m.review_id", [int(model_id), int(model_id), dataset])


def training_scores(store: Store, model_id: int) -> pd.DataFrame:
    """review_id, score of a model's training reviews (their out-of-fold scores)."""
    return store.df("SELECT review_id, score FROM review_scores WHERE model_id = ? AND out_of_fold "
                    "ORDER BY review_id", [int(model_id)])


def record_visit(store: Store, dataset: str, reviewer: str) -> None:
    with store.transaction() as con:
        con.execute("INSERT INTO review_visits VALUES (?, ?, current_timestamp)", [dataset, reviewer])


def visit(store: Store, dataset: str, reviewer: str):
    """Record a visit of the reviewer to the dataset and return the previous one (None
    when never): ``last_visit`` then ``record_visit`` in one transaction."""
    with store.transaction() as con:
        prev = con.execute("SELECT max(visited_at) FROM review_visits WHERE dataset = ? "
                           "AND reviewer = ?", [dataset, reviewer]).fetchone()[0]
        con.execute("INSERT INTO review_visits VALUES (?, ?, current_timestamp)", [dataset, reviewer])
    return prev


def last_visit(store: Store, dataset: str, reviewer: str):
    """The reviewer's latest recorded visit to the dataset (None when never)."""
    return store.scalar("SELECT max(visited_at) FROM review_visits WHERE dataset = ? AND reviewer = ?",
                        [dataset, reviewer])


def added_since(store: Store, dataset: str, since) -> pd.DataFrame:
    """review_id, batch_id, added_at of reviews added in batches after ``since``."""
    return store.df("SELECT m.review_id, m.batch_id, b.added_at FROM review_batch_members m "
                    "JOIN review_batches b ON b.batch_id = m.batch_id WHERE m.dataset = ? AND b.added_at > ? "
                    "ORDER BY m.review_id", [dataset, since])


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
        # rows written before review_scores.dataset existed are about the model's own dataset
        "  AND coalesce(s.dataset, (SELECT dataset FROM review_models WHERE model_id = s.model_id)) = r.dataset "
        "WHERE r.dataset = ? ORDER BY r.review_id", [-1 if model_id is None else int(model_id), dataset])


def model_scores(store: Store, model_id: int) -> pd.DataFrame:
    """review_id, score, out_of_fold of one model on its own dataset's reviews."""
    return store.df("SELECT s.review_id, s.score, s.out_of_fold FROM review_scores s "
                    "JOIN review_models m ON m.model_id = s.model_id "
                    "WHERE s.model_id = ? AND coalesce(s.dataset, m.dataset) = m.dataset "
                    "ORDER BY s.review_id", [int(model_id)])


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
