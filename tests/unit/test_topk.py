"""engine.recommend.topk against a brute-force numpy reference."""

import numpy as np
import pytest
import scipy.sparse as sp

from engine.errors import DataError
from engine.recommend import topk


def reference(U, V, k, exclude=None):
    """Brute force: full scores, excluded -> dropped, sort by (score desc, item asc)."""
    S = np.asarray(U, dtype=np.float32) @ np.asarray(V, dtype=np.float32).T
    n_users, n_items = S.shape
    items = np.full((n_users, k), -1, dtype=np.int64)
    scores = np.full((n_users, k), -np.inf, dtype=np.float32)
    ex = exclude.tolil() if exclude is not None else None
    for u in range(n_users):
        banned = set(ex.rows[u]) if ex is not None else set()
        cand = [(-float(S[u, i]), i) for i in range(n_items) if i not in banned]
        cand.sort()
        for r, (neg, i) in enumerate(cand[:k]):
            items[u, r] = i
            scores[u, r] = -neg
    return items, scores


@pytest.mark.parametrize("n_users,n_items,k,density,chunk,threads", [
    (50, 30, 5, 0.2, None, None),        # small catalogue: exact-partition path
    (40, 3000, 10, 0.01, 7, 2),          # block-maximum path, several chunks, 2 threads
    (33, 2000, 25, 0.3, 4, 3),           # heavy exclusion
    (10, 1000, 1, 0.0, None, 1),
])
def test_matches_bruteforce(n_users, n_items, k, density, chunk, threads):
    rng = np.random.default_rng(n_items + k)
    U = rng.standard_normal((n_users, 8)).astype(np.float32)
    V = rng.standard_normal((n_items, 8)).astype(np.float32)
    ex = sp.random(n_users, n_items, density=density, format="csr", random_state=3)
    got_i, got_s = topk(U, V, k, ex, chunk_size=chunk, n_threads=threads)
    ref_i, ref_s = reference(U, V, k, ex)
    assert got_i.dtype == np.int64 and got_s.dtype == np.float32
    assert got_i.shape == (n_users, k)
    np.testing.assert_array_equal(got_i, ref_i)
    np.testing.assert_allclose(got_s, ref_s, rtol=1e-5, atol=1e-5)
    # nothing excluded comes back
    rows, cols = ex.nonzero()
    banned = set(zip(rows.tolist(), cols.tolist()))
    assert not any((u, i) in banned for u in range(n_users) for i in got_i[u])


def test_ties_lower_item_index_first_and_at_boundary():
    # user scores: items 0..5 -> [1, 3, 3, 2, 3, 1]; top-2 among the three 3s -> items 1, 4
    U = np.array([[1.0]], dtype=np.float32)
    V = np.array([[1], [3], [3], [2], [3], [1]], dtype=np.float32)
    items, scores = topk(U, V, 2)
    assert items.tolist() == [[1, 2]]
    assert scores.tolist() == [[3.0, 3.0]]
    ex = sp.csr_matrix(np.array([[0, 0, 1, 0, 0, 0]]))
    items, _ = topk(U, V, 4, ex)
    assert items.tolist() == [[1, 4, 3, 0]]


def test_ties_on_block_path_match_reference():
    # many equal scores across a catalogue large enough for the block-maximum path
    rng = np.random.default_rng(1)
    U = np.ones((5, 1), dtype=np.float32)
    V = rng.integers(0, 4, size=(2000, 1)).astype(np.float32)
    got_i, got_s = topk(U, V, 30)
    ref_i, ref_s = reference(U, V, 30)
    np.testing.assert_array_equal(got_i, ref_i)


def test_k_larger_than_catalogue_pads():
    U = np.array([[1.0], [2.0]], dtype=np.float32)
    V = np.array([[1.0], [3.0], [2.0]], dtype=np.float32)
    items, scores = topk(U, V, 5)
    assert items.tolist() == [[1, 2, 0, -1, -1], [1, 2, 0, -1, -1]]
    assert np.isneginf(scores[:, 3:]).all()
    assert scores[1, :3].tolist() == [6.0, 4.0, 2.0]


def test_fully_excluded_row_and_empty_inputs():
    U = np.eye(3, dtype=np.float32)
    V = np.eye(3, dtype=np.float32)
    ex = sp.csr_matrix(np.array([[1, 1, 1], [0, 0, 0], [1, 0, 1]]))
    items, scores = topk(U, V, 2, ex)
    assert items[0].tolist() == [-1, -1]
    assert np.isneginf(scores[0]).all()
    assert items[1].tolist() == [1, 0]      # score 1 for item 1, then 0-score tie: item 0
    assert items[2].tolist() == [1, -1]
    # no users / no items / k = 0
    assert topk(np.zeros((0, 3)), V, 4)[0].shape == (0, 4)
    assert (topk(U, np.zeros((0, 3)), 4)[0] == -1).all()
    assert topk(U, V, 0)[0].shape == (3, 0)


def test_explicit_zero_in_exclude_still_excludes():
    U = np.array([[1.0]], dtype=np.float32)
    V = np.array([[5.0], [4.0]], dtype=np.float32)
    ex = sp.csr_matrix((np.array([0.0]), np.array([0]), np.array([0, 1])), shape=(1, 2))
    assert topk(U, V, 1, ex)[0].tolist() == [[1]]


def test_bad_input_is_one_sentence():
    with pytest.raises(DataError, match="same f"):
        topk(np.zeros((2, 3)), np.zeros((4, 2)), 1)
    with pytest.raises(DataError, match="exclude"):
        topk(np.zeros((2, 3)), np.zeros((4, 3)), 1, sp.csr_matrix((3, 4)))
    with pytest.raises(DataError, match="k >= 0"):
        topk(np.zeros((2, 3)), np.zeros((4, 3)), -1)
    with pytest.raises(DataError, match="non-finite"):
        topk(np.full((2, 3), np.nan), np.zeros((4, 3)), 1)
