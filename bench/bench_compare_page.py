"""How fast the Compare page builds one user's data on a big store.

Builds (once; reused when the file exists with the same size) a store with synthetic ids:
``--users`` users (default 1,000,000) x 4 runs x top-20 recommendations (80 million
rows, written sorted by run, user, rank as engine.store.runs writes them), 50,000 items
with Japanese titles, 5 interactions per user, a leave-one-out split (4 train + 1 test
per user) and per-user ndcg/recall at 10 and 20 for every run.

Then, for ``--samples`` random users, times what the page computes server-side for one
user with 4 runs at K=10: ``engine.services.compare.user_view`` (history, 4 lists with item
metadata, held-out items, per-user metrics, marks, pairwise overlap) and ``drivers``
(the "↳ like …" co-occurrence explanations), each the median over the users.

Named baseline, measured in the same run: the same one-user lookup without the sort
order to prune by -- ``SELECT ... FROM <unsorted copy of run 1> WHERE user_id = ?`` on a
copy of ONE run's 20M rows shuffled by a hash (median over the same users). The ratio
page / baseline says how the whole 4-run page compares with one unpruned lookup.

    .venv/bin/python bench/bench_compare_page.py [--users 1000000] [--db PATH] [--samples 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.store import Store  # noqa: E402
from engine.store import item_index  # noqa: E402
from engine.services import compare as C  # noqa: E402

N_ITEMS = 50_000
K = 20
RUNS = 4
TITLES = ["看護師", "倉庫内ピッキング", "カフェスタッフ", "コンビニ店員", "データ入力", "塾講師",
          "清掃スタッフ", "フォークリフト", "介護職員", "コールセンター"]
PREFS = ["東京都", "大阪府", "北海道", "福岡県", "愛知県", "宮城県"]


def build(store: Store, n_users: int) -> None:
    t0 = time.perf_counter()
    uid = "'u' || lpad(CAST({u} AS VARCHAR), 7, '0')"
    iid = "'i' || lpad(CAST({i} AS VARCHAR), 5, '0')"
    titles = "[" + ", ".join(f"'{t}'" for t in TITLES) + "]"
    prefs = "[" + ", ".join(f"'{p}'" for p in PREFS) + "]"
    # skewed item popularity: item = floor(N * x^3) for uniform x
    pop = "CAST(floor({n} * pow((hash({a}) % 1000003) / 1000003.0, 3)) AS BIGINT)"
    with store.transaction() as con:
        con.execute("INSERT INTO datasets (name, source, n_users, n_items, n_interactions, n_reviews) "
                    "VALUES ('big', 'bench', ?, ?, ?, 0)", [n_users, N_ITEMS, n_users * 5])
        con.execute(f"INSERT INTO users (dataset, user_id) SELECT 'big', {uid.format(u='range')} "
                    f"FROM range(?)", [n_users])
        con.execute(
            f"INSERT INTO items (dataset, item_id, title, category, attrs) "
            f"SELECT 'big', {iid.format(i='range')}, "
            f"{titles}[range % 10 + 1] || '（' || {prefs}[range % 6 + 1] || '）No.' || range, "
            f"'category ' || (range % 12), "
            f"'{{\"prefecture\": \"' || {prefs}[range % 6 + 1] || '\", \"hourly_wage\": ' "
            f"|| (1000 + range % 700) || '}}' FROM range(?)", [N_ITEMS])
        # 5 interactions per user, sorted by user then time; the last one is the test item
        inter = (f"SELECT {uid.format(u='t // 5')} AS user_id, "
                 f"{iid.format(i=pop.format(n=N_ITEMS, a='t'))} AS item_id, "
                 f"TIMESTAMP '2026-01-01' + to_minutes(CAST(t % 5 AS BIGINT) * 600) AS ts, "
                 f"t % 5 AS pos FROM range(?) r(t)")
        con.execute(f"INSERT INTO interactions (dataset, user_id, item_id, ts, event, weight) "
                    f"SELECT 'big', user_id, item_id, ts, 'view', 1.0 FROM ({inter})", [n_users * 5])
        con.execute("INSERT INTO split_defs (split_id, dataset, method) VALUES (1, 'big', 'leave_last_n')")
        con.execute(f"INSERT INTO splits (split_id, user_id, item_id, part, ts, weight) "
                    f"SELECT 1, user_id, item_id, CASE WHEN pos = 4 THEN 'test' ELSE 'train' END, ts, 1.0 "
                    f"FROM ({inter})", [n_users * 5])
    print(f"  users, items, interactions, split: {time.perf_counter() - t0:.1f} s", flush=True)
    for run in range(1, RUNS + 1):
        t0 = time.perf_counter()
        with store.transaction() as con:
            con.execute("INSERT INTO runs (run_id, dataset, split_id, algorithm, name, source, status, k, "
                        "n_users) VALUES (?, 'big', 1, ?, ?, 'trained', 'done', ?, ?)",
                        [run, f"algo{run}", f"algo{run}", K, n_users])
            # for half the users all runs share the generator of the first 10 slots, so
            # lists overlap partly; ranks are contiguous; rows come out sorted by user, rank
            # a skewed start per (user, run) plus rank * 7919 (coprime to 50,000): the 20
            # items of a list are distinct
            start = pop.format(n=N_ITEMS, a=f"t // {K}, CASE WHEN (t // {K}) % 2 = 0 "
                                            f"AND t % {K} < 10 THEN 0 ELSE {run} END")
            item = f"(({start}) + (t % {K}) * 7919) % {N_ITEMS}"
            con.execute(f"INSERT INTO recommendations SELECT ?, {uid.format(u=f't // {K}')}, "
                        f"CAST(t % {K} + 1 AS SMALLINT), {iid.format(i=item)}, 1.0 / (t % {K} + 1) "
                        f"FROM range(?) r(t)", [run, n_users * K])
            for metric in ("ndcg", "recall"):
                for k in (10, 20):
                    con.execute(f"INSERT INTO user_metrics SELECT ?, {uid.format(u='t')}, ?, ?, "
                                f"(hash(t, ?, ?) % 100) / 400.0 FROM range(?) r(t)",
                                [run, metric, k, run, k, n_users])
            con.execute("INSERT INTO metrics VALUES (?, 'ndcg', 10, 0.1), (?, 'recall', 10, 0.2)",
                        [run, run])
            item_index.index_run(con, run)  # the Item page's per-item summaries
        print(f"  run {run}: {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    with store.transaction() as con:
        con.execute("CREATE TABLE rec_unsorted AS SELECT * FROM recommendations WHERE run_id = 1 "
                    "ORDER BY hash(user_id, rank)")
    print(f"  unsorted copy of run 1: {time.perf_counter() - t0:.1f} s", flush=True)


def median_time(fn, args_list) -> tuple[float, list]:
    times, outs = [], []
    for args in args_list:
        t0 = time.perf_counter()
        outs.append(fn(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times), outs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--db", default=None, help="store file (default /tmp/recscope-bench-compare-<users>.duckdb)")
    args = ap.parse_args()
    path = Path(args.db or f"/tmp/recscope-bench-compare-{args.users}.duckdb")
    store = Store(path)
    if not path.exists() or store.scalar("SELECT count(*) FROM runs") != RUNS:
        path.unlink(missing_ok=True)
        print(f"building {path}: {args.users:,} users x {RUNS} runs x top-{K} "
              f"= {args.users * RUNS * K:,} recommendation rows", flush=True)
        t0 = time.perf_counter()
        build(store, args.users)
        print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    n_recs = store.scalar("SELECT count(*) FROM recommendations")
    print(f"store {path}: {n_recs:,} recommendation rows, {path.stat().st_size / 1e9:.2f} GB")

    n_users = int(store.scalar("SELECT n_users FROM datasets WHERE name = 'big'"))
    users = [f"u{u:07d}" for u in random.Random(0).sample(range(n_users), args.samples + 1)]
    warm, users = users[0], users[1:]
    runs = (1, 2, 3, 4)
    C.user_view(store, "big", runs, warm, 10)              # open the file once (OS cache)

    t_view, views = median_time(lambda u: C.user_view(store, "big", runs, u, 10),
                                [(u,) for u in users])
    assert all(len(v["lists"]) == 4 * 10 for v in views), "every user has 4 lists of 10"

    def drv(u, v):
        return C.drivers(store, "big", 1, u, sorted(set(v["lists"]["item_id"])), 1)

    t_drv, _ = median_time(drv, list(zip(users, views)))
    t_base, base = median_time(
        lambda u: store.df("SELECT user_id, rank, item_id, score FROM rec_unsorted "
                           "WHERE user_id = ? AND rank <= 10 ORDER BY rank", [u]),
        [(u,) for u in users])
    assert all(len(b) == 10 for b in base)
    t_sorted1, _ = median_time(
        lambda u: store.df("SELECT user_id, rank, item_id, score FROM recommendations "
                           "WHERE run_id = 1 AND user_id = ? AND rank <= 10 ORDER BY rank", [u]),
        [(u,) for u in users])

    print(f"\nmedian over {len(users)} random users, 4 runs, K=10:")
    print(f"  page data for one user (compare.user_view):     {t_view * 1000:8.1f} ms")
    print(f"  '↳ like' drivers for that user (compare.drivers): {t_drv * 1000:8.1f} ms")
    print(f"  baseline: one run's lookup on an UNSORTED copy:   {t_base * 1000:8.1f} ms")
    print(f"  (same lookup on the sorted table, one run:        {t_sorted1 * 1000:8.1f} ms)")
    print(f"ratio page data (4 runs) / unsorted one-run lookup: {t_view / t_base:.2f}")
    print(f"ratio page data + drivers / unsorted lookup:        {(t_view + t_drv) / t_base:.2f}")


if __name__ == "__main__":
    main()
