"""Cross-validated quality of the review classifier on the real sets and the demo reviews.

    .venv/bin/python bench/reviews_cv.py [--sets youtube,sms,japanese,jobboard] [--folds 5]

Prints 5-fold ROC-AUC, PR-AUC and F1 at the F1-maximising out-of-fold threshold for each
set, and the same for a plain word-unigram TF-IDF + logistic regression baseline measured
in the same run (ratio = ours / baseline ROC-AUC).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.reviews.model import ModelParams, cross_validate, metrics, prepare  # noqa: E402

SHARED = Path(os.environ.get("RECSCOPE_SHARED") or ROOT.parent / "shared") / "datasets" / "reviews"


def load_youtube() -> pd.DataFrame:
    frames = [pd.read_csv(f) for f in sorted((SHARED / "youtube_spam").glob("*.csv"))]
    df = pd.concat(frames, ignore_index=True)
    return pd.DataFrame({"review_id": [str(i) for i in range(len(df))], "text": df["CONTENT"].astype(str),
                         "label": df["CLASS"].astype(int)})


def load_sms() -> pd.DataFrame:
    rows = [line.rstrip("\n").split("\t", 1) for line in
            (SHARED / "sms_spam" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines() if line]
    return pd.DataFrame({"review_id": [str(i) for i in range(len(rows))], "text": [r[1] for r in rows],
                         "label": [int(r[0] == "spam") for r in rows]})


def load_japanese() -> pd.DataFrame:
    df = pd.read_csv(SHARED / "japanese_toxic" / "subset.csv")
    label = ((df["Toxic"] + df["Very Toxic"]) > df["Not Toxic"]).astype(int)
    return pd.DataFrame({"review_id": df["id"].astype(str), "text": df["text"].astype(str), "label": label})


def load_jobboard() -> pd.DataFrame:
    from engine.data.synthetic import make_job_board

    rv = make_job_board(seed=0, name="jobboard").reviews
    return rv[rv["label"].notna()][["review_id", "text", "label"]].astype({"label": int})


LOADERS = {"youtube": load_youtube, "sms": load_sms, "japanese": load_japanese, "jobboard": load_jobboard}


def baseline_oof(texts, y, folds, seed=0):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=2000))
    return cross_val_predict(pipe, texts, y, cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                             method="predict_proba")[:, 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="youtube,sms,japanese,jobboard")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--C", type=float, default=None)
    args = ap.parse_args()
    params = ModelParams(cv_folds=args.folds, **({"C": args.C} if args.C else {}))
    print(f"{'set':10} {'n':>6} {'pos':>5} {'ROC-AUC':>8} {'PR-AUC':>7} {'F1':>6} {'thr':>6} "
          f"{'base AUC':>8} {'ratio':>6} {'secs':>6}")
    for name in args.sets.split(","):
        try:
            df = LOADERS[name]()
        except (FileNotFoundError, ModuleNotFoundError) as exc:
            print(f"{name:10} skipped: {exc}")
            continue
        t0 = time.perf_counter()
        X = prepare(df)
        y = df["label"].to_numpy()
        dec = cross_validate(X, y, params)
        # Platt-scale the out-of-fold values as train_dataset does, so 'thr' is a probability
        from sklearn.linear_model import LogisticRegression
        p = LogisticRegression(C=1e6).fit(dec.reshape(-1, 1), y).predict_proba(dec.reshape(-1, 1))[:, 1]
        m = metrics(y, p)
        secs = time.perf_counter() - t0
        b = metrics(y, baseline_oof(df["text"].tolist(), y, args.folds))
        print(f"{name:10} {m['n']:>6} {m['n_positive']:>5} {m['roc_auc']:>8.4f} {m['pr_auc']:>7.4f} "
              f"{m['f1']:>6.3f} {m['threshold']:>6.3f} {b['roc_auc']:>8.4f} "
              f"{m['roc_auc'] / b['roc_auc']:>6.3f} {secs:>6.1f}", flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
