"""Splits, runs, recommendations and metrics in the store (engine/store/runs.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.errors import DataError, NotFound
from engine.store import Store
from engine.store import runs as R


@pytest.fixture()
def store(tmp_path):
    return Store(tmp_path / "t.duckdb", lock_timeout=5)


def _frames():
    train = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                          "weight": [1.0, 2.0, 3.0], "event": ["view", "apply", "view"]})
    test = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["c", "b"],
                         "timestamp": pd.to_datetime(["2024-02-01", "2024-02-02"]),
                         "weight": [1.0, 1.0]})
    return train, test


def _save(store, request=None):
    train, test = _frames()
    return R.save_split(store, "ds", train, test, method="leave_last_n",
                        request=request or {"method": "auto", "seed": 0, "n": 1},
                        params={"n": 1}, info={"note": "x"})


def test_split_round_trip_and_reuse(store):
    sid = _save(store)
    train, test = R.load_split(store, sid)
    assert list(train.columns) == R.SPLIT_COLUMNS + ["event"]
    assert sorted(zip(train.user_id, train.item_id)) == [("u1", "a"), ("u1", "b"), ("u2", "a")]
    assert sorted(zip(test.user_id, test.item_id)) == [("u1", "c"), ("u2", "b")]
    assert train.loc[train.item_id == "b", "weight"].item() == 2.0
    assert train.loc[train.item_id == "b", "event"].item() == "apply"
    assert test["event"].isna().all()  # the test frame had no event column
    assert R.test_items(store, sid, "u2")["item_id"].tolist() == ["b"]
    assert R.train_items(store, sid, "u1")["item_id"].tolist() == ["a", "b"]
    d = R.get_split(store, sid)
    assert (d["method"], d["n_train"], d["n_test"], d["n_test_users"]) == ("leave_last_n", 3, 2, 2)
    assert d["params"]["resolved"] == {"n": 1}
    # the same request (keys in another order) finds the split; another seed does not
    assert R.find_split(store, "ds", {"n": 1, "seed": 0, "method": "auto"}) == sid
    assert R.find_split(store, "ds", {"n": 1, "seed": 1, "method": "auto"}) is None
    assert R.find_split(store, "other", {"n": 1, "seed": 0, "method": "auto"}) is None
    sid2 = _save(store, {"method": "auto", "seed": 1, "n": 1})
    assert sid2 != sid and R.latest_split_id(store, "ds") == sid2
    assert R.find_split(store, "ds", {"n": 1, "seed": 0, "method": "auto"}) == sid


def _recs():
    # deliberately unsorted: the store sorts by user, rank
    return pd.DataFrame({"user_id": ["u2", "u1", "u1", "u2"], "rank": [2, 2, 1, 1],
                         "item_id": ["c", "a", "c", "b"], "score": [0.1, 0.5, 0.9, 0.7]})


def _metrics():
    return pd.DataFrame({"metric": ["precision", "ndcg"], "k": [10, 10], "value": [0.1, 0.5]})


def _user_metrics():
    return pd.DataFrame({"user_id": ["u1", "u2", "u1", "u2"], "metric": ["ndcg"] * 4,
                         "k": [10, 10, 20, 20], "value": [1.0, 0.0, 1.0, 0.25]})


def test_run_lifecycle(store):
    sid = _save(store)
    rid = R.create_run(store, dataset="ds", split_id=sid, algorithm="als",
                       params={"factors": 8, "seed": 0}, k=2, code_version="0.1.0")
    run = R.get_run(store, rid)
    assert run["status"] == "running" and run["finished_at"] is None
    assert R.recommendations(store, rid).empty
    R.finish_run(store, rid, recs=_recs(), metrics=_metrics(), user_metrics=_user_metrics(),
                 fit_seconds=1.5, recommend_seconds=0.5, evaluate_seconds=0.25)
    run = R.get_run(store, rid)
    assert run["status"] == "done" and run["error"] is None
    assert run["params"] == {"factors": 8, "seed": 0}
    assert (run["fit_seconds"], run["recommend_seconds"], run["n_users"]) == (1.5, 0.5, 2)
    recs = R.recommendations(store, rid)
    assert list(recs.columns) == R.RECS_COLUMNS
    assert list(zip(recs.user_id, recs["rank"], recs.item_id)) == [
        ("u1", 1, "c"), ("u1", 2, "a"), ("u2", 1, "b"), ("u2", 2, "c")]
    assert R.recommendations(store, rid, user_ids=["u2"], k=1)["item_id"].tolist() == ["b"]
    assert R.recommendations(store, rid, user_ids=[]).empty
    big = ["u2"] + [f"x{i}" for i in range(1500)]  # the registered-frame path
    assert R.recommendations(store, rid, user_ids=big)["item_id"].tolist() == ["b", "c"]
    m = R.run_metrics(store, rid)
    assert list(zip(m.metric, m.k, m.value)) == [("ndcg", 10, 0.5), ("precision", 10, 0.1)]
    s = R.user_metric_series(store, rid, "ndcg", 20)
    assert s.to_dict() == {"u1": 1.0, "u2": 0.25}
    wide = R.runs_with_metrics(store, "ds")
    assert wide.loc[0, "ndcg@10"] == 0.5 and wide.loc[0, "precision@10"] == 0.1
    # immutable: a finished run cannot be finished again, nor altered by fail_run's cousin
    with pytest.raises(DataError, match="immutable"):
        R.finish_run(store, rid, recs=_recs(), metrics=_metrics())


def test_rerun_is_a_new_run_id(store):
    sid = _save(store)
    ids = []
    for _ in range(2):
        rid = R.create_run(store, dataset="ds", split_id=sid, algorithm="als", k=2)
        R.finish_run(store, rid, recs=_recs(), metrics=_metrics())
        ids.append(rid)
    assert ids[0] != ids[1]
    runs = R.list_runs(store, "ds")
    assert runs["run_id"].tolist() == ids and (runs["status"] == "done").all()
    # the first run's lists are untouched by the second
    assert len(R.recommendations(store, ids[0])) == 4


def test_failed_run_leaves_only_a_failed_row(store):
    sid = _save(store)
    rid = R.create_run(store, dataset="ds", split_id=sid, algorithm="ease", k=2)
    R.fail_run(store, rid, "EASE needs a dense item x item matrix; 90000 items is too many.")
    run = R.get_run(store, rid)
    assert run["status"] == "failed"
    assert run["error"].startswith("EASE needs")
    assert R.recommendations(store, rid).empty
    assert R.run_metrics(store, rid).empty
    assert R.user_metric_series(store, rid, "ndcg", 10).empty
    assert R.list_runs(store)["status"].tolist() == ["failed"]


def test_finish_that_fails_midway_writes_nothing(store):
    sid = _save(store)
    rid = R.create_run(store, dataset="ds", split_id=sid, algorithm="als", k=2)
    bad_metrics = pd.DataFrame({"metric": ["ndcg"], "k": [10], "value": ["not a number"]})
    with pytest.raises(Exception):
        R.finish_run(store, rid, recs=_recs(), metrics=bad_metrics)
    assert R.recommendations(store, rid).empty
    assert R.get_run(store, rid)["status"] == "running"


def test_unknown_run_is_one_sentence(store):
    with pytest.raises(NotFound, match=r"no run with id 42.*recscope runs"):
        R.get_run(store, 42)
    with pytest.raises(DataError, match="whole number"):
        R.get_run(store, "abc")
    with pytest.raises(NotFound, match="no split with id 7"):
        R.get_split(store, 7)


def test_recommendations_are_stored_sorted_by_user_and_rank(store):
    # physical order (a plain scan keeps insertion order) is what lets zonemaps prune by user
    sid = _save(store)
    rid = R.create_run(store, dataset="ds", split_id=sid, algorithm="als", k=2)
    R.finish_run(store, rid, recs=_recs(), metrics=_metrics())
    raw = store.df("SELECT user_id, rank FROM recommendations WHERE run_id = ?", [rid])
    assert list(zip(raw.user_id, raw["rank"])) == [("u1", 1), ("u1", 2), ("u2", 1), ("u2", 2)]


def test_item_neighbours_round_trip_and_deletion(store):
    from engine.store import items as I
    from engine.store.datasets import _delete_dataset

    sid = _save(store)
    nb = pd.DataFrame({"item_id": ["b", "a", "a"], "rank": [1, 2, 1],
                       "neighbour_id": ["a", "c", "b"], "score": [0.9, 0.25, 0.5]})
    rids = []
    for _ in range(2):
        rid = R.create_run(store, dataset="ds", split_id=sid, algorithm="itemknn", k=2)
        R.finish_run(store, rid, recs=_recs(), metrics=_metrics(), neighbours=nb)
        rids.append(rid)
    got = I.model_neighbours(store, rids[0], "a")
    assert list(got.columns) == ["rank", "item_id", "title", "category", "attrs", "score"]
    assert list(zip(got["rank"], got["item_id"], got["score"])) == [(1, "b", 0.5), (2, "c", 0.25)]
    assert I.model_neighbours(store, rids[0], "a", n=1)["item_id"].tolist() == ["b"]
    # stored sorted by (run_id, item_id, rank)
    rows = store.df("SELECT run_id, item_id, rank FROM item_neighbours")
    assert list(zip(rows.run_id, rows.item_id, rows["rank"])) == [
        (r, i, k) for r in rids for i, k in (("a", 1), ("a", 2), ("b", 1))]
    assert I.runs_with_neighbours(store, "ds") == rids
    R.delete_run(store, rids[0])
    assert I.model_neighbours(store, rids[0], "a").empty
    assert I.runs_with_neighbours(store, "ds") == [rids[1]]
    with store.transaction() as con:
        _delete_dataset(con, "ds")
    assert store.scalar("SELECT count(*) FROM item_neighbours") == 0


def test_failed_run_keeps_no_neighbours(store):
    sid = _save(store)
    rid = R.create_run(store, dataset="ds", split_id=sid, algorithm="itemknn", k=2)
    with store.transaction() as con:   # as if a half-written attempt had left rows
        con.execute("INSERT INTO item_neighbours VALUES (?, 'a', 1, 'b', 0.5)", [rid])
    R.fail_run(store, rid, "itemknn failed.")
    assert store.scalar("SELECT count(*) FROM item_neighbours") == 0
