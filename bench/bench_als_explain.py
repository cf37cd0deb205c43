"""What the ALS model's own explanations cost on the Compare page, at 50,000 items.

Builds (once; reused when the file exists) a store with a dataset of ``--items`` items
(default 50,000; every one of them trained on) and ``--users`` users (default 40,000)
with ~8 events each in taste clusters, and trains ``als`` (64 factors, the defaults)
and ``popularity`` on a leave-last-one-out split with recscope's own pipeline, so the
ALS run keeps its item factors in ``run_artifacts`` as every trained ALS run does.

Prints what the factors add to the store, then for ``--samples`` users of the ALS run
(median over them, top-10 list):
  - the model's drivers (``compare.model_drivers``: read the factors, re-solve the user,
    explain 10 items), what the page now computes per ALS run and user;
  - named baseline, measured in the same run: the co-interaction stand-in for the same
    10 items (``compare.drivers``), what the page computed for that run before;
  - with ``--page``: the whole Compare page (streamlit AppTest, cold cache, runs
    als + popularity, K=10) for one user, in this tree and, with ``--before DIR``, in an
    older tree exported beside it (``git archive <commit> | tar -x -C DIR``).

    .venv/bin/python bench/bench_als_explain.py [--items 50000] [--users 40000]
        [--samples 20] [--db PATH] [--page] [--before DIR]

``--db PATH --dataset NAME`` measures an existing store instead (e.g. the demo:
``recscope demo --db /tmp/x.duckdb``, then ``--db /tmp/x.duckdb --dataset jobboard``);
it uses the dataset's first finished als and popularity runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DATASET = "big_als"


def build(path: Path, n_items: int, n_users: int) -> None:
    from engine.data.dataset import Dataset
    from engine.pipeline import train_runs
    from engine.store import Store
    from engine.store.datasets import save_dataset

    rng = np.random.default_rng(0)
    n_clusters = 200
    per = 8
    # each user draws from their cluster's slice of the catalogue (skewed), sometimes anywhere
    cluster = rng.integers(0, n_clusters, n_users)
    size = n_items // n_clusters
    local = np.floor(size * rng.random((n_users, per)) ** 2).astype(np.int64)
    items = cluster[:, None] * size + local
    anywhere = rng.random((n_users, per)) < 0.2
    items[anywhere] = rng.integers(0, n_items, anywhere.sum())
    users = np.repeat(np.arange(n_users), per)
    day = np.tile(np.arange(1, per + 1), n_users)
    # one early event per item, so every item is in the training part
    extra_u = (np.arange(n_items) * 7919) % n_users
    inter = pd.DataFrame({
        "user_id": np.concatenate([users, extra_u]),
        "item_id": np.concatenate([items.ravel(), np.arange(n_items)]),
        "day": np.concatenate([day, np.zeros(n_items, dtype=np.int64)])})
    inter["user_id"] = "u" + inter["user_id"].astype(str).str.zfill(6)
    inter["item_id"] = "i" + inter["item_id"].astype(str).str.zfill(6)
    inter["timestamp"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(inter.pop("day"), unit="D")
    inter["event"] = np.where(np.arange(len(inter)) % 5 == 0, "apply", "view")
    inter["weight"] = 1.0
    inter = inter.drop_duplicates(["user_id", "item_id"]).reset_index(drop=True)
    ids = "i" + pd.Series(np.arange(n_items)).astype(str).str.zfill(6)
    titles = pd.DataFrame({"item_id": ids, "title": "求人 No." + ids.str[1:],
                           "category": "cluster " + (np.arange(n_items) // size).astype(str)})
    store = Store(path)
    save_dataset(store, Dataset(name=DATASET, interactions=inter, users=None, items=titles))
    t0 = time.perf_counter()
    res = train_runs(store, DATASET, ["als", "popularity"], k=10, split="leave_last_n")
    print(f"  trained {[r['status'] for r in res]} in {time.perf_counter() - t0:.0f} s", flush=True)


def median_ms(fn, args_list) -> float:
    times = []
    for args in args_list:
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def page_ms(src: Path, db: Path, user_list: list[str], runs: str, dataset: str) -> float:
    """Median ms of one cold Compare page run per user, measured in a child process
    importing the tree ``src`` (so an older tree can be timed the same way)."""
    code = f"""
