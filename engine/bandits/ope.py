"""Off-policy evaluation from logs with propensities (Open Bandit Dataset format).

A log row is one impression: a user context, the (item, position) shown, whether it was
clicked and ``propensity_score``, the logging policy's probability of showing that item
at that position. To estimate another policy's click rate per impression:

- IPW:   mean(w * click), with w = pi_target(item | position, x) / propensity_score;
- SNIPW: sum(w * click) / sum(w) (self-normalised: bounded, slightly biased);
- DM:    mean over rows of sum_a pi_target(a | position, x) * q(x, a, position), with a
         reward model q fitted on the log;
- DR:    DM + mean(w * (click - q(x, item, position))).
Also the effective sample size (sum w)^2 / sum w^2 and the largest weight.

Reward models (``reward_model``):
- "means" (default): per-(item, position) click rate shrunk towards the position's click
  rate with the strength of ``prior_strength`` impressions. With ~0.4% clicks there are
  few clicks per (item, position), so the shrinkage keeps rare pairs from reading 0 or 1.
- "logistic": scikit-learn logistic regression on one-hot user features, item and
  position (no interactions), L2 with C=1.

Written by hand because the reference implementation (obp, the Open Bandit Pipeline)
is not a dependency; each estimator is one line of numpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError

REQUIRED = ["item_id", "position", "click", "propensity_score"]
TARGETS = ("uniform",)
REWARD_MODELS = ("means", "logistic")


@dataclass
class OPEResult:
    ipw: float
    snipw: float
    dm: float
    dr: float
    ess: float
    max_weight: float
    n: int
    ipw_se: float             # standard error of the IPW mean
    logged_rate: float        # the logging policy's own click rate (mean click)
    target: str
    reward_model: str
    n_items: int
    n_positions: int

    def as_dict(self) -> dict:
        return asdict(self)


def read_logs(path: str | Path) -> pd.DataFrame:
    """Read an OBD-format CSV and check the columns the estimators need."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"The logs file {path} does not exist.")
    try:
        df = pd.read_csv(path, index_col=0)
    except Exception as exc:  # pandas raises many kinds; one sentence for a person
        raise DataError(f"Could not read {path} as CSV: {exc}.") from None
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"The logs file {path} lacks the column {missing[0]!r}; expected the "
                        f"Open Bandit Dataset columns {', '.join(REQUIRED)}.")
    for col in REQUIRED:
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise DataError(f"Column {col!r} of {path} must be numeric.")
        if df[col].isna().any():
            row = int(np.flatnonzero(df[col].isna().to_numpy())[0])
            raise DataError(f"Column {col!r} of {path} is empty in data row {row + 1}.")
    for col in ("item_id", "position"):  # indices: whole numbers from 0 (never truncated)
        v = df[col].to_numpy(float)
        bad = ~np.isfinite(v) | (v < 0) | (v != np.floor(v)) | (v > 1_000_000)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{col} in data row {row + 1} of {path} is {df[col].iloc[row]}; "
                            f"expected a whole number from 0 to 1,000,000.")
    bad = (df["propensity_score"] <= 0) | (df["propensity_score"] > 1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"propensity_score in data row {row + 1} of {path} is "
                        f"{df['propensity_score'].iloc[row]}; expected a probability in (0, 1].")
    if not df["click"].isin([0, 1]).all():
        raise DataError(f"Column 'click' of {path} must hold 0 or 1.")
    if df.empty:
        raise DataError(f"The logs file {path} has no rows.")
    return df


def _n_items(df: pd.DataFrame) -> int:
    aff = [c for c in df.columns if str(c).startswith("user-item_affinity_")]
    return max(len(aff), int(df["item_id"].max()) + 1)


def _user_features(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if str(c).startswith("user_feature_")]


