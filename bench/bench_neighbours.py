"""What keeping each training item's model neighbours (``item_neighbours``, the Item
page's "Similar by <run>") adds to training, against the same training without it.

Baseline: ``train_runs`` with ``N_NEIGHBOURS = 0`` (nothing computed, nothing stored),
in a fresh store; contender: the default ``N_NEIGHBOURS`` (20), in another fresh store.
Prints per algorithm the time of the ``neighbours <algo>`` stage against the run's
fit + recommend + evaluate time, and the store file sizes after a checkpoint.

    .venv/bin/python bench/bench_neighbours.py [ML_100K_FOLDER]
    .venv/bin/python bench/bench_neighbours.py --synthetic 50000

``--synthetic N``: N items x 20,000 users power-law matrix, ALS (3 iterations) and
itemknn, timing ``pipeline.item_neighbours`` against recommending top-20 for as many
users as there are items (the same amount of scoring, the baseline it should match).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import pipeline  # noqa: E402
from engine.store import Store  # noqa: E402

ALGOS = ["itemknn", "als", "ease"]


def _train(folder: Path, db: Path, n: int) -> tuple[dict, float]:
    from engine.data.loaders import load_movielens
    from engine.store.datasets import save_dataset

    store = Store(db)
    save_dataset(store, load_movielens(folder, "ml100k"))
    marks: dict[str, list[float]] = {}

    def progress(stage, done, total):
        marks.setdefault(stage, []).append(time.perf_counter())

    pipeline.N_NEIGHBOURS = n
    t0 = time.perf_counter()
    res = pipeline.train_runs(store, "ml100k", ALGOS, min_weight=4, progress=progress)
    total = time.perf_counter() - t0
    assert all(r["status"] == "done" for r in res), res
    with store.transaction() as con:
        con.execute("CHECKPOINT")
    runs = store.df("SELECT algorithm, fit_seconds + recommend_seconds + evaluate_seconds AS s "
                    "FROM runs ORDER BY run_id")
    stages = {s: m[-1] - m[0] for s, m in marks.items() if s.startswith("neighbours")}
    rows = int(store.scalar("SELECT count(*) FROM item_neighbours"))
    return {"runs": dict(zip(runs["algorithm"], runs["s"])), "stages": stages, "rows": rows,
            "bytes": db.stat().st_size, "total": total}, total


def movielens(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _train(folder, Path(tmp) / "warm.duckdb", 0)   # imports, caches: not measured
        base, _ = _train(folder, Path(tmp) / "base.duckdb", 0)
        got, _ = _train(folder, Path(tmp) / "nb.duckdb", 20)
    print(f"ml-100k, {', '.join(ALGOS)}, --min-weight 4")
    print(f"{'algo':10} {'run s (with)':>12} {'neighbours s':>13} {'share':>7}")
    for algo in ALGOS:
        s = got["stages"].get(f"neighbours {algo}", 0.0)
        print(f"{algo:10} {got['runs'][algo]:12.2f} {s:13.2f} {s / got['runs'][algo]:7.1%}")
    print(f"train_runs total: baseline (no neighbours) {base['total']:.2f} s, with "
          f"{got['total']:.2f} s, ratio {got['total'] / base['total']:.2f}")
    print(f"store file: baseline {base['bytes'] / 1e6:.1f} MB, with {got['bytes'] / 1e6:.1f} MB "
          f"(+{(got['bytes'] - base['bytes']) / 1e6:.1f} MB for {got['rows']:,} neighbour rows), "
          f"ratio {got['bytes'] / base['bytes']:.3f}")


def synthetic(n_items: int) -> None:
    import scipy.sparse as sp

    from engine.recommend import registry

    rng = np.random.default_rng(0)
    n_users, nnz = 20000, 30 * n_items // 2
    cols = rng.zipf(1.3, nnz) % n_items
    m = sp.csr_matrix((np.ones(nnz, np.float32), (rng.integers(0, n_users, nnz), cols)),
                      shape=(n_users, n_items))
    m.data[:] = 1
    ids = np.array([f"i{j}" for j in range(n_items)], dtype=object)
    print(f"synthetic: {n_users:,} users x {n_items:,} items, {m.nnz:,} interactions")
    for name, params in (("als", {"iterations": 3}), ("itemknn", {})):
        model = registry.make(name, seed=0, **params).fit(m)
        t0 = time.perf_counter()
        nb = pipeline.item_neighbours(model, ids)
        t_nb = time.perf_counter() - t0
        users = np.arange(n_items) % n_users
        t0 = time.perf_counter()
        for s in range(0, n_items, pipeline.RECOMMEND_BATCH):
            model.recommend(users[s:s + pipeline.RECOMMEND_BATCH], m, 20)
        t_rec = time.perf_counter() - t0
        print(f"{name:8} neighbours of {n_items:,} items {t_nb:6.1f} s ({len(nb):,} rows); "
              f"recommend top-20 for {n_items:,} users {t_rec:6.1f} s; ratio {t_nb / t_rec:.2f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--synthetic"]:
        synthetic(int(args[1]) if len(args) > 1 else 50000)
    else:
        default = ROOT.parent / "shared" / "datasets" / "movielens" / "ml-100k"
        movielens(Path(args[0]) if args else default)
