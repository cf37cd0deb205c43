"""Scoring fan-out on Ray against the local backend: synthetic users x items, top-K.

What is timed is the fan-out ``recscope train --backend ray`` does after the fit:
``engine.pipeline.score_users`` mapping ``score_shard`` (top-K with
``engine.recommend.topk``, training items excluded, plus the per-user accuracy metrics
of one held-out item per user) over user shards, and merging the shards. The model is a
factor model with random factors (scoring cost does not depend on how the factors were
learnt; ALS fitting stays on the driver in every configuration); the catalogue-level
metrics, computed once on the driver from the merged lists, are the same work for all
three and left out.

Four configurations, in one run:
  local   the local backend (one shard in this process; topk's threads on every core)
  local-1 the same with one thread (RECSCOPE_THREADS=1): the cores one Ray worker gets
  ray-1   a Ray cluster on loopback: one node, one worker (--num-cpus 1)
  ray-2   two nodes joined on loopback, one worker each
It prints seconds, the driver's and the largest worker's peak RSS (sampled every 0.2 s;
a worker's RSS includes the object-store pages it maps), the ratios ray-1/local (the
overhead; target <= 1.25; also against local-1, like for like) and ray-2/ray-1 (the
scaling; target <= 0.6), the machine's load average, and checks that all produce
identical lists and per-user metrics.

    .venv/bin/python bench/bench_ray.py                    # full size: 1 M x 50 k, 64 factors, top-20
    .venv/bin/python bench/bench_ray.py --users 200000     # smaller
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_topk import synthetic  # noqa: E402
from engine.backends import make_backend  # noqa: E402
from engine.pipeline import score_users  # noqa: E402
from engine.recommend import registry  # noqa: E402
from tests.fixtures.ray_cluster import cluster_pids, processes, start_cluster, stop_cluster  # noqa: E402


def rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


class Peaks:
    """Peak RSS of this process and of the cluster's workers (ray::...), sampled."""

    def __init__(self, tmp: str | None):
        self.tmp, self.driver, self.worker = tmp, 0.0, 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            self.driver = max(self.driver, rss_mb())
            if self.tmp:
                procs = processes()
                for pid in cluster_pids(self.tmp):
                    if procs.get(pid, (0, ""))[1].startswith("ray::"):
                        self.worker = max(self.worker, rss_mb(pid))
            self._stop.wait(0.2)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--per-user", type=float, default=20.0, help="training items per user")
    ap.add_argument("--object-store-mb", type=int, default=None,
                    help="per node (default: room for the model, matrix and ids, >= 300)")
    args = ap.parse_args()

    print(f"load average before: {os.getloadavg()}", flush=True)
    t = time.perf_counter()
    X = synthetic(args.users, args.items, args.per_user, seed=0)
    rng = np.random.default_rng(1)
    model = registry.make("als", factors=args.factors)
    model.user_factors = rng.standard_normal((args.users, args.factors), dtype=np.float32) * 0.1
    model.item_factors = rng.standard_normal((args.items, args.factors), dtype=np.float32) * 0.1
    model.n_users, model.n_items = X.shape
    user_ids = np.array([f"U{u:07d}" for u in range(args.users)], dtype=object)
    item_ids = np.array([f"I{i:06d}" for i in range(args.items)], dtype=object)
    test = pd.DataFrame({"user_id": user_ids,
                         "item_id": item_ids[rng.integers(0, args.items, args.users)]})
    test_idx = np.arange(args.users, dtype=np.int64)
    print(f"data: {args.users:,} users x {args.items:,} items, {X.nnz:,} training events, "
          f"{args.factors} factors, top-{args.k} ({time.perf_counter() - t:.1f} s)", flush=True)
    payload_mb = (model.user_factors.nbytes + X.data.nbytes + X.indices.nbytes
                  + X.indptr.nbytes) / 2**20 + args.users * 120 / 2**20
    store_mb = args.object_store_mb or int(max(300, 2.5 * payload_mb))

    def run(backend):
        return score_users(model, X, test_idx, user_ids, item_ids, args.k, test, (10, args.k),
                           backend)

    results = {}
    # local: topk's threads on every core; local-1: one thread, the cores a one-CPU Ray
    # worker gets (each Ray task scores with as many threads as CPUs Ray gave it)
    for name, threads in (("local", None), ("local-1", "1")):
        if threads:
            os.environ["RECSCOPE_THREADS"] = threads
        try:
            with Peaks(None) as pk:
                t = time.perf_counter()
                recs, per_user, *_ = run(make_backend("local"))
                results[name] = (time.perf_counter() - t, pk, None, recs, per_user)
        finally:
            os.environ.pop("RECSCOPE_THREADS", None)
        print(f"{name:<7}{results[name][0]:8.1f} s", flush=True)
    del recs, per_user

    for name, nodes in (("ray-1", 1), ("ray-2", 2)):
        tmp = tempfile.mkdtemp(prefix="rsb-", dir="/tmp")
        try:
            address = start_cluster(tmp, nodes=nodes, object_store_mb=store_mb,
                                    pythonpath=str(ROOT))
            backend = make_backend("ray", address=address)
            try:
                backend.map(len, [[0]] * nodes * 2)  # warm: start the workers first
                with Peaks(tmp) as pk:
                    t = time.perf_counter()
                    recs, per_user, *_ = run(backend)
                    secs = time.perf_counter() - t
                results[name] = (secs, pk, backend.retries, recs, per_user)
            finally:
                backend.close()
        finally:
            stop_cluster(tmp)
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"{name}  {secs:8.1f} s", flush=True)

    print(f"\n{'config':<8}{'seconds':>10}{'driver peak MB':>16}{'worker peak MB':>16}")
    for name, (secs, pk, retries, *_rest) in results.items():
        worker = f"{pk.worker:16.0f}" if name.startswith("ray") else f"{'—':>16}"
        print(f"{name:<8}{secs:>10.1f}{pk.driver:>16.0f}{worker}")
    r1 = results["ray-1"][0] / results["local"][0]
    r1b = results["ray-1"][0] / results["local-1"][0]
    r2 = results["ray-2"][0] / results["ray-1"][0]
    print(f"ray-1/local = {r1:.2f} (target <= 1.25; local uses all {os.cpu_count()} cores, "
          f"ray-1 one)   ray-1/local-1 = {r1b:.2f} (same cores: the overhead)")
    print(f"ray-2/ray-1 = {r2:.2f} (target <= 0.6)")
    ref_recs, ref_pu = results["local"][3], results["local"][4]
    same = all(results[n][3].equals(ref_recs) and results[n][4].equals(ref_pu)
               for n in ("local-1", "ray-1", "ray-2"))
    print(f"identical lists and per-user metrics: {same}; shard retries: "
          f"{results['ray-1'][2]}, {results['ray-2'][2]}")
    print(f"load average after: {os.getloadavg()}  ({os.cpu_count()} cores)")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
