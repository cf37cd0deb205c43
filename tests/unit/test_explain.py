"""The ALS model's own explanations: engine/recommend/explain.py, the item factors a run
keeps (engine/store/runs.py) and what the Compare page reads (engine/services/compare.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from engine.data.dataset import Dataset
from engine.errors import DataError
from engine.pipeline import train_runs
from engine.recommend.algorithms import ALS
from engine.recommend.explain import als_drivers, als_explain, history_row
from engine.recommend.matrix import build_matrix
from engine.store import Store
from engine.services import compare as C
from engine.store import runs as R
from engine.store.datasets import save_dataset


# --------------------------------------------------------------------------- explain

def test_top_driver_on_hand_made_factors():
    # Two orthogonal groups of items: a* along e1, b* along e2. The user had a0 (weight 1)
    # and b0 (weight 3). With alpha 1 the confidence is the weight, and (section 5 of Hu,
    # Koren & Volinsky; implicit's convention) W = (YtY + sum_j (c_j - 1) y_j y_j' + reg I)^-1
    # is diagonal here: W = diag(1 / (3 + reg), 1 / (3 + 2 + reg)). So a1 is driven by a0
    # alone with 1 * 1 / (3 + reg), b1 by b0 alone with 3 * 1 / (5 + reg).
    ids = ["a0", "a1", "a2", "b0", "b1", "b2"]
    Y = np.array([[1, 0]] * 3 + [[0, 1]] * 3, dtype=np.float32)
    reg = 0.05
    out = als_explain(Y, ids, {"regularization": reg, "alpha": 1.0}, ["a0", "b0"], [1.0, 3.0],
                      ["a1", "b1"], n=None)
    score_a1, contrib_a1 = out["a1"]
    assert contrib_a1[0] == ("a0", pytest.approx(1 / (3 + reg)))
    assert contrib_a1[1] == ("b0", pytest.approx(0.0, abs=1e-7))
    assert score_a1 == pytest.approx(1 / (3 + reg))
    score_b1, contrib_b1 = out["b1"]
    assert contrib_b1[0] == ("b0", pytest.approx(3 / (5 + reg)))
    assert score_b1 == pytest.approx(3 / (5 + reg))
    # als_drivers: the same, top n only
    assert als_drivers(Y, ids, {"regularization": reg}, ["a0", "b0"], [1.0, 3.0], ["b2"], n=1) \
        == {"b2": [("b0", pytest.approx(3 / (5 + reg)))]}


def _fitted(seed=0, iterations=30):
    rng = np.random.default_rng(seed)
    m = sp.random(200, 60, density=0.1, random_state=seed, format="csr", dtype=np.float32)
    m.data[:] = rng.integers(1, 4, m.nnz)
    model = ALS(seed=seed, factors=8, regularization=0.05, alpha=2.0, iterations=iterations).fit(m)
    return model, m, np.asarray([f"i{j}" for j in range(60)], dtype=object)


def test_contributions_sum_to_the_score_of_the_resolved_user():
    model, m, ids = _fitted()
    u = int(np.argmax(np.diff(m.indptr)))          # the user with the longest history
    row = m[u]
    hist, w = ids[row.indices].tolist(), row.data.astype(float)
    items, trained = model.recommend(np.array([u]), m, 5)
    recs = ids[items[0]].tolist()
    out = als_explain(model.item_factors, ids, {"regularization": 0.05, "alpha": 2.0},
                      hist, w, recs, n=None)
    # independent closed form (numpy): x_u = (YtY + Y'(C-I)Y + reg I)^-1 Y'C p, C = alpha w
    Y = model.item_factors.astype(np.float64)
    c = 2.0 * w
    Yh = Y[row.indices]
    A = Y.T @ Y + (Yh * (c - 1)[:, None]).T @ Yh + 0.05 * np.eye(8)
    x = np.linalg.solve(A, (Yh * c[:, None]).sum(axis=0))
    for rec, j, s in zip(recs, items[0], trained[0]):
        score, contrib = out[rec]
        assert len(contrib) == len(hist)
        assert sum(v for _, v in contrib) == pytest.approx(score, rel=1e-6)
        assert score == pytest.approx(float(Y[j] @ x), rel=1e-4)
        # the trained model's own score: equal up to ALS's last half-step and CG tolerance
        assert score == pytest.approx(float(s), rel=0.05)
    # the same top contributions as implicit's explain on the in-memory model
    mine = als_drivers(model.item_factors, ids, {"regularization": 0.05, "alpha": 2.0}, hist, w,
                       recs[:2], n=3)
    theirs = model.explain(u, m, items[0][:2], n=3)
    for rec, expected in zip(recs[:2], theirs):
        assert [d for d, _ in mine[rec]] == [ids[j] for j, _ in expected]
        assert [v for _, v in mine[rec]] == pytest.approx([v for _, v in expected], rel=1e-5)


def test_history_row_is_the_row_build_matrix_makes():
    ids = np.asarray(["a", "b", "c", "d"], dtype=object)
    hist = ["c", "a", "c", "zz", "d", "d", "b"]
    w = [1.0, 2.5, 3.0, 9.0, 1.0, -1.0, 0.5]            # c summed, d sums to 0, zz unknown
    frame = pd.DataFrame({"user_id": ["u"] * len(hist), "item_id": hist, "weight": w})
    want = build_matrix(frame, np.asarray(["u"], dtype=object), ids, event_weights={})
    got = history_row(pd.Index(ids), hist, w)
    assert got.shape == want.shape == (1, 4) and got.dtype == want.dtype == np.float32
    assert got.indices.tolist() == want.indices.tolist() == [0, 1, 2]
    assert got.data.tolist() == want.data.tolist() == [2.5, 0.5, 4.0]


def test_unknown_items_are_left_out_and_bad_shapes_are_one_sentence():
    Y = np.eye(3, dtype=np.float32)
    out = als_drivers(Y, ["x", "y", "z"], None, ["x", "nope", "x"], [1.0, 1.0, 2.0],
                      ["y", "x", "gone"], n=2)
    assert set(out) == {"y", "x"}                    # "gone" has no factors
    assert [d for d, _ in out["x"]] == ["x"]         # "nope" dropped, x's rows summed
    assert als_drivers(Y, ["x", "y", "z"], None, [], [], ["y"]) == {"y": []}
    with pytest.raises(DataError, match="one factor row per item id"):
        als_drivers(Y, ["x", "y"], None, ["x"], [1.0], ["y"])
    with pytest.raises(DataError, match="one weight per history item"):
        als_drivers(Y, ["x", "y", "z"], None, ["x", "y"], [1.0], ["z"])


# --------------------------------------------------------------------------- the store

def _running_run(store: Store, dataset="d") -> int:
    return R.create_run(store, dataset=dataset, split_id=None, algorithm="als", k=1)


def _finish(store, rid, **kw):
    R.finish_run(store, rid, recs=pd.DataFrame({"user_id": ["u"], "rank": [1], "item_id": ["b"],
                                                "score": [0.5]}),
                 metrics=pd.DataFrame({"metric": ["ndcg"], "k": [1], "value": [0.0]}), **kw)


def test_item_factors_round_trip_and_go_with_the_run(tmp_path):
    store = Store(tmp_path / "a.duckdb", lock_timeout=5)
    Y = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    ids = ["東京", "b", "c,d", 'e"']
    rid = _running_run(store)
    _finish(store, rid, artifacts={R.ITEM_FACTORS: Y, R.ITEM_IDS: ids})
    got = R.item_factors(store, rid)
    assert got is not None and got[0].dtype == np.float32
    assert np.array_equal(got[0], Y) and got[1].tolist() == ids
    sizes = R.artifact_sizes(store, [rid]).set_index("name")["bytes"]
    assert sizes[R.ITEM_FACTORS] == 128 + Y.nbytes  # an .npy header plus the raw floats
    plain = _running_run(store)
    _finish(store, plain)
    assert R.item_factors(store, plain) is None
    R.delete_run(store, rid)
    assert R.item_factors(store, rid) is None and R.artifact_sizes(store).empty


def test_a_bad_artifact_writes_nothing(tmp_path):
    store = Store(tmp_path / "b.duckdb", lock_timeout=5)
    rid = _running_run(store)
    with pytest.raises(DataError, match="numeric numpy array or a list of texts"):
        _finish(store, rid, artifacts={R.ITEM_FACTORS: {"not": "an array"}})
    assert R.get_run(store, rid)["status"] == "running"
    assert R.recommendations(store, rid).empty and R.artifact_sizes(store).empty


def _events_dataset(name="ev") -> Dataset:
    rng = np.random.default_rng(3)
    rows = []
    for u in range(60):
        group = u % 2  # two tastes: even users like items 0-14, odd users 15-29
        for t, i in enumerate(rng.choice(15, size=6, replace=False) + 15 * group):
            rows.append((f"u{u:02d}", f"j{i:02d}", t, "apply" if t % 3 == 0 else "view"))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "day", "event"])
    inter["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(inter.pop("day"), unit="D")
    inter["weight"] = 1.0
    return Dataset(name=name, interactions=inter, users=None, items=None)


def test_trained_als_keeps_its_factors_and_the_page_reads_its_explanation(tmp_path):
    store = Store(tmp_path / "p.duckdb", lock_timeout=5)
    save_dataset(store, _events_dataset())
    weights = {"view": 1.0, "apply": 4.0}
    res = train_runs(store, "ev", ["als", "popularity"], k=5, event_weights=weights,
                     params={"als": {"factors": 6, "iterations": 20, "alpha": 2.0}})
    als, pop = (r["run_id"] for r in res)
    assert R.item_factors(store, pop) is None
    Y, ids = R.item_factors(store, als)
    train, _ = R.load_split(store, res[0]["split_id"])
    assert ids.tolist() == sorted(set(train["item_id"])) and Y.shape == (len(ids), 6)

    user = "u00"
    recs = R.recommendations(store, als, [user])
    got = C.model_drivers(store, "ev", als, user, recs["item_id"], n=2)
    # expected: the user's row of the matrix the pipeline trained on (events weighted)
    user_ids = np.asarray(sorted(set(train["user_id"])), dtype=object)
    matrix = build_matrix(train, user_ids, ids, event_weights=weights)
    row = matrix[list(user_ids).index(user)]
    assert sorted(row.data.tolist()) != [1.0] * row.nnz      # the weights do matter here
    p = {"regularization": 0.05, "alpha": 2.0}
    want = als_explain(Y, ids, p, ids[row.indices], row.data, recs["item_id"], n=2)
    for item_id, g in got.groupby("item_id"):
        score, contrib = want[item_id]
        assert g["driver_id"].tolist() == [d for d, _ in contrib]
        assert g["contribution"].tolist() == pytest.approx([v for _, v in contrib])
        assert g["score"].iloc[0] == pytest.approx(score)
        assert set(g["driver_id"]) <= set(train.loc[train["user_id"] == user, "item_id"])
    assert set(got["item_id"]) == set(recs["item_id"])
    assert C.model_drivers(store, "ev", pop, user, recs["item_id"]) is None
    assert C.model_drivers(store, "ev", als, user, []).empty

    # the re-solved scores track the stored ones (up to ALS's last half-step) with the
    # run's event weights, and clearly worse when the events are weighted wrongly
    def misfit(event_weights):
        m = build_matrix(train, user_ids, ids, event_weights=event_weights)
        got, stored = [], []
        for u in range(20):
            lst = R.recommendations(store, als, [user_ids[u]])
            r = m[u]
            ex = als_explain(Y, ids, p, ids[r.indices], r.data, lst["item_id"], n=None)
            got += [ex[i][0] for i in lst["item_id"]]
            stored += lst["score"].tolist()
        return np.median(np.abs(np.subtract(got, stored))) / np.median(np.abs(stored))

    right, wrong = misfit(weights), misfit({"view": 1.0, "apply": 1.0})
    assert right < 0.05 and wrong > 3 * right

    # replacing the dataset removes its runs' factors with them
    save_dataset(store, _events_dataset(), replace=True)
    assert R.artifact_sizes(store).empty