import statistics, sys, time
sys.path.insert(0, {str(src)!r})
import streamlit as st
from streamlit.testing.v1 import AppTest
times = []
for i, u in enumerate({user_list!r}):
    st.cache_data.clear()
    at = AppTest.from_file({str(src / 'pages' / 'compare.py')!r}, default_timeout=300)
    for k, v in dict(dataset={dataset!r}, runs={runs!r}, user=u, k="10").items():
        at.query_params[k] = v
    t0 = time.perf_counter()
    at.run()
    dt = time.perf_counter() - t0
    assert not at.exception, at.exception
    if i:                      # the first run warms imports and the OS file cache
        times.append(dt)
print(1000 * statistics.median(times))
"""
    env = dict(os.environ, RECSCOPE_DB=str(db))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=str(src))
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--users", type=int, default=40_000)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--db", default=None)
    ap.add_argument("--dataset", default=DATASET, help="an existing dataset in --db to measure")
    ap.add_argument("--page", action="store_true", help="also time the whole page (AppTest)")
    ap.add_argument("--before", default=None, help="an older source tree to time the page in")
    args = ap.parse_args()

    from engine.store import Store
    from engine.services import compare as C
    from engine.store import runs as R

    path = Path(args.db or f"/tmp/recscope-bench-als-{args.items}.duckdb")
    store = Store(path)
    dataset = args.dataset
    if dataset == DATASET and (not path.exists() or store.scalar(
            "SELECT count(*) FROM runs WHERE status = 'done' AND dataset = ?", [DATASET]) != 2):
        path.unlink(missing_ok=True)
        print(f"building {path}: {args.items:,} items, {args.users:,} users", flush=True)
        build(path, args.items, args.users)
    runs = R.list_runs(store, dataset)
    runs = runs[runs["status"] == "done"]
    als = int(runs.loc[runs["algorithm"] == "als", "run_id"].iloc[0])
    pop = int(runs.loc[runs["algorithm"] == "popularity", "run_id"].iloc[0])
    split = int(runs["split_id"].iloc[0])
    sizes = R.artifact_sizes(store, [als])
    factors, ids = R.item_factors(store, als)
    total = int(sizes["bytes"].sum())
    print(f"store {path}: {path.stat().st_size / 1e6:.1f} MB on disk; ALS run {als} keeps "
          f"{factors.shape[0]:,} x {factors.shape[1]} item factors:")
    for _, r in sizes.iterrows():
        print(f"  {r['name']:<13} {r['format']:<5} {r['bytes'] / 1e6:8.2f} MB")
    print(f"  total          {total / 1e6:8.2f} MB ({factors.nbytes / 1e6:.2f} MB of raw float32)")

    users = R.recommendations(store, als, k=1)["user_id"].sample(
        args.samples + 1, random_state=0).tolist()
    warm, users = users[0], users[1:]
    lists = {u: R.recommendations(store, als, [u], k=10)["item_id"].tolist() for u in users + [warm]}
    C.model_drivers(store, dataset, als, warm, lists[warm], 1)   # imports, OS cache
    t_read = median_ms(lambda: R.item_factors(store, als), [()] * 5)
    t_model = median_ms(lambda u: C.model_drivers(store, dataset, als, u, lists[u], 1),
                        [(u,) for u in users])
    t_base = median_ms(lambda u: C.drivers(store, dataset, split, u, lists[u], 1),
                       [(u,) for u in users])
    print(f"\nmedian over {len(users)} users of the ALS run, top-10 list:")
    print(f"  read the item factors (runs.item_factors):            {t_read:8.1f} ms")
    print(f"  model's drivers, 10 items (compare.model_drivers):    {t_model:8.1f} ms")
    print(f"  baseline: co-interaction stand-in (compare.drivers):  {t_base:8.1f} ms")
    print(f"ratio model drivers / stand-in: {t_model / t_base:.2f}")

    if args.page or args.before:
        page_users = users[:6]
        run_ids = f"{als},{pop}"
        now = page_ms(ROOT, path, page_users, run_ids, dataset)
        print(f"\nwhole Compare page, cold cache, runs {run_ids}, one user (median of "
              f"{len(page_users) - 1}):")
        print(f"  this tree:   {now:8.0f} ms")
        if args.before:
            before = page_ms(Path(args.before).resolve(), path, page_users, run_ids, dataset)
            print(f"  before ({args.before}): {before:8.0f} ms")
            print(f"ratio this tree / before: {now / before:.2f}")


if __name__ == "__main__":
    main()
