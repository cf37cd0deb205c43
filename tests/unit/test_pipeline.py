"""The train pipeline (engine/pipeline.py) and imported runs (engine/importrun.py)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from engine.errors import DataError
from engine.importrun import import_run
from engine.pipeline import compare_runs, split_request, train_runs
from engine.store import Store
from engine.store import runs as R
from engine.store.datasets import save_dataset
from tests.fixtures.datasets import HAND, tiny_dataset



@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "p.duckdb", lock_timeout=5)
    save_dataset(s, tiny_dataset())
    return s


def _metric(store, run_id, metric, k=10):
    m = R.run_metrics(store, run_id)
    return float(m[(m.metric == metric) & (m.k == k)]["value"].item())


def test_popularity_metrics_match_the_hand_computed_fixture(store):
    stages = []
    out = train_runs(store, "tiny", ["popularity"], split="leave_last_n",
                     progress=lambda s, d, t: stages.append(s))
    assert [(r["algorithm"], r["status"]) for r in out] == [("popularity", "done")]
    rid, sid = out[0]["run_id"], out[0]["split_id"]
    test = R.test_items(store, sid)
    assert sorted(zip(test.user_id, test.item_id)) == [("u1", "c"), ("u2", "d"), ("u3", "e"),
                                                       ("u4", "c")]
    recs = R.recommendations(store, rid)
    lists = recs.groupby("user_id")["item_id"].apply(list).to_dict()
    assert lists == {"u1": ["c"], "u2": ["b"], "u3": ["c"], "u4": ["b", "c"]}
    for metric, value in HAND.items():
        assert _metric(store, rid, metric) == pytest.approx(value), metric
    s = R.user_metric_series(store, rid, "ndcg", 10)
    assert s.to_dict() == pytest.approx({"u1": 1.0, "u2": 0.0, "u3": 0.0, "u4": 1 / math.log2(3)})
    run = R.get_run(store, rid)
    assert run["status"] == "done" and run["source"] == "trained" and run["k"] == 20
    assert run["n_users"] == 4 and run["fit_seconds"] >= 0 and run["recommend_seconds"] >= 0
    assert run["code_version"].startswith("0.1.0")
    for stage in ("split", "fit popularity", "recommend popularity", "evaluate popularity", "store"):
        assert stage in stages


def test_metrics_agree_with_an_independent_computation_from_the_stored_lists(store):
    out = train_runs(store, "tiny", ["itemknn", "als", "random"], split="leave_last_n",
                     params={"als": {"factors": 4, "iterations": 3}})
    for r in out:
        assert r["status"] == "done", r
        recs = R.recommendations(store, r["run_id"])
        test = R.test_items(store, r["split_id"])
        truth = test.groupby("user_id")["item_id"].apply(set).to_dict()
        top = recs[recs["rank"] <= 10].groupby("user_id")["item_id"].apply(list).to_dict()
        prec = [len(set(top.get(u, [])) & items) / 10 for u, items in truth.items()]
        rec = [len(set(top.get(u, [])) & items) / len(items) for u, items in truth.items()]
        assert _metric(store, r["run_id"], "precision") == pytest.approx(sum(prec) / len(prec))
        assert _metric(store, r["run_id"], "recall") == pytest.approx(sum(rec) / len(rec))
        # seen items are never recommended
        train = R.train_items(store, r["split_id"])
        seen = set(zip(train.user_id, train.item_id))
        assert not any((u, i) in seen for u, i in zip(recs.user_id, recs.item_id))


def test_runs_share_one_split_and_reruns_are_new_runs(store):
    a = train_runs(store, "tiny", ["popularity"], split="leave_last_n")
    b = train_runs(store, "tiny", ["popularity"], split="leave_last_n")
    c = train_runs(store, "tiny", ["popularity"], split="leave_last_n", seed=1)
    assert a[0]["split_id"] == b[0]["split_id"] != c[0]["split_id"]
    assert a[0]["run_id"] != b[0]["run_id"]
    assert len(R.list_splits(store, "tiny")) == 2
    assert len(R.list_runs(store, "tiny")) == 3


def test_a_failing_algorithm_is_recorded_and_the_others_continue(store):
    out = train_runs(store, "tiny", ["ease", "popularity"], split="leave_last_n",
                     params={"ease": {"max_items": 2}})
    by = {r["algorithm"]: r for r in out}
    assert by["ease"]["status"] == "failed" and "max_items" in by["ease"]["error"]
    assert by["popularity"]["status"] == "done"
    run = R.get_run(store, by["ease"]["run_id"])
    assert run["status"] == "failed" and "max_items" in run["error"]
    assert R.recommendations(store, by["ease"]["run_id"]).empty
    assert R.run_metrics(store, by["ease"]["run_id"]).empty


def test_bad_requests_fail_before_anything_is_stored(store):
    with pytest.raises(DataError, match="Unknown algorithm"):
        train_runs(store, "tiny", ["als", "nope"])
    with pytest.raises(DataError, match="no parameter 'bogus'"):
        train_runs(store, "tiny", ["als"], params={"als": {"bogus": 1}})
    with pytest.raises(DataError, match="not in --algos"):
        train_runs(store, "tiny", ["als"], params={"bpr": {"factors": 1}})
    with pytest.raises(DataError, match="weight >= 9"):
        train_runs(store, "tiny", ["popularity"], min_weight=9)
    assert R.list_runs(store).empty


def test_split_request_fills_defaults():
    assert split_request("random", {"fraction": 0.2}) == split_request("random", {})
    with pytest.raises(DataError, match="Unknown split parameter 'frac'"):
        split_request("random", {"frac": 0.2})


def test_min_weight_keeps_only_positives(tmp_path):
    s = Store(tmp_path / "w.duckdb", lock_timeout=5)
    ds = tiny_dataset("rated")
    ds.interactions.loc[ds.interactions["item_id"] == "b", "weight"] = 2.0  # b is disliked
    ds.interactions.loc[ds.interactions["item_id"] != "b", "weight"] = 5.0
    save_dataset(s, ds)
    out = train_runs(s, "rated", ["popularity"], split="leave_last_n", min_weight=4)
    train = R.train_items(s, out[0]["split_id"])
    test = R.test_items(s, out[0]["split_id"])
    assert "b" not in set(train.item_id) | set(test.item_id)
    assert R.get_run(s, out[0]["run_id"])["params"]["min_weight"] == 4.0


# ------------------------------------------------------------------ imported runs

def _write(tmp_path, rows, name="lists.csv"):
    p = tmp_path / name
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_imported_lists_are_evaluated_like_a_trained_run(store, tmp_path):
    trained = train_runs(store, "tiny", ["popularity"], split="leave_last_n")[0]
    # the same lists as popularity, given by score (ranks derived, higher first)
    p = _write(tmp_path, {"user_id": ["u1", "u2", "u3", "u4", "u4"],
                          "item_id": ["c", "b", "c", "c", "b"],
                          "score": [1.0, 2.0, 1.0, 1.0, 2.0]})
    rid = import_run(store, p, "tiny", "prod")
    run = R.get_run(store, rid)
    assert (run["source"], run["algorithm"], run["split_id"]) == ("imported", "prod",
                                                                  trained["split_id"])
    got = R.run_metrics(store, rid).set_index(["metric", "k"])["value"]
    want = R.run_metrics(store, trained["run_id"]).set_index(["metric", "k"])["value"]
    assert got.loc[[("ndcg", 10), ("precision", 10), ("recall", 20), ("mrr", 10)]].tolist() == \
        pytest.approx(want.loc[[("ndcg", 10), ("precision", 10), ("recall", 20), ("mrr", 10)]].tolist())
    assert R.recommendations(store, rid, ["u4"])["item_id"].tolist() == ["b", "c"]
    res = compare_runs(store, trained["run_id"], rid)
    assert res["mean_jaccard"] == pytest.approx(1.0) and res["mean_rbo"] == pytest.approx(1.0)
    assert res["mean_a"] == pytest.approx(res["mean_b"]) and res["ties"] == 4


def test_imported_ranks_and_parquet(store, tmp_path):
    train_runs(store, "tiny", ["popularity"], split="leave_last_n")
    p = tmp_path / "lists.parquet"
    pd.DataFrame({"user_id": ["u4", "u4", "u1"], "item_id": ["c", "b", "c"],
                  "rank": [1, 5, 1]}).to_parquet(p)
    rid = import_run(store, p, "tiny", "prod")
    # u4: c first (a hit at rank 1), then b re-ranked to 2
    assert R.recommendations(store, rid, ["u4"])[["rank", "item_id"]].values.tolist() == \
        [[1, "c"], [2, "b"]]
    s = R.user_metric_series(store, rid, "ndcg", 10)
    assert s.to_dict() == pytest.approx({"u1": 1.0, "u2": 0.0, "u3": 0.0, "u4": 1.0})
    # n_users counts the users evaluated (the 4 test users, as for a trained run), not the
    # 2 listed: a file covering few test users must not look like a bigger evaluation
    run = R.get_run(store, rid)
    assert run["n_users"] == 4 and run["params"]["users_listed"] == 2


def test_imported_unknown_ids_and_bad_files(store, tmp_path):
    p = _write(tmp_path, {"user_id": ["u1", "x1", "x2", "x3", "x4"],
                          "item_id": ["a"] * 5, "rank": [1] * 5})
    with pytest.raises(DataError, match=r"4 user\(s\).*'x1', 'x2', 'x3', \.\.\."):
        import_run(store, p, "tiny", "prod")
    p = _write(tmp_path, {"user_id": ["u1"], "item_id": ["zz"], "rank": [1]})
    with pytest.raises(DataError, match=r"1 item\(s\).*'zz'"):
        import_run(store, p, "tiny", "prod")
    p = _write(tmp_path, {"user_id": ["u1"], "item_id": ["a"]})
    with pytest.raises(DataError, match="neither a 'rank' nor a 'score'"):
        import_run(store, p, "tiny", "prod")
    p = _write(tmp_path, {"user_id": ["u1", "u1"], "item_id": ["a", "b"], "rank": [1, 1]})
    with pytest.raises(DataError, match="repeats rank 1 for user 'u1'"):
        import_run(store, p, "tiny", "prod")
    assert R.list_runs(store).empty  # nothing stored by a rejected file


def test_time_cut_must_be_a_date():
    assert split_request("time_cut", {"cut": "2024-01-03"})["params"]["cut"] == "2024-01-03T00:00:00"
    assert split_request("time_cut", {"cut": "0.8"})["params"]["cut"] == 0.8  # a quantile
    with pytest.raises(DataError, match="--time-cut 'soon' is neither a date"):
        split_request("time_cut", {"cut": "soon"})


def test_demo_trains_the_default_recommenders(monkeypatch, store):
    import engine.demo
    import engine.pipeline
    from engine.recommend.registry import DEFAULT_ALGOS

    assert engine.pipeline.demo_step in engine.demo._steps()
    calls = []
    monkeypatch.setattr(engine.pipeline, "train_runs", lambda *a, **kw: calls.append((a, kw)))
    engine.pipeline.demo_step(store, "tiny", 3, engine.pipeline.null_progress)
    assert calls[0][0][1:] == ("tiny", list(DEFAULT_ALGOS)) and calls[0][1]["seed"] == 3


# ------------------------------------------------------------------ model neighbours

def _small_matrix():
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    dense = (rng.random((60, 25)) < 0.25).astype(np.float32)
    return sp.csr_matrix(dense)


@pytest.mark.parametrize("algo,params", [("als", {"factors": 8, "iterations": 5}),
                                         ("itemknn", {"K": 6}), ("ease", {})])
def test_item_neighbours_equal_the_models_similar_items(algo, params):
    import numpy as np

    from engine.pipeline import item_neighbours
    from engine.recommend import registry

    matrix = _small_matrix()
    model = registry.make(algo, seed=0, **params).fit(matrix)
    ids = np.array([f"x{j:02d}" for j in range(matrix.shape[1])], dtype=object)
    got = item_neighbours(model, ids, n=5)
    assert list(got.columns) == ["item_id", "rank", "neighbour_id", "score"]
    for j in (0, 7, 24):
        want_items, want_scores = model.similar_items(np.array([j]), 5)
        keep = want_items[0] >= 0
        rows = got[got["item_id"] == ids[j]]
        assert rows["rank"].tolist() == list(range(1, int(keep.sum()) + 1))
        assert rows["neighbour_id"].tolist() == ids[want_items[0][keep]].tolist()
        assert rows["score"].to_numpy() == pytest.approx(want_scores[0][keep].astype(float))
        assert ids[j] not in set(rows["neighbour_id"])   # an item is not its own neighbour
    if algo == "als":   # cross-check by hand: cosine of the factors
        f = model.item_factors / np.linalg.norm(model.item_factors, axis=1, keepdims=True)
        cos = f @ f[3]
        cos[3] = -np.inf
        top = np.argsort(-cos, kind="stable")[:5]
        rows = got[got["item_id"] == "x03"]
        assert rows["neighbour_id"].tolist() == ids[top].tolist()
        assert rows["score"].to_numpy() == pytest.approx(cos[top], abs=1e-5)
    if algo == "itemknn":  # K=6 kept per item (itself included): at most 5 others
        assert got.groupby("item_id").size().max() <= 5


def test_train_runs_keep_neighbours_for_models_that_can_say(store):
    from engine.store import items as I

    res = train_runs(store, "tiny", ["popularity", "itemknn"], k=3)
    pop, knn = (r["run_id"] for r in res)
    assert I.runs_with_neighbours(store, "tiny") == [knn]
    got = I.model_neighbours(store, knn, "a", n=10)
    # cosine of item columns over train users: a {u1,u2,u3,u4}, b {u1,u3}, c {u2}:
    # sim(a,b) = 2/sqrt(8), sim(a,c) = 1/2
    assert got["item_id"].tolist() == ["b", "c"]
    assert got["score"].tolist() == pytest.approx([2 / math.sqrt(8), 0.5])
    assert I.model_neighbours(store, pop, "a").empty
