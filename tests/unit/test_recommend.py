"""engine.recommend: the interaction matrix, the algorithms and the registry."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from engine.errors import DataError
from engine.recommend import ALGORITHMS, DEFAULT_ALGOS, available, build_matrix, make
from engine.recommend.base import Recommender


# --------------------------------------------------------------------------------------
# build_matrix
# --------------------------------------------------------------------------------------
def test_build_matrix_event_weights_duplicates_and_ratings():
    train = pd.DataFrame({
        "user_id": ["a", "a", "a", "b", "b", "c"],
        "item_id": ["x", "x", "y", "y", "z", "q"],   # q is unknown -> dropped
        "event": ["view", "apply", "favorite", "rating", "rating", "view"],
        "weight": [9.0, 9.0, 9.0, 4.0, 2.5, 1.0],
    })
    users, items = np.array(["a", "b", "c"], dtype=object), np.array(["x", "y", "z"], dtype=object)
    m = build_matrix(train, users, items)
    assert isinstance(m, sp.csr_matrix) and m.dtype == np.float32 and m.shape == (3, 3)
    # a-x: view 1 + apply 5 (event weights beat the weight column); a-y favorite 3;
    # b's ratings use their weight column
    assert m.toarray().tolist() == [[6, 3, 0], [0, 4, 2.5], [0, 0, 0]]
    # min_weight filters rows before summing: the view (1) and favorite (3) go
    assert build_matrix(train, users, items, min_weight=4).toarray().tolist() == \
        [[5, 0, 0], [0, 4, 0], [0, 0, 0]]
    assert build_matrix(train, users, items, min_weight=4, use_weight=False).toarray().tolist() == \
        [[1, 0, 0], [0, 1, 0], [0, 0, 0]]
    # use_weight=False counts events
    assert build_matrix(train, users, items, use_weight=False).toarray()[0].tolist() == [2, 1, 0]
    # {} -> always the weight column
    assert build_matrix(train, users, items, event_weights={}).toarray()[0].tolist() == [18, 9, 0]
    with pytest.raises(DataError, match="'q'"):
        build_matrix(train, users, items, unknown="error")


def test_build_matrix_bad_input():
    with pytest.raises(DataError, match="item_id"):
        build_matrix(pd.DataFrame({"user_id": ["a"]}), np.array(["a"]), np.array(["x"]))
    with pytest.raises(DataError, match="repeats the id 'a'"):
        build_matrix(pd.DataFrame({"user_id": ["a"], "item_id": ["x"]}),
                     np.array(["a", "a"], dtype=object), np.array(["x"], dtype=object))


def test_build_matrix_zero_sums_are_not_stored():
    train = pd.DataFrame({"user_id": ["a", "a"], "item_id": ["x", "x"], "event": ["rating"] * 2,
                          "weight": [1.0, -1.0]})
    assert build_matrix(train, np.array(["a"]), np.array(["x"])).nnz == 0


# --------------------------------------------------------------------------------------
# every algorithm
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    """60 users x 40 items, power-law-ish popularity, 3..12 items each."""
    rng = np.random.default_rng(7)
    n_users, n_items = 60, 40
    p = 1.0 / np.arange(1, n_items + 1)
    p /= p.sum()
    rows, cols = [], []
    for u in range(n_users):
        its = rng.choice(n_items, size=rng.integers(3, 13), replace=False, p=p)
        rows += [u] * len(its)
        cols += its.tolist()
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))


@pytest.mark.parametrize("name", available())
def test_every_algorithm_fits_and_recommends(name, small):
    kw = {"iterations": 5} if "iterations" in ALGORITHMS[name].defaults else {}
    if name in ("itemknn", "bm25"):
        kw["K"] = 10
    m = make(name, seed=3, **kw)
    assert isinstance(m, Recommender)
    calls = []
    assert m.fit(small, progress=lambda *a: calls.append(a)) is m
    assert calls, "fit reports progress"
    users = np.arange(small.shape[0])
    k = 10
    items, scores = m.recommend(users, small, k)
    assert items.shape == (len(users), k) and items.dtype == np.int64
    assert scores.shape == (len(users), k) and scores.dtype == np.float32
    assert ((items >= -1) & (items < small.shape[1])).all()
    pad = items == -1
    assert np.isneginf(scores[pad]).all() and np.isfinite(scores[~pad]).all()
    # padding only at the tail, scores best first
    assert (np.diff(pad.astype(int), axis=1) >= 0).all()
    assert (np.diff(np.where(pad, -1e30, scores), axis=1) <= 1e-6).all()
    for u in users:
        got = items[u][items[u] >= 0]
        assert len(set(got)) == len(got)
        assert not set(got) & set(small[u].indices), f"{name} returned a seen item"
    # a sub-batch, and scoring in blocks of 16 users, give the same lists
    sub = np.array([5, 0, 17])
    np.testing.assert_array_equal(m.recommend(sub, small, k)[0], items[sub])
    m.block_cells = 1
    np.testing.assert_array_equal(m.recommend(users, small, k)[0], items)


@pytest.mark.parametrize("name", [n for n in available() if ALGORITHMS[n].similar_items])
def test_similar_items_exclude_the_item_itself(name, small):
    kw = {"iterations": 5} if "iterations" in ALGORITHMS[name].defaults else {}
    m = make(name, **kw).fit(small)
    q = np.array([0, 1, 2])
    items, scores = m.similar_items(q, 5)
    assert items.shape == (3, 5)
    for r, i in enumerate(q):
        assert i not in items[r]
    valid = items >= 0
    assert valid[:, 0].all()
    assert (np.diff(np.where(valid, scores, -1e30), axis=1) <= 1e-6).all()


def test_popularity_order_by_hand():
    # item counts (users): item0 1, item1 3, item2 2, item3 2, item4 0
    X = sp.csr_matrix(np.array([
        [0, 1, 1, 0, 0],
        [0, 1, 0, 1, 0],
        [1, 1, 1, 1, 0],
        [0, 0, 0, 0, 0],
    ], dtype=np.float32))
    m = make("popularity").fit(X)
    items, scores = m.recommend(np.array([3, 0, 2]), X, 5)
    assert items[0].tolist() == [1, 2, 3, 0, 4]        # ties 2/3 by lower index
    assert scores[0].tolist() == [3, 2, 2, 1, 0]
    assert items[1].tolist() == [3, 0, 4, -1, -1]      # seen 1, 2 removed, padded
    assert items[2].tolist() == [4, -1, -1, -1, -1]
    kept, _ = m.recommend(np.array([0]), X, 2, exclude_seen=False)
    assert kept[0].tolist() == [1, 2]


def test_random_is_reproducible_and_seeded():
    X = sp.csr_matrix((20, 50), dtype=np.float32)
    a = make("random", seed=1).fit(X).recommend(np.arange(20), X, 10)[0]
    b = make("random", seed=1).fit(X).recommend(np.array([19, 3]), X, 10)[0]
    c = make("random", seed=2).fit(X).recommend(np.arange(20), X, 10)[0]
    np.testing.assert_array_equal(a[[19, 3]], b)
    assert (a != c).any()
    assert len({tuple(r) for r in a}) > 1   # users get different lists


@pytest.mark.parametrize("name", ["als", "bpr", "lmf"])
def test_factor_models_are_reproducible_per_seed(name, small):
    """The same seed gives the same factors (BPR runs one SGD thread for this: with
    several, lock-free updates made two fits differ); another seed gives others."""
    a = make(name, seed=3).fit(small)
    b = make(name, seed=3).fit(small)
    c = make(name, seed=4).fit(small)
    np.testing.assert_array_equal(a.item_factors, b.item_factors)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)
    assert not np.array_equal(a.item_factors, c.item_factors)


def test_ease_two_items_by_hand():
    # X = [[1,1],[1,0]], lambda = 1: B[0,1] = x0.x1/(x0.x0+1) = 1/3, B[1,0] = 1/(1+1) = 1/2
    X = sp.csr_matrix(np.array([[1, 1], [1, 0]], dtype=np.float32))
    m = make("ease", regularization=1.0).fit(X)
    np.testing.assert_allclose(m.B, [[0, 1 / 3], [1 / 2, 0]], rtol=1e-6)
    items, scores = m.recommend(np.array([1]), X, 1)   # user 1 has item 0 -> item 1, 1/3
    assert items.tolist() == [[1]]
    np.testing.assert_allclose(scores, [[1 / 3]], rtol=1e-6)


def test_ease_matches_per_column_ridge(small):
    """EASE's objective separates by column: column j is a ridge regression of item j on
    the other items (the zero-diagonal constraint drops j). Cross-check against the
    ridge normal equations solved per column (no shared inverse, no diag(P) trick)."""
    lam = 5.0
    m = make("ease", regularization=lam).fit(small)
    X = small.toarray().astype(np.float64)
    for j in (0, 3, 11):
        others = [i for i in range(X.shape[1]) if i != j]
        Z = X[:, others]
        coef = np.linalg.solve(Z.T @ Z + lam * np.eye(len(others)), Z.T @ X[:, j])
        np.testing.assert_allclose(m.B[others, j], coef, rtol=1e-4, atol=1e-6)
        assert m.B[j, j] == 0


def test_ease_refuses_large_catalogues():
    X = sp.csr_matrix((3, 30), dtype=np.float32)
    with pytest.raises(DataError, match="max_items=20"):
        make("ease", max_items=20).fit(X)


def test_als_explain_returns_history_items(small):
    m = make("als", iterations=5, factors=8).fit(small)
    u = 4
    recs, _ = m.recommend(np.array([u]), small, 3)
    expl = m.explain(u, small, recs[0], n=2)
    history = set(small[u].indices.tolist())
    assert len(expl) == 3
    for e in expl:
        assert 1 <= len(e) <= 2
        assert {i for i, _ in e} <= history
        assert all(isinstance(s, float) for _, s in e)
        assert [s for _, s in e] == sorted((s for _, s in e), reverse=True)
    assert m.supports_explain and not make("bpr").supports_explain


def test_factor_scores_are_the_dot_products(small):
    m = make("als", iterations=3, factors=4).fit(small)
    items, scores = m.recommend(np.array([2]), small, 5)
    np.testing.assert_allclose(scores[0], m.user_factors[2] @ m.item_factors[items[0]].T,
                               rtol=1e-5)


def test_registry_errors_and_defaults():
    assert set(DEFAULT_ALGOS) <= set(available())
    with pytest.raises(DataError, match=r"Unknown algorithm 'svd'.*popularity.*ease"):
        make("svd")
    with pytest.raises(DataError, match=r"no parameter 'factor'.*factors, regularization"):
        make("als", factor=3)
    with pytest.raises(DataError, match=r"'factors' of 'als' must be a whole number; got 'many'"):
        make("als", factors="many")
    with pytest.raises(DataError, match="has no parameter 'K'; its parameters are: none"):
        make("popularity", K=3)
    m = make("als", seed=9, factors="16")
    assert m.params == {"factors": 16, "regularization": 0.05, "alpha": 1.0,
                        "iterations": 15, "seed": 9}
    assert m.name == "als"


def test_recommend_input_errors(small):
    m = make("popularity")
    with pytest.raises(DataError, match="fitted"):
        m.recommend(np.array([0]), small, 3)
    m.fit(small)
    with pytest.raises(DataError, match="user index 60 is outside"):
        m.recommend(np.array([60]), small, 3)
    with pytest.raises(DataError, match="40 items"):
        m.recommend(np.array([0]), sp.csr_matrix((60, 41), dtype=np.float32), 3)
    with pytest.raises(DataError, match="at least 1"):
        m.recommend(np.array([0]), small, 0)


@pytest.mark.parametrize("algo,param,value,expected", [
    ("itemknn", "K", 0, "Parameter 'K' of 'itemknn' must be at least 1; got 0."),
    ("als", "factors", "0", "Parameter 'factors' of 'als' must be at least 1; got '0'."),
    ("als", "iterations", "1.5", "Parameter 'iterations' of 'als' must be a whole number; got '1.5'."),
    ("bpr", "learning_rate", -0.1, "Parameter 'learning_rate' of 'bpr' must be above 0.0; got -0.1."),
    ("als", "regularization", "-1", "Parameter 'regularization' of 'als' must be at least 0.0; got '-1'."),
    ("bm25", "B", 2, "Parameter 'B' of 'bm25' must be between 0.0 and 1.0; got 2."),
    ("als", "alpha", "nan", "Parameter 'alpha' of 'als' must be above 0.0; got 'nan'."),
])
def test_parameters_out_of_range_are_one_sentence(algo, param, value, expected):
    from engine.errors import DataError
    from engine.recommend.registry import make

    with pytest.raises(DataError) as e:
        make(algo, **{param: value})
    assert str(e.value) == expected


def test_parameters_in_range_are_coerced():
    from engine.recommend.registry import make

    m = make("als", factors="16", iterations=3.0, regularization="0")
    assert (m.params["factors"], m.params["iterations"], m.params["regularization"]) == (16, 3, 0.0)
    assert isinstance(m.params["factors"], int)
