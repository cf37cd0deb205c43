"""The funnel model: LightGBM (or a logistic-regression baseline) fitted on the early
training period, its probabilities calibrated on the held-out later slice of the
training period (Platt scaling: a one-feature logistic regression on the model's
log-odds; monotone, so it keeps the ranking and the ROC-AUC), and per-feature
contributions (LightGBM ``pred_contrib``: log-odds before calibration, plus a bias).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from engine.errors import DataError

KINDS = ("lightgbm", "logistic")
#: Small, slow trees: a funnel step is rare (a few percent) and its signal is weak and
#: spread over many features, so deep trees fit noise within a few dozen rounds. Few
#: leaves, large leaves (``min_child_samples``, see ``min_leaf``), half the features per
#: tree and a low learning rate, with the number of rounds chosen by early stopping on
#: the calibration slice (``EARLY_STOPPING`` rounds of patience).
LGBM_PARAMS = dict(n_estimators=3000, learning_rate=0.02, num_leaves=7,
                   subsample=0.8, subsample_freq=1, colsample_bytree=0.5, reg_lambda=1.0,
                   verbose=-1, n_jobs=1)
EARLY_STOPPING = 100


def min_leaf(n_fit: int) -> int:
    """LightGBM's ``min_child_samples``: 1% of the fitting rows, between 20 and 400."""
    return int(max(20, min(400, n_fit // 100)))


def _logit(p):
    p = np.clip(np.asarray(p, dtype="float64"), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


@dataclass
class FunnelModel:
    kind: str
    features: list[str]
    categorical: list[str]
    estimator: object
    calibrator: LogisticRegression | None = None
    categories: dict = field(default_factory=dict)   # categorical column -> its levels

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.reindex(columns=self.features).copy()
        for c in self.categorical:
            X[c] = pd.Categorical(X[c].astype(object), categories=self.categories[c])
        return X

    def raw(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated probabilities."""
        return self.estimator.predict_proba(self._frame(X))[:, 1]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities."""
        raw = self.raw(X)
        if self.calibrator is None:
            return raw
        return self.calibrator.predict_proba(_logit(raw)[:, None])[:, 1]

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame | None:
        """Per-feature log-odds contributions (columns: the features + 'bias'), LightGBM only."""
        if self.kind != "lightgbm":
            return None
        c = self.estimator.booster_.predict(self._frame(X), pred_contrib=True)
        return pd.DataFrame(c, columns=self.features + ["bias"])

    def gain_importance(self) -> dict[str, float]:
        if self.kind != "lightgbm":
            return {}
        g = self.estimator.booster_.feature_importance(importance_type="gain")
        total = float(g.sum()) or 1.0
        return {f: float(v) / total for f, v in zip(self.features, g)}


def fit(kind: str, X_fit: pd.DataFrame, y_fit, X_cal: pd.DataFrame, y_cal, categorical: list[str],
        seed: int = 0) -> FunnelModel:
    """Fit a ``kind`` model on the fitting period and calibrate it on the held-out slice."""
    if kind not in KINDS:
        raise DataError(f"--model {kind!r} is not one of {', '.join(KINDS)}.")
    features = list(X_fit.columns)
    cats = {c: list(X_fit[c].cat.categories) for c in categorical}
    model = FunnelModel(kind=kind, features=features, categorical=list(categorical), estimator=None,
                        categories=cats)
    Xf, Xc = model._frame(X_fit), model._frame(X_cal)
    y_fit, y_cal = np.asarray(y_fit), np.asarray(y_cal)
    if kind == "lightgbm":
        import lightgbm as lgb

        est = lgb.LGBMClassifier(random_state=seed, min_child_samples=min_leaf(len(Xf)), **LGBM_PARAMS)
        est.fit(Xf, y_fit, eval_X=(Xc,), eval_y=(y_cal,), eval_metric="binary_logloss",
                callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)])
    else:
        numeric = [c for c in features if c not in categorical]
        pre = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                                keep_empty_features=True), StandardScaler()), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="—"),
                                  OneHotEncoder(handle_unknown="ignore", min_frequency=20)), categorical),
        ])
        est = make_pipeline(pre, LogisticRegression(C=1.0, max_iter=2000))
        Xf = Xf.copy()
        for c in categorical:
            Xf[c] = Xf[c].astype(object)
        est.fit(Xf, y_fit)
    model.estimator = est if kind == "lightgbm" else _ObjectCats(est, categorical)
    model.calibrator = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(model.raw(X_cal))[:, None], y_cal)
    return model


class _ObjectCats:
    """A scikit-learn pipeline that wants categorical columns as plain objects."""

    def __init__(self, est, categorical):
        self.est, self.categorical = est, categorical

    def predict_proba(self, X):
        X = X.copy()
        for c in self.categorical:
            X[c] = X[c].astype(object).where(X[c].notna(), "—")
        return self.est.predict_proba(X)
