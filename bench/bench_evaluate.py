"""Evaluation speed: vectorised engine.evaluate against straightforward per-user loops.

Synthetic top-20 lists (items drawn from a 50,000-item catalogue) and 3 test items per
user. Times, in the same run:

  accuracy   engine.evaluate.accuracy_metrics(recs, test, ks=(10, 20))
  baseline   a per-user Python loop computing the same six metrics at K=10 and 20 from
             dicts of lists (the obvious implementation), on the first --loop-users users;
             its time is scaled linearly to --users for the ratio
  overlap    engine.evaluate.overlap.user_overlap(recs_a, recs_b, k=10)
  baseline   per user: jaccard() + rbo() + kendall_tau() (scipy), on --loop-users users,
             scaled linearly

and checks that both ways give the same values on the loop users.

    .venv/bin/python bench/bench_evaluate.py                      # 1,000,000 users
    .venv/bin/python bench/bench_evaluate.py --users 100000       # quicker
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.evaluate import accuracy_metrics, jaccard, kendall_tau, rbo  # noqa: E402
from engine.evaluate.overlap import user_overlap  # noqa: E402


def make(n_users: int, k: int, n_items: int, seed: int):
    rng = np.random.default_rng(seed)
    uid = np.array([f"u{i}" for i in range(n_users)], dtype=object)
    # distinct items per list: a random start plus increasing random steps, mod catalogue
    steps = rng.integers(1, 500, size=(n_users, k)).cumsum(axis=1)
    items = (rng.integers(0, n_items, size=(n_users, 1)) + steps) % n_items
    recs = pd.DataFrame({
        "user_id": pd.array(np.repeat(uid, k), dtype="str"),
        "rank": np.tile(np.arange(1, k + 1), n_users),
        "item_id": pd.array(np.char.add("i", items.ravel().astype(str)), dtype="str"),
        "score": rng.random(n_users * k)})
    return uid, recs, rng


def loop_accuracy(lists: dict, truth: dict, ks) -> dict:
    out = {}
    for u, rel in truth.items():
        top_all = lists.get(u, [])
        for k in ks:
            top = top_all[:k]
            hit = [it in rel for it in top]
            n_hit = sum(hit)
            m = min(k, len(rel))
            dcg = sum(1 / math.log2(r + 2) for r, h in enumerate(hit) if h)
            idcg = sum(1 / math.log2(r + 2) for r in range(m))
            ap, seen, first = 0.0, 0, 0
            for r, h in enumerate(hit):
                if h:
                    seen += 1
                    ap += seen / (r + 1)
                    first = first or r + 1
            out[u, k] = (n_hit / k, n_hit / len(rel), dcg / idcg, ap / m,
                         1 / first if first else 0.0, float(n_hit > 0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--loop-users", type=int, default=20_000)
    args = ap.parse_args()
    U, L = args.users, min(args.loop_users, args.users)

    uid, recs, rng = make(U, 20, 50_000, 0)
    test = pd.DataFrame({"user_id": pd.array(np.repeat(uid, 3), dtype="str"),
                         "item_id": pd.array(np.char.add("i", rng.integers(0, 2000, U * 3).astype(str)),
                                             dtype="str")})
    t0 = time.perf_counter()
    um = accuracy_metrics(recs, test, ks=(10, 20))
    t_vec = time.perf_counter() - t0

    sub_users = set(uid[:L])
    r_sub = recs[recs["user_id"].isin(sub_users)]
    t_sub = test[test["user_id"].isin(sub_users)]
    t0 = time.perf_counter()
    lists = {u: list(g["item_id"]) for u, g in r_sub.groupby("user_id", sort=False)}
    truth = {u: set(g["item_id"]) for u, g in t_sub.groupby("user_id", sort=False)}
    ref = loop_accuracy(lists, truth, (10, 20))
    t_loop = (time.perf_counter() - t0) * U / L
    got = um[um["user_id"].isin(sub_users)].pivot_table(index=["user_id", "k"], columns="metric",
                                                        values="value")
    names = ["precision", "recall", "ndcg", "map", "mrr", "hit_rate"]
    worst = max(abs(got.loc[key, names].to_numpy() - np.array(v)).max() for key, v in ref.items())
    print(f"accuracy_metrics  {U:,} users x top-20, K=10,20: {t_vec:.1f} s; per-user loop "
          f"(measured on {L:,}, scaled): {t_loop:.1f} s; ratio loop/ours = {t_loop / t_vec:.1f}x; "
          f"max |difference| = {worst:.1e}")

    _, recs_b, _ = make(U, 20, 50_000, 1)
    t0 = time.perf_counter()
    ov = user_overlap(recs, recs_b, k=10)
    t_ov = time.perf_counter() - t0
    a10, b10 = recs[recs["rank"] <= 10], recs_b[recs_b["rank"] <= 10]
    la = {u: list(g["item_id"]) for u, g in a10[a10["user_id"].isin(sub_users)].groupby("user_id")}
    lb = {u: list(g["item_id"]) for u, g in b10[b10["user_id"].isin(sub_users)].groupby("user_id")}
    t0 = time.perf_counter()
    slow = {u: (jaccard(la[u], lb[u]), rbo(la[u], lb[u], 0.9).ext, kendall_tau(la[u], lb[u]))
            for u in la}
    t_slow = (time.perf_counter() - t0) * U / L
    o = ov.set_index("user_id").loc[list(slow)]
    diff = np.nanmax(np.abs(o[["jaccard", "rbo", "kendall_tau"]].to_numpy()
                            - np.array(list(slow.values()), dtype=float)))
    print(f"user_overlap      {U:,} users, k=10: {t_ov:.1f} s; per-user loop (measured on "
          f"{L:,}, scaled): {t_slow:.1f} s; ratio loop/ours = {t_slow / t_ov:.1f}x; "
          f"max |difference| = {diff:.1e}")


if __name__ == "__main__":
    main()
