"""Every recommender on real data: MovieLens 100K, ratings >= 4 as positives,
leave-last-one-out. ALS must beat popularity on nDCG@10, significantly."""

from __future__ import annotations

import pytest

from engine.data.loaders import load_movielens
from engine.pipeline import compare_runs, train_runs
from engine.recommend.registry import available
from engine.store import Store
from engine.store import runs as R
from engine.store.datasets import save_dataset
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory):
    folder = shared_path("movielens", "ml-100k")
    store = Store(tmp_path_factory.mktemp("ml") / "ml100k.duckdb")
    save_dataset(store, load_movielens(folder, "ml-100k"))
    out = train_runs(store, "ml-100k", available(), split="leave_last_n", min_weight=4, seed=0)
    return store, {r["algorithm"]: r for r in out}


@pytest.mark.slow
def test_every_algorithm_trains(ml100k):
    store, runs = ml100k
    assert sorted(runs) == sorted(available())
    for name, r in runs.items():
        assert r["status"] == "done", (name, r["error"])
    assert len({r["split_id"] for r in runs.values()}) == 1
    split = R.get_split(store, runs["als"]["split_id"])
    assert split["method"] == "leave_last_n"
    test = R.test_items(store, split["split_id"])
    # one held-out positive per tested user; ml-100k has 943 users, nearly all with >= 2 positives
    assert test.groupby("user_id").size().max() == 1 and 900 <= test["user_id"].nunique() <= 943
    assert (test["weight"] >= 4).all()


@pytest.mark.slow
def test_als_beats_popularity_significantly(ml100k):
    store, runs = ml100k
    res = compare_runs(store, runs["popularity"]["run_id"], runs["als"]["run_id"],
                       metric="ndcg", k=10)
    assert res["mean_b"] > res["mean_a"]
    assert res["p_value_t"] < 0.01 and res["p_value_wilcoxon"] < 0.01
    # mean_diff = A - B = popularity - ALS: the whole interval favours ALS
    assert res["ci_high"] < 0 and res["losses"] > res["wins"]
    # random is the floor: every learned model beats it
    rnd = R.run_metrics(store, runs["random"]["run_id"]).set_index(["metric", "k"])["value"]
    for name in ("popularity", "itemknn", "als", "ease"):
        m = R.run_metrics(store, runs[name]["run_id"]).set_index(["metric", "k"])["value"]
        assert m[("ndcg", 10)] > rnd[("ndcg", 10)], name


@pytest.mark.slow
def test_stored_metrics_agree_with_a_recomputation_from_the_stored_lists(ml100k):
    store, runs = ml100k
    rid, sid = runs["als"]["run_id"], runs["als"]["split_id"]
    recs = R.recommendations(store, rid, k=10)
    truth = R.test_items(store, sid).groupby("user_id")["item_id"].apply(set).to_dict()
    top = recs.groupby("user_id")["item_id"].apply(list).to_dict()
    import math

    prec, ndcg = [], []
    for u, items in truth.items():
        lst = top.get(u, [])
        hits = [i + 1 for i, item in enumerate(lst) if item in items]
        prec.append(len(hits) / 10)
        ideal = sum(1 / math.log2(r + 1) for r in range(1, min(10, len(items)) + 1))
        ndcg.append(sum(1 / math.log2(r + 1) for r in hits) / ideal)
    m = R.run_metrics(store, rid).set_index(["metric", "k"])["value"]
    assert m[("precision", 10)] == pytest.approx(sum(prec) / len(prec))
    assert m[("ndcg", 10)] == pytest.approx(sum(ndcg) / len(ndcg))
    assert R.get_run(store, rid)["n_users"] == len(truth)


@pytest.mark.slow
def test_no_health_warning_fires_on_the_healthy_runs(ml100k):
    """Every default run on ml-100k is healthy: better than popularity (random, the
    floor, is never compared), varied lists, converged; none may be warned."""
    store, runs = ml100k
    warned = R.run_warnings(store, [r["run_id"] for r in runs.values()])
    assert warned.empty, warned[["run_id", "message"]].to_string()
