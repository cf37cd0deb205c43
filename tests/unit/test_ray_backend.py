"""Scoring and per-user evaluation fanned out on a real Ray cluster (engine/backends).

The cluster runs on loopback: a head and a second node joined to it, one CPU each, so
the scheduler spreads the shards over two raylets. Both are started with their own
--temp-dir and stopped by process id (every process whose command line names that
folder, and their children): never `ray stop`, which would stop other people's Ray.
Without the `ray` package the cluster tests skip (`pip install -e '.[ray]'`; `make test`
installs it); the missing-extra sentence is tested either way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import pipeline
from engine.cli import main
from engine.data.dataset import Dataset
from engine.recommend import registry
from engine.store import Store
from engine.store import runs as R
from engine.store.datasets import save_dataset
from tests.fixtures.ray_cluster import cluster_pids, free_port, processes, start_cluster, stop_cluster
from tests.fixtures.ray_helpers import SlowModel, node_of

try:
    import ray  # noqa: F401

    HAVE_RAY = True
except ImportError:  # pragma: no cover - CI installs the extra
    HAVE_RAY = False

ROOT = Path(__file__).resolve().parents[2]
ML100K = Path("/work/shared/datasets/movielens/ml-100k")
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason="the ray extra is not installed "
                               "(pip install -e '.[ray]'; make test installs it)")
#: Users per recommend call in these tests: small, so ~600 test users make several
#: shards (the shards are cut at whole batches; see engine.backends.base).
BATCH = 64


def _dataset(name="syn", n_users=600, n_items=300, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8  # a long tail, so lists share items
    rows = []
    for u in range(n_users):
        items = rng.choice(n_items, size=int(rng.integers(4, 25)), replace=False, p=pop / pop.sum())
        rows += [(f"u{u:04d}", f"i{i:04d}", d) for d, i in enumerate(items)]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "day"])
    inter["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(inter.pop("day"), unit="D")
    inter["weight"] = 1.0
    inter["event"] = "interaction"
    return Dataset(name=name, interactions=inter, users=None, items=None)


@pytest.fixture(scope="module")
def cluster():
    if not HAVE_RAY:
        pytest.skip("the ray extra is not installed (pip install -e '.[ray]')")
    tmp = tempfile.mkdtemp(prefix="rs13-", dir="/tmp")  # short: Ray's socket paths have a limit
    try:
        address = start_cluster(tmp, nodes=2, pythonpath=str(ROOT))
        yield {"address": address, "tmp": tmp}
    finally:
        stop_cluster(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def backend(cluster):
    from engine.backends import make_backend

    b = make_backend("ray", address=cluster["address"])
    yield b
    b.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("ray") / "ray.duckdb"
    save_dataset(Store(path), _dataset())
    return str(path)


@pytest.fixture()
def small_batches(monkeypatch):
    monkeypatch.setattr(pipeline, "RECOMMEND_BATCH", BATCH)


def _same_runs(store: Store, a: int, b: int) -> None:
    """Lists (position by position), summary and per-user metrics of two runs equal."""
    pd.testing.assert_frame_equal(R.recommendations(store, a), R.recommendations(store, b))
    pd.testing.assert_frame_equal(R.run_metrics(store, a), R.run_metrics(store, b))
    pd.testing.assert_frame_equal(R.user_metrics(store, a), R.user_metrics(store, b))


# ------------------------------------------------------------------ tests
@needs_ray
def test_the_cluster_has_two_nodes_and_shards_spread_over_both(backend):
    assert backend.parallelism == 2
    got = backend.map(node_of, list(range(6)), shared={"pause": 0.5}, stage="nodes")
    assert [g[0] for g in got] == list(range(6))  # results in item order
    assert len({g[1] for g in got}) == 2


@needs_ray
def test_ray_lists_and_metrics_equal_the_local_backends(backend, db, small_batches, capsys):
    base = ["train", "--db", db, "--dataset", "syn", "--algos", "als,itemknn", "--json"]
    assert main(base) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*base, "--backend", "ray", "--ray-address", backend.address]) == 0
    remote = json.loads(capsys.readouterr().out)
    store = Store(db)
    for a, b in zip(local, remote):
        assert a["algorithm"] == b["algorithm"] and a["split_id"] == b["split_id"]
        _same_runs(store, a["run_id"], b["run_id"])
        assert len(R.recommendations(store, b["run_id"])) == 600 * 20  # complete
        params = R.get_run(store, b["run_id"])["params"]
        params = json.loads(params) if isinstance(params, str) else params
        assert params["backend"] == "ray" and params["backend_retries"] == 0
        assert "backend" not in json.dumps(R.get_run(store, a["run_id"])["params"])


@needs_ray
def test_spilled_parquet_shards_give_the_same_result(backend, db, small_batches, tmp_path):
    store = Store(db)
    data = pipeline.prepare_split(store, "syn", k=20)
    model = registry.make("itemknn", seed=0).fit(data.matrix)
    want = pipeline.score_and_evaluate(model, data)
    backend.spill_dir = str(tmp_path)
    try:
        got = pipeline.score_and_evaluate(model, data, backend)
    finally:
        backend.spill_dir = None
    for w, g in zip(want[:3], got[:3]):
        pd.testing.assert_frame_equal(w, g, check_dtype=False)
    assert os.listdir(tmp_path) == []  # the driver removed the shards it read


def _kill_a_worker_during(work, backend, cluster, task: str, checked_in) -> tuple[dict, int | None]:
    """Run ``work()`` in a thread and SIGKILL one worker of our cluster whose process title
    starts with ``task``, once ``checked_in(busy pids)`` attempts have checked in since the
    start. Returns ({"got": result} or {"error": exception}, the killed pid or None)."""
    import ray

    log = backend._attempts()
    start = ray.get(log.total.remote())
    out: dict = {}

    def job():
        try:
            out["got"] = work()
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            out["error"] = exc

    th = threading.Thread(target=job)
    th.start()
    victim = None
    while th.is_alive() and victim is None:
        busy = [pid for pid in cluster_pids(cluster["tmp"])
                if processes().get(pid, (0, ""))[1].startswith(task)]
        if busy and ray.get(log.total.remote()) - start >= checked_in(busy):
            os.kill(busy[0], signal.SIGKILL)
            victim = busy[0]
        time.sleep(0.05)
    th.join()
    return out, victim


@needs_ray
def test_a_worker_killed_mid_job_is_retried_and_the_result_is_complete(backend, cluster, db,
                                                                        small_batches):
    store = Store(db)
    data = pipeline.prepare_split(store, "syn", k=20)
    model = registry.make("als", seed=0).fit(data.matrix)
    want = pipeline.score_and_evaluate(model, data)  # local
    before = backend.retries
    # kill only once every busy worker has checked in its attempt: a worker killed
    # before it checks in leaves no trace to count (see engine/backends/raybackend.py)
    out, victim = _kill_a_worker_during(
        lambda: pipeline.score_and_evaluate(SlowModel(model, 0.5), data, backend),
        backend, cluster, "ray::score_shard", checked_in=len)
    assert victim is not None, "no worker was seen running a shard"
    assert "error" not in out, out.get("error")
    assert backend.retries - before >= 1
    recs, metrics, per_user = out["got"][:3]
    assert recs["user_id"].nunique() == data.n_test_users
    pd.testing.assert_frame_equal(recs, want[0])
    pd.testing.assert_frame_equal(metrics, want[1])
    pd.testing.assert_frame_equal(per_user, want[2])


@needs_ray
def test_an_unreachable_cluster_is_one_sentence_and_leaves_no_run(db):
    port = free_port()  # nothing listens there
    done = subprocess.run([sys.executable, "-m", "engine", "train", "--db", db, "--dataset", "syn",
                           "--algos", "popularity", "--backend", "ray", "--ray-address",
                           f"127.0.0.1:{port}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], done.stderr
    runs = Store(db).df("SELECT count(*) AS n FROM runs WHERE algorithm = 'popularity'")
    assert int(runs["n"][0]) == 0


def test_a_missing_ray_extra_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    path = tmp_path / "x.duckdb"
    save_dataset(Store(path), _dataset(n_users=20, n_items=40))
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if absent
    code = main(["train", "--db", str(path), "--dataset", "syn", "--algos", "popularity",
                 "--backend", "ray"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "pip install 'recscope[ray]'" in err
    assert int(Store(path).df("SELECT count(*) AS n FROM runs")["n"][0]) == 0


@needs_ray
@pytest.mark.skipif(not ML100K.is_dir(), reason=f"MovieLens 100k is not at {ML100K}")
def test_ml100k_als_itemknn_equal_on_ray(backend, tmp_path, monkeypatch, capsys):
    from engine.data.loaders import load_movielens

    monkeypatch.setattr(pipeline, "RECOMMEND_BATCH", 128)  # 943 users: eight shards
    db = str(tmp_path / "ml.duckdb")
    save_dataset(Store(db), load_movielens(ML100K, "ml100k"))
    base = ["train", "--db", db, "--dataset", "ml100k", "--algos", "als,itemknn", "--json"]
    assert main(base) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*base, "--backend", "ray", "--ray-address", backend.address]) == 0
    remote = json.loads(capsys.readouterr().out)
    for a, b in zip(local, remote):
        _same_runs(Store(db), a["run_id"], b["run_id"])


# ------------------------------------------------------------------ tune --backend ray
@pytest.fixture(scope="module")
def tune_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("raytune") / "tune.duckdb"
    save_dataset(Store(path), _dataset(n_users=300, n_items=200, seed=1))
    return str(path)


TUNE = ["tune", "--dataset", "syn", "--algo", "itemknn", "--split", "leave_last_n",
        "--neighbours", "0", "--json"]


def _trials(db: str, study_id: int) -> pd.DataFrame:
    from engine.store import tuning as T

    return T.trials(Store(db), study_id).sort_values("number").reset_index(drop=True)


@needs_ray
def test_tune_on_ray_stores_numbered_trials_equal_to_local_scores_and_resumes(
        backend, tune_db, capsys):
    from engine.services import tuning
    from engine.store import tuning as T

    assert main([*TUNE, "--db", tune_db, "--trials", "4", "--backend", "ray",
                 "--ray-address", backend.address]) == 0
    out = json.loads(capsys.readouterr().out)
    sid = out["study_id"]
    t = _trials(tune_db, sid)
    assert list(t["number"]) == [0, 1, 2, 3] and set(t["state"]) == {"COMPLETE"}
    study = T.get_study(Store(tune_db), sid)
    assert study["status"] == "finished" and study["run_id"] == out["run_id"]
    assert R.get_run(Store(tune_db), out["run_id"])["status"] == "done"
    # the first trial asked is the registry's defaults, as on the local path; stored
    # numbers follow finishing order, so it is among the first two (two CPUs)
    assert registry.spec("itemknn").defaults["K"] in [p["K"] for p in t["params"][:2]]
    # each stored value is what run_trial gives here for the stored parameters
    plan = tuning.plan_study(Store(tune_db), dataset=None, algo=None, study_id=sid)
    store = Store(tune_db)
    method, sparams, _ = tuning._split_method(store, plan.split_id)
    from engine.store.datasets import load_dataset

    vdata = tuning.validation_data("syn", plan.split_id, R.train_items(store, plan.split_id),
                                   load_dataset(store, "syn").items, method, sparams,
                                   pipeline.eval_ks(10), seed=0)
    for row in t.itertuples():
        want = tuning.run_trial(vdata, "itemknn", dict(row.params), seed=0,
                                objectives=[("ndcg", 10)])
        assert row.value == pytest.approx(want[0], rel=1e-9)
    # best trial and value are the stored maximum
    assert out["best_value"] == pytest.approx(t["value"].max(), rel=1e-12)
    # resumed: the numbering continues
    assert main(["tune", "--db", tune_db, "--study", str(sid), "--trials", "2", "--neighbours",
                 "0", "--json", "--backend", "ray", "--ray-address", backend.address]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["study_id"] == sid and again["n_trials"] == 6
    assert list(_trials(tune_db, sid)["number"]) == [0, 1, 2, 3, 4, 5]


@needs_ray
def test_tune_with_an_unreachable_ray_address_is_one_sentence_and_writes_nothing(tune_db):
    port = free_port()  # nothing listens there
    before = Store(tune_db).df("SELECT (SELECT count(*) FROM studies) AS s, "
                               "(SELECT count(*) FROM trials) AS t, (SELECT count(*) FROM runs) AS r")
    done = subprocess.run([sys.executable, "-m", "engine", *TUNE, "--db", tune_db, "--trials", "2",
                           "--backend", "ray", "--ray-address", f"127.0.0.1:{port}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], done.stderr
    after = Store(tune_db).df("SELECT (SELECT count(*) FROM studies) AS s, "
                              "(SELECT count(*) FROM trials) AS t, (SELECT count(*) FROM runs) AS r")
    pd.testing.assert_frame_equal(before, after)


class _OutOfOrderPool:
    """A stand-in for RayPool (no Ray): runs each task in this process when collected,
    the LAST submitted first, so trials finish out of the order they were asked in."""

    def __init__(self, fn, shared, seen):
        self.fn, self.shared, self.queue, self.seen = fn, shared, [], seen

    @property
    def running(self):
        return len(self.queue)

    def submit(self, key, item):
        self.queue.append((key, item))
        self.seen["max_running"] = max(self.seen.get("max_running", 0), len(self.queue))

    def next_done(self):
        key, item = self.queue.pop()
        self.seen.setdefault("optuna_numbers", []).append(key.number)
        return key, self.fn(item, **self.shared), None

    def close(self):
        pass


class _FakeBackend:
    name = "fake"
    parallelism = 3

    def __init__(self):
        self.seen: dict = {}

    def pool(self, fn, *, shared=None):
        return _OutOfOrderPool(fn, shared or {}, self.seen)


def test_ask_and_tell_keeps_parallelism_trials_running_and_numbers_by_finishing_order(tmp_path):
    from engine.services import tuning

    path = tmp_path / "t.duckdb"
    save_dataset(Store(path), _dataset(n_users=120, n_items=80, seed=2))
    store = Store(path)
    plan = tuning.plan_study(store, dataset="syn", algo="itemknn", trials=5)
    fake = _FakeBackend()
    seen_lines = []
    out = tuning.tune(store, plan, trials=5, split="leave_last_n", neighbours=0, backend=fake,
                      on_trial=seen_lines.append)
    assert fake.seen["max_running"] == 3  # the backend's parallelism, asked at once
    # Optuna's numbers in finishing order: 0..2 asked, 2 finishes, 3 is asked and finishes,
    # 4 likewise; then 1 and 0
    assert fake.seen["optuna_numbers"] == [2, 3, 4, 1, 0]
    t = _trials(str(path), out["study_id"])
    assert list(t["number"]) == [0, 1, 2, 3, 4] and out["n_trials"] == 5
    # stored trial 4 finished last: Optuna's trial 0, the registry's defaults
    assert t["params"][4]["K"] == registry.spec("itemknn").defaults["K"]
    assert [i["number"] for i in seen_lines] == [0, 1, 2, 3, 4]
    # the best number is the stored one (a trial with the highest stored value)
    assert t.set_index("number")["value"][out["best_number"]] == t["value"].max()
    assert out["best_value"] == t["value"].max()


# ------------------------------------------------------------------ independent runs as tasks
def _driver_fits(monkeypatch) -> list:
    """Spy on ``compute_run`` in this (driver) process: the algorithms it fits here. A Ray
    task imports its own engine.pipeline, so runs fitted on workers do not show."""
    calls: list = []
    real = pipeline.compute_run

    def spy(data, algo, *a, **kw):
        calls.append(algo)
        return real(data, algo, *a, **kw)

    monkeypatch.setattr(pipeline, "compute_run", spy)
    return calls


def _status(db: str, run_ids) -> dict:
    return {rid: R.get_run(Store(db), rid)["status"] for rid in run_ids}


@needs_ray
def test_several_algorithms_run_as_tasks_and_equal_the_local_runs(backend, db, small_batches,
                                                                  monkeypatch, capsys):
    base = ["train", "--db", db, "--dataset", "syn", "--algos", "popularity,als,itemknn,bpr",
            "--json"]
    assert main(base) == 0
    local = json.loads(capsys.readouterr().out)
    fitted_here = _driver_fits(monkeypatch)
    assert main([*base, "--backend", "ray", "--ray-address", backend.address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert fitted_here == []  # every algorithm was fitted in a Ray task, none on the driver
    store = Store(db)
    # BPR included: one SGD thread makes its seed reproducible, on any node
    assert [r["algorithm"] for r in remote] == ["popularity", "als", "itemknn", "bpr"]
    # run ids in --algos order, as the local loop numbers them
    assert [r["run_id"] for r in remote] == list(range(remote[0]["run_id"],
                                                       remote[0]["run_id"] + 4))
    for a, b in zip(local, remote):
        assert a["split_id"] == b["split_id"]
        _same_runs(store, a["run_id"], b["run_id"])
        run = R.get_run(store, b["run_id"])
        assert run["status"] == "done"
        params = json.loads(run["params"]) if isinstance(run["params"], str) else run["params"]
        assert params["backend"] == "ray" and params["backend_retries"] == 0
    # each item's neighbours (itemknn) came back from the task too
    def neighbours(run_id):
        return store.df("SELECT item_id, rank, neighbour_id, score FROM item_neighbours "
                        "WHERE run_id = ? ORDER BY item_id, rank", [run_id])

    assert len(neighbours(local[2]["run_id"])) > 0
    pd.testing.assert_frame_equal(neighbours(local[2]["run_id"]), neighbours(remote[2]["run_id"]))


@needs_ray
def test_run_tasks_with_a_spill_dir_return_parquet_and_equal_the_local_runs(backend, db,
                                                                          tmp_path, monkeypatch):
    from engine.backends import raybackend

    store = Store(db)
    data = pipeline.prepare_split(store, "syn", k=20)
    jobs = [pipeline.RunJob(data, a, {}, 0, 0) for a in ("popularity", "itemknn")]
    came_back: list = []
    real = raybackend.read_spilled

    def spy(value, remove=False):
        if isinstance(value, pipeline.RunOutput):  # a task's output (not a nested field)
            came_back.append(value.recs)  # what the task returned: a Parquet file's path
            assert os.path.exists(value.recs[1])
        return real(value, remove)

    monkeypatch.setattr(raybackend, "read_spilled", spy)
    backend.spill_dir = str(tmp_path)
    try:
        got = pipeline.fan_out_runs(store, jobs, backend)
    finally:
        backend.spill_dir = None
    assert len(came_back) == 2 and all(v[0] == "parquet" for v in came_back)
    assert os.listdir(tmp_path) == []  # the driver read the Parquet files and removed them
    for job, b in zip(jobs, got):
        a = pipeline.train_one(store, data, job.algo, neighbours=0)
        assert b["status"] == "done"
        _same_runs(store, a["run_id"], b["run_id"])


@needs_ray
def test_a_single_algorithm_on_ray_is_fitted_here_and_fans_out_its_shards(
        backend, db, small_batches, monkeypatch, capsys):
    fitted_here = _driver_fits(monkeypatch)
    assert main(["train", "--db", db, "--dataset", "syn", "--algos", "itemknn", "--json",
                 "--neighbours", "0", "--backend", "ray", "--ray-address", backend.address]) == 0
    assert fitted_here == ["itemknn"]


@needs_ray
def test_one_algorithm_failing_in_its_task_fails_that_run_and_stores_the_others(
        backend, db, small_batches, capsys):
    code = main(["train", "--db", db, "--dataset", "syn", "--algos", "als,ease,itemknn",
                 "--param", "ease.max_items=2", "--neighbours", "0", "--json",
                 "--backend", "ray", "--ray-address", backend.address])
    captured = capsys.readouterr()
    assert code == 1
    remote = json.loads(captured.out)
    runs = {r["algorithm"]: R.get_run(Store(db), r["run_id"]) for r in remote}
    assert runs["ease"]["status"] == "failed"
    # the algorithm's own one sentence, raised on the worker
    assert "max_items=2" in runs["ease"]["error"] and len(runs["ease"]["error"].splitlines()) == 1
    assert f"run {runs['ease']['run_id']} (ease) failed" in captured.err
    assert len(R.recommendations(Store(db), runs["ease"]["run_id"])) == 0
    for algo in ("als", "itemknn"):
        assert runs[algo]["status"] == "done"
        assert len(R.recommendations(Store(db), runs[algo]["run_id"])) == 600 * 20
    assert "running" not in _status(db, [r["run_id"] for r in remote]).values()


@needs_ray
def test_folds_on_ray_are_the_local_folds_grouped_the_same(backend, db, small_batches, capsys):
    from engine.store import tuning as T

    base = ["train", "--db", db, "--dataset", "syn", "--algos", "als,itemknn", "--folds", "2",
            "--split", "random", "--json"]
    assert main(base) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*base, "--backend", "ray", "--ray-address", backend.address]) == 0
    remote = json.loads(capsys.readouterr().out)
    store = Store(db)
    assert len(local) == len(remote) == 4
    assert len({r["fold_group"] for r in remote}) == 1
    assert remote[0]["fold_group"] != local[0]["fold_group"]
    for a, b in zip(local, remote):
        assert (a["algorithm"], a["fold"], a["split_id"]) == (b["algorithm"], b["fold"],
                                                              b["split_id"])
        _same_runs(store, a["run_id"], b["run_id"])
    cols = ["fold", "n_folds", "scheme", "algorithm", "split_id", "status"]
    fl = T.fold_runs(store, [r["run_id"] for r in local]).sort_values("run_id")
    fr = T.fold_runs(store, [r["run_id"] for r in remote]).sort_values("run_id")
    pd.testing.assert_frame_equal(fl[cols].reset_index(drop=True), fr[cols].reset_index(drop=True))
    assert set(fr["status"]) == {"done"} and list(fr["run_id"]) == [r["run_id"] for r in remote]


@needs_ray
def test_a_worker_killed_in_a_run_task_is_retried_and_the_run_is_complete(backend, cluster, db):
    store = Store(db)
    data = pipeline.prepare_split(store, "syn", k=20)
    slow = {"iterations": 500}  # ALS for a second or two: time to kill its worker
    jobs = [pipeline.RunJob(data, "als", slow, 0, 0), pipeline.RunJob(data, "itemknn", {}, 0, 0)]
    # kill only once both tasks have checked in their attempt (a worker killed before it
    # checks in leaves no trace to count); the fast one may be done by then
    out, victim = _kill_a_worker_during(lambda: pipeline.fan_out_runs(store, jobs, backend),
                                        backend, cluster, "ray::_remote_run",
                                        checked_in=lambda busy: len(jobs))
    assert victim is not None, "no worker was seen running a run task"
    assert "error" not in out, out.get("error")
    got = out["got"]
    assert [r["status"] for r in got] == ["done", "done"]
    retries = [R.get_run(store, r["run_id"])["params"] for r in got]
    retries = [(json.loads(p) if isinstance(p, str) else p)["backend_retries"] for p in retries]
    assert sum(retries) == 1  # the killed task ran twice, the other once
    local = [pipeline.train_one(store, data, "als", slow, neighbours=0),
             pipeline.train_one(store, data, "itemknn", neighbours=0)]
    for a, b in zip(local, got):
        _same_runs(store, a["run_id"], b["run_id"])


# a stand-in for RayPool (no Ray) for the driver's side of fan_out_runs
class _CrashingPool:
    """Runs each task in this process when collected, the LAST submitted first (so
    outputs arrive out of order); the task of ``crash`` ends without an output, as a
    worker that died more than max_retries times does."""

    def __init__(self, fn, crash, log):
        self.fn, self.crash, self.log, self.queue = fn, crash, log, []

    @property
    def running(self):
        return len(self.queue)

    def put(self, value):
        self.log.setdefault("put", []).append(id(value))
        return value

    def submit(self, key, item, **extra):
        self.queue.append((key, item, extra))

    def attempts(self, key):
        return 1

    def next_done(self):
        key, item, extra = self.queue.pop()
        self.log.setdefault("finished", []).append(key)
        if item["algo"] == self.crash:
            return key, None, RuntimeError("The worker died unexpectedly while running "
                                           "the task.\nmore detail")
        return key, self.fn(item, **extra), None

    def close(self):
        self.log["closed"] = True


class _CrashingBackend:
    name = "fake"
    retries = 0
    parallelism = 2

    def __init__(self, crash):
        self.crash, self.log = crash, {}

    def pool(self, fn, *, shared=None):
        return _CrashingPool(fn, self.crash, self.log)


def test_fan_out_fails_a_run_whose_task_ended_without_output_and_writes_in_order(tmp_path):
    path = tmp_path / "f.duckdb"
    save_dataset(Store(path), _dataset(n_users=80, n_items=60, seed=3))
    store = Store(path)
    fake = _CrashingBackend(crash="itemknn")
    out = pipeline.train_runs(store, "syn", ["popularity", "itemknn", "als"], neighbours=0,
                              backend=fake)
    assert fake.log["finished"] == [2, 1, 0]  # outputs arrived last first
    assert len(fake.log["put"]) == 1 and fake.log["closed"]  # the split put once
    by = {r["algorithm"]: r for r in out}
    assert [r["algorithm"] for r in out] == ["popularity", "itemknn", "als"]
    assert by["itemknn"]["status"] == "failed"
    assert by["itemknn"]["error"] == ("itemknn failed on the Ray cluster (RuntimeError: The "
                                      "worker died unexpectedly while running the task).")
    assert R.get_run(store, by["itemknn"]["run_id"])["error"] == by["itemknn"]["error"]
    # the others are stored, equal to the local loop's runs
    local = pipeline.train_runs(store, "syn", ["popularity", "als"], neighbours=0)
    for a in local:
        b = by[a["algorithm"]]
        assert b["status"] == "done"
        _same_runs(store, a["run_id"], b["run_id"])
    assert "running" not in _status(str(path), [r["run_id"] for r in out]).values()
