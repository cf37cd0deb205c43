"""Scale: 1,000,000 users x 50,000 items end to end, time and memory per stage.

Stages: build a synthetic power-law matrix (~20 interactions per user), train implicit
ALS (64 factors, a few iterations), score every user's top-20 with
engine.recommend.topk (training items excluded), turn them into a recommendations frame
with text ids, and write it to a temporary DuckDB store through the same store calls a
trained run uses (engine.store.runs.create_run / finish_run, one transaction).

For each stage it prints the wall time, the RSS after the stage and the process's peak
RSS so far. The named baseline for the scoring stage is the bare chunked product
U @ V.T (no exclusion, no selection), timed back to back with topk on a --floor-users
sample of users (so that both meet the same load on a shared machine).

    .venv/bin/python bench/bench_scale.py                  # full size: several minutes
    .venv/bin/python bench/bench_scale.py --users 100000   # smaller
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_topk import floor_product, synthetic  # noqa: E402
from engine.recommend import topk  # noqa: E402
from engine.recommend.topk import _CHUNK_CELLS, default_threads  # noqa: E402
from engine.store.core import Store  # noqa: E402
from engine.store import runs as store_runs  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Stages:
    def __init__(self):
        self.rows = []
        print(f"{'stage':<28}{'seconds':>10}{'RSS MB':>10}{'peak MB':>10}", flush=True)

    def run(self, name, fn):
        t = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t
        self.rows.append((name, dt))
        print(f"{name:<28}{dt:>10.1f}{rss_mb():>10.0f}{peak_mb():>10.0f}", flush=True)
        return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--per-user", type=float, default=20.0)
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--floor-users", type=int, default=50_000,
                    help="users in the U @ V.T floor sample (scaled to --users)")
    a = ap.parse_args(argv)

    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    print(f"{a.users:,} users x {a.items:,} items, ~{a.per_user:g} interactions/user, "
          f"ALS {a.factors} factors x {a.iterations} iterations, top-{a.k}, "
          f"{default_threads()} threads")
    st = Stages()
    X = st.run("build matrix", lambda: synthetic(a.users, a.items, a.per_user))
    print(f"  {X.nnz:,} interactions")

    def fit():
        with threadpool_limits(1, "blas"):
            m = AlternatingLeastSquares(factors=a.factors, iterations=a.iterations,
                                        random_state=0)
            m.fit(X, show_progress=False)
        return m

    model = st.run("fit ALS", fit)
    U = np.ascontiguousarray(model.user_factors, dtype=np.float32)
    V = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    del model

    items, scores = st.run("topk (all users)", lambda: topk(U, V, a.k, X))
    # Baseline: the bare chunked product on a sample of users, timed back to back with
    # topk on the same sample (so both see the same machine load), then scaled up.
    n_floor = min(a.floor_users, a.users)
    chunk = int(min(4096, max(16, _CHUNK_CELLS // a.items)))  # as topk chunks
    t = time.perf_counter()
    floor_product(U[:n_floor], V, chunk, default_threads())
    floor = time.perf_counter() - t
    t = time.perf_counter()
    topk(U[:n_floor], V, a.k, X[:n_floor])
    sample = time.perf_counter() - t
    print(f"  on {n_floor:,} users back to back: topk {sample:.1f} s, floor U @ V.T "
          f"{floor:.1f} s, topk/floor = {sample / floor:.2f} (floor scaled to all users: "
          f"{floor * a.users / n_floor:.0f} s)")

    def frame():
        user_ids = np.array([f"u{u:07d}" for u in range(a.users)], dtype=object)
        item_ids = np.array([f"i{i:05d}" for i in range(a.items)], dtype=object)
        rows, cols = np.nonzero(items >= 0)
        return pd.DataFrame({"user_id": user_ids[rows], "rank": (cols + 1).astype(np.int32),
                             "item_id": item_ids[items[rows, cols]],
                             "score": scores[rows, cols].astype(np.float64)})

    recs = st.run("recs frame (text ids)", frame)
    print(f"  {len(recs):,} rows")
    del items, scores

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "scale.duckdb")

        def write():
            run_id = store_runs.create_run(store, dataset="synthetic-scale", split_id=None,
                                           algorithm="als", params={"factors": a.factors})
            store_runs.finish_run(store, run_id, recs=recs,
                                  metrics=pd.DataFrame({"metric": [], "k": [], "value": []}),
                                  n_users=a.users)
            return run_id

        run_id = st.run("write store (1 transaction)", write)
        n = store.scalar("SELECT count(*) FROM recommendations WHERE run_id = ?", [run_id])
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
        print(f"  {n:,} rows in the store, file {size:.0f} MB")
    total = sum(dt for _, dt in st.rows)
    print(f"total {total:.1f} s, peak RSS {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