def _q_means(df: pd.DataFrame, n_items: int, n_pos: int, prior_strength: float) -> np.ndarray:
    """(n_positions, n_items) click rates shrunk towards each position's rate."""
    item = df["item_id"].to_numpy(int)
    pos = df["position"].to_numpy(int)
    click = df["click"].to_numpy(float)
    q = np.empty((n_pos, n_items))
    for p in range(n_pos):
        m = pos == p
        base = click[m].mean() if m.any() else click.mean()
        n = np.bincount(item[m], minlength=n_items)
        s = np.bincount(item[m], weights=click[m], minlength=n_items)
        q[p] = (s + prior_strength * base) / (n + prior_strength)
    return q


def _logistic(df: pd.DataFrame, n_items: int, n_pos: int):
    """Fit P(click | user features, item, position); returns a predict(rows, items) fn."""
    # scikit-learn takes about a second to import: loaded only for the direct-method
    # estimator, so the bandit pages and commands that never fit one do not pay for it
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    feats = _user_features(df)
    enc_u = OneHotEncoder(handle_unknown="ignore")
    xu = enc_u.fit_transform(df[feats].astype(str)) if feats else sparse.csr_matrix((len(df), 0))
    eye_i = sparse.identity(n_items, format="csr")
    eye_p = sparse.identity(n_pos, format="csr")
    item = df["item_id"].to_numpy(int)
    pos = df["position"].to_numpy(int)
    x = sparse.hstack([xu, eye_i[item], eye_p[pos]]).tocsr()
    y = df["click"].to_numpy(int)
    if y.min() == y.max():
        rate = float(y.mean())
        return lambda rows, items: np.full(len(rows), rate)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)

    def predict(rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        xx = sparse.hstack([xu[rows], eye_i[items], eye_p[pos[rows]]]).tocsr()
        return model.predict_proba(xx)[:, 1]

    return predict


def evaluate(df: pd.DataFrame, target: str = "uniform", reward_model: str = "means",
             prior_strength: float = 100.0) -> OPEResult:
    """Estimate the click rate per impression of ``target`` from the log ``df``."""
    if target not in TARGETS:
        raise DataError(f"Unknown --target {target!r}; expected one of {', '.join(TARGETS)}.")
    if reward_model not in REWARD_MODELS:
        raise DataError(f"Unknown reward model {reward_model!r}; expected one of "
                        f"{', '.join(REWARD_MODELS)}.")
    n_items = _n_items(df)
    # Positions are labels (OBD numbers them 1..3): index them 0..n_pos-1.
    pos_labels, pos_codes = np.unique(df["position"].to_numpy(int), return_inverse=True)
    n_pos = len(pos_labels)
    df = df.assign(position=pos_codes)
    item = df["item_id"].to_numpy(int)
    pos = pos_codes
    click = df["click"].to_numpy(float)
    pscore = df["propensity_score"].to_numpy(float)
    n = len(df)
    # Uniform target: every item equally likely at every position, 1 / n_items.
    pi_target = np.full(n, 1.0 / n_items)
    w = pi_target / pscore
    ipw_terms = w * click
    ipw = float(ipw_terms.mean())
    snipw = float(ipw_terms.sum() / w.sum())
    if reward_model == "means":
        q = _q_means(df, n_items, n_pos, prior_strength)
        q_logged = q[pos, item]
        q_target = q.mean(axis=1)[pos]          # sum_a (1/n_items) q(a, position)
    else:
        predict = _logistic(df, n_items, n_pos)
        rows = np.arange(n)
        q_logged = predict(rows, item)
        q_target = np.zeros(n)
        for a in range(n_items):  # 80 passes over the log, each a sparse predict
            q_target += predict(rows, np.full(n, a)) / n_items
    dm = float(q_target.mean())
    dr = float(dm + np.mean(w * (click - q_logged)))
    return OPEResult(
        ipw=ipw, snipw=snipw, dm=dm, dr=dr, ess=float(w.sum() ** 2 / np.sum(w ** 2)),
        max_weight=float(w.max()), n=n, ipw_se=float(ipw_terms.std(ddof=1) / np.sqrt(n)),
        logged_rate=float(click.mean()), target=target, reward_model=reward_model,
        n_items=n_items, n_positions=n_pos)


def evaluate_file(path: str | Path, target: str = "uniform", reward_model: str = "means") -> OPEResult:
    return evaluate(read_logs(path), target, reward_model)
