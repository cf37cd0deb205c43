"""The review classifier: character n-gram TF-IDF + rule signals -> logistic regression,
calibrated (sigmoid, scikit-learn's CalibratedClassifierCV) so that a score is a
probability that the review is meaningless.

* Character n-grams, because Japanese has no spaces between words. The text is
  NFKC-normalised, lower-cased and whitespace-collapsed once (``engine.reviews.text``)
  before the vectoriser sees it, so offsets can be mapped back for highlighting.
* ``cross_validate`` fits the pipeline on k-1 folds (stratified, each fold its own
  vectoriser) and takes the decision values of the held-out fold; ``fit_calibrated``
  fits the pipeline on everything and Platt-scales its decision values with a sigmoid
  fitted to those out-of-fold values. This is what scikit-learn's
  ``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` does internally; it is
  spelled out here because the out-of-fold values are needed for the metrics too, and
  reusing them saves k fits. ROC-AUC, PR-AUC and the F1-best threshold on out-of-fold
  scores are unaffected by the (monotone) calibration map.
* ``explain`` lists the n-grams whose contribution ``coef_j * tfidf_ij`` to the logit is
  largest and positive, with their spans in the original text. Sigmoid calibration is
  monotone, so what raises the logit raises the probability.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.progress import ProgressFn, null_progress
from engine.reviews.rules import FEATURE_COLUMNS, rule_signals
from engine.reviews.text import normalise


@dataclass
class ModelParams:
    ngram_min: int = 1
    ngram_max: int = 4
    min_df: int = 2
    max_features: int = 200_000
    C: float = 10.0
    use_rules: bool = True
    cv_folds: int = 5
    calibration_folds: int = 3
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def prepare(reviews: pd.DataFrame) -> pd.DataFrame:
    """Model input for ``reviews`` (needs review_id, text): the normalised text in ``norm``
    plus the rule signals (``FEATURE_COLUMNS`` and what the reasons need). Same index."""
    sig = rule_signals(reviews)
    sig["norm"] = [normalise(t)[0] for t in reviews["text"].fillna("").astype(str)]
    return sig


def build_pipeline(params: ModelParams):
    """The uncalibrated pipeline: features -> logistic regression."""
    # scikit-learn takes about a second to import: loaded here, when a model is fitted,
    # so the store, the CLI and the viewer's other pages do not pay for it
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    # Text arrives normalised (see prepare), so no preprocessor and no lower-casing here.
    vec = TfidfVectorizer(analyzer="char", ngram_range=(params.ngram_min, params.ngram_max),
                          lowercase=False, min_df=params.min_df, max_features=params.max_features,
                          sublinear_tf=True, dtype=np.float64)
    parts = [("ngrams", vec, "norm")]
    if params.use_rules:
        parts.append(("rules", StandardScaler(), FEATURE_COLUMNS))
    features = ColumnTransformer(parts, sparse_threshold=1.0)
    lr = LogisticRegression(C=params.C, class_weight="balanced", solver="liblinear", max_iter=2000,
                            random_state=params.seed)
    return Pipeline([("features", features), ("lr", lr)])


class CalibratedModel:
    """A fitted pipeline plus a Platt sigmoid on its decision values."""

    def __init__(self, pipeline, calibrator):
        self.pipeline = pipeline
        self.calibrator = calibrator

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return self.pipeline.decision_function(X)

    def calibrate(self, decision: np.ndarray) -> np.ndarray:
        return self.calibrator.predict_proba(np.asarray(decision, dtype=float).reshape(-1, 1))[:, 1]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.calibrate(self.decision_function(X))
        return np.column_stack([1 - p, p])


def _check_labels(y: np.ndarray, what: str = "training data") -> int:
    pos = int((y == 1).sum())
    neg = int((y == 0).sum())
    if pos < 2 or neg < 2:
        raise DataError(f"The {what} has {pos} meaningless and {neg} fine review(s); training needs "
                        f"at least 2 of each (import with --label-col or label reviews in the page).")
    return min(pos, neg)


def n_folds(y: np.ndarray, params: ModelParams) -> int:
    return max(2, min(params.cv_folds, _check_labels(np.asarray(y, dtype=int))))


def cross_validate(X: pd.DataFrame, y: np.ndarray, params: ModelParams,
                   progress: ProgressFn = null_progress) -> np.ndarray:
    """Out-of-fold decision values (stratified k-fold, shuffled with the seed)."""
    # scikit-learn: imported where used (see build_pipeline)
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y, dtype=int)
    k = n_folds(y, params)
    oof = np.full(len(y), np.nan)
    skf = StratifiedKFold(k, shuffle=True, random_state=params.seed)
    progress("cross-validate", 0, k)
    for f, (tr, te) in enumerate(skf.split(np.zeros(len(y)), y)):
        m = clone(build_pipeline(params)).fit(X.iloc[tr], y[tr])
        oof[te] = m.decision_function(X.iloc[te])
        progress("cross-validate", f + 1, k)
    return oof


def fit_calibrated(X: pd.DataFrame, y: np.ndarray, oof_decision: np.ndarray,
                   params: ModelParams) -> CalibratedModel:
    """Fit the pipeline on all of X and a sigmoid from the out-of-fold decision values to y
    (Platt scaling as a one-feature logistic regression, almost unregularised)."""
    # scikit-learn: imported where used (see build_pipeline)
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=int)
    _check_labels(y)
    pipe = build_pipeline(params).fit(X, y)
    cal = LogisticRegression(C=1e6, max_iter=1000).fit(np.asarray(oof_decision).reshape(-1, 1), y)
    return CalibratedModel(pipe, cal)


def fit(X: pd.DataFrame, y: np.ndarray, params: ModelParams) -> CalibratedModel:
    """Cross-validate and fit the calibrated model on all of X (rows of ``prepare``)."""
    return fit_calibrated(X, y, cross_validate(X, y, params), params)


def predict(model: CalibratedModel, X: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(X)[:, 1]


def metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """ROC-AUC, PR-AUC (average precision), and the F1-maximising threshold with its
    F1, precision and recall (a review is flagged when its score >= threshold)."""
    # scikit-learn: imported where used (see build_pipeline)
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    prec, rec, thr = precision_recall_curve(y, p)
    # prec/rec have one more entry than thr (the final point recall 0); drop it.
    prec, rec = prec[:-1], rec[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    best = int(np.argmax(f1))
    return {"roc_auc": float(roc_auc_score(y, p)), "pr_auc": float(average_precision_score(y, p)),
            "f1": float(f1[best]), "precision": float(prec[best]), "recall": float(rec[best]),
            "threshold": float(thr[best]), "n": int(len(y)), "n_positive": int(y.sum())}


def _parts(model):
    """(vectoriser, n-gram coefficients, rule coefficients, scaler) of a fitted calibrated model."""
    pipe = model.pipeline
    ct = pipe.named_steps["features"]
    coef = pipe.named_steps["lr"].coef_[0]
    vec = ct.named_transformers_["ngrams"]
    nv = len(vec.vocabulary_)
    return vec, coef[:nv], coef[nv:], ct.named_transformers_.get("rules")


def explain(model, X: pd.DataFrame, texts: list[str], top: int = 8) -> list[list[dict]]:
    """Per review, the n-grams that pushed its score up most: ``[{ngram, weight, spans:
    [[start, end], ...]}]`` with spans in the original text (end exclusive); n-grams of two
    or more characters first, each group best first."""
    vec, coef, _, _ = _parts(model)
    feats = vec.get_feature_names_out()
    M = vec.transform(X["norm"]).tocsr()
    out: list[list[dict]] = []
    for i, text in enumerate(texts):
        row = M.getrow(i)
        contrib = coef[row.indices] * row.data
        # Longer n-grams first: single characters highlighted all over a text read as
        # noise, so they are listed only after every positive longer n-gram.
        single = np.array([len(feats[j]) < 2 for j in row.indices], dtype=bool)
        positive = np.flatnonzero(contrib > 0)
        order = positive[np.lexsort((-contrib[positive], single[positive]))][:top]
        norm, starts, ends = normalise(text)
        items = []
        for o in order:
            w = float(contrib[o])
            g = feats[row.indices[o]]
            spans = []
            pos = norm.find(g)
            while pos >= 0:
                spans.append([int(starts[pos]), int(ends[pos + len(g) - 1])])
                pos = norm.find(g, pos + 1)
            items.append({"ngram": g, "weight": round(w, 4), "spans": spans})
        out.append(items)
    return out


def rule_contributions(model, X: pd.DataFrame) -> pd.DataFrame:
    """Each rule feature's contribution to each review's logit (coef * standardised value)."""
    _, _, rcoef, scaler = _parts(model)
    if scaler is None or len(rcoef) == 0:
        return pd.DataFrame(index=X.index)
    z = scaler.transform(X[FEATURE_COLUMNS])
    return pd.DataFrame(z * rcoef, index=X.index, columns=FEATURE_COLUMNS)


def top_ngrams(model, n: int = 20) -> pd.DataFrame:
    """The n-grams with the largest positive coefficients (most 'meaningless')."""
    vec, coef, _, _ = _parts(model)
    feats = vec.get_feature_names_out()
    order = np.argsort(-coef)[:n]
    return pd.DataFrame({"ngram": feats[order], "coef": coef[order]})
