"""Funnel prediction: time of features, training and scoring, and peak memory, for the
demo job board and a synthetic set of many samples, LightGBM against the logistic
baseline (the named baseline, measured in the same run).

    .venv/bin/python bench/bench_predict.py [--samples 10000000] [--only demo|synthetic]

Each (data, model) pair runs in a child process so that its peak resident memory
(``ru_maxrss``) is its own. The synthetic set: ``--samples`` views by 1/10 as many users
of 100,000 items (popularity ~ rank^-0.8) in 20 categories over 90 days (samples: the
distinct (user, item) pairs among them, a little fewer); a view turns into an application with a
probability that grows with the user's taste for the item's category.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.predict import metrics as M  # noqa: E402
from engine.predict.features import build_features  # noqa: E402
from engine.predict.model import fit  # noqa: E402
from engine.predict.samples import build_samples, event_times, parse_target, time_split  # noqa: E402


def synthetic(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_users, n_items, n_cat = max(n // 10, 10), 100_000, 20
    cat = rng.integers(n_cat, size=n_items)
    taste = rng.dirichlet(np.full(n_cat, 0.3), size=n_users).astype("float32")
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8  # a long tail, mild enough that most
    pop = pop[rng.permutation(n_items)] / pop.sum()  # views are of distinct (user, item) pairs
    u = rng.integers(n_users, size=n)
    i = rng.choice(n_items, size=n, p=pop)
    t = pd.Timestamp("2026-01-01").value + rng.integers(0, 90 * 86_400, size=n) * 10**9
    p = 0.01 + 0.25 * taste[u, cat[i]]
    app = rng.random(n) < p
    users = np.char.add("u", u.astype(str)).astype(object)
    items = np.char.add("i", i.astype(str)).astype(object)
    inter = pd.DataFrame({
        "user_id": np.concatenate([users, users[app]]), "item_id": np.concatenate([items, items[app]]),
        "timestamp": pd.to_datetime(np.concatenate([t, t[app] + 600 * 10**9])),
        "event": np.concatenate([np.full(n, "view", dtype=object), np.full(int(app.sum()), "apply", dtype=object)]),
        "weight": 1.0})
    item_ids = np.char.add("i", np.arange(n_items).astype(str)).astype(object)
    items_df = pd.DataFrame({"item_id": item_ids, "title": item_ids, "category": cat.astype(str)})
    return inter, items_df, None


def demo():
    from engine.data.synthetic import make_job_board

    ds = make_job_board(seed=0)
    return ds.interactions, ds.items, ds.users


def one(data: str, kind: str, n: int) -> dict:
    inter, items, users = demo() if data == "demo" else synthetic(n)
    t0 = time.perf_counter()
    s = build_samples(inter, parse_target("apply")).frame
    t, _ = event_times(inter)
    ev = pd.DataFrame({"user_id": inter["user_id"].astype(str).to_numpy(),
                       "item_id": inter["item_id"].astype(str).to_numpy(), "time": t,
                       "event": inter["event"].astype(str).to_numpy()})
    X, cats = build_features(s, ev, items, users, given="view")
    t_feat = time.perf_counter() - t0
    f, c, te = time_split(s["time"].to_numpy())
    y = s["label"].to_numpy()
    t0 = time.perf_counter()
    model = fit(kind, X[f], y[f], X[c], y[c], cats)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = model.predict(X[te])
    t_score = time.perf_counter() - t0
    return {"data": data, "kind": kind, "samples": int(len(s)), "features_s": t_feat, "train_s": t_fit,
            "score_s": t_score, "roc_auc": M.safe_auc(y[te], p), "ece": M.ece(y[te], p),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument("--only", choices=["demo", "synthetic"], default=None)
    ap.add_argument("--child", nargs=2, metavar=("DATA", "KIND"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child[0], args.child[1], args.samples)))
        return 0
    for data in ([args.only] if args.only else ["demo", "synthetic"]):
        res = {}
        for kind in ("lightgbm", "logistic"):
            out = subprocess.run([sys.executable, __file__, "--samples", str(args.samples), "--child", data, kind],
                                 capture_output=True, text=True, check=True)
            res[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        for kind, r in res.items():
            total = r["features_s"] + r["train_s"] + r["score_s"]
            print(f"{data:<9} {kind:<9} samples {r['samples']:>10,}  features {r['features_s']:7.1f} s  "
                  f"train {r['train_s']:7.1f} s  score {r['score_s']:6.1f} s  total {total:7.1f} s  "
                  f"peak {r['peak_rss_mb']:7.0f} MB  AUC {r['roc_auc']:.4f}  ECE {r['ece']:.4f}")
        lg, lr = res["lightgbm"], res["logistic"]
        print(f"{data:<9} LightGBM train time / logistic train time: {lg['train_s'] / lr['train_s']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
