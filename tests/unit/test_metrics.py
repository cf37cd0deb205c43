"""Top-K accuracy and beyond-accuracy metrics: hand-computed cases, sklearn and slow loops."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score

from engine.errors import DataError
from engine.evaluate import ACCURACY, METRICS, accuracy_metrics, beyond_accuracy, summarise


def recs_frame(lists: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(u, r + 1, it, 1.0 / (r + 1)) for u, items in lists.items()
            for r, it in enumerate(items)]
    return pd.DataFrame(rows, columns=["user_id", "rank", "item_id", "score"])


def truth_frame(pairs: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(u, it, pd.NaT, 1.0) for u, items in pairs.items() for it in items]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "weight"])




def as_dict(um: pd.DataFrame) -> dict:
    return {(r.user_id, r.metric, r.k): r.value for r in um.itertuples()}


def test_every_metric_has_a_definition():
    for name in ACCURACY + ["coverage", "gini", "avg_popularity", "novelty", "ild",
                            "personalisation"]:
        assert METRICS[name].endswith(".")


def test_accuracy_hand_computed():
    recs = recs_frame({"u1": ["a", "b", "c", "d"], "u3": ["a"]})
    test = truth_frame({"u1": ["b", "d", "x"], "u2": ["z"]})
    um = accuracy_metrics(recs, test, ks=(2, 4))
    assert list(um.columns) == ["user_id", "metric", "k", "value"]
    assert set(um["user_id"]) == {"u1", "u2"}          # u3 has no test items
    v = as_dict(um)
    l3, l5 = math.log2(3), math.log2(5)
    # k = 2: one hit (b at rank 2)
    assert v["u1", "precision", 2] == pytest.approx(1 / 2)
    assert v["u1", "recall", 2] == pytest.approx(1 / 3)
    assert v["u1", "ndcg", 2] == pytest.approx((1 / l3) / (1 + 1 / l3))
    assert v["u1", "map", 2] == pytest.approx((1 / 2) / 2)
    assert v["u1", "mrr", 2] == pytest.approx(1 / 2)
    assert v["u1", "hit_rate", 2] == 1.0
    # k = 4: hits b (rank 2) and d (rank 4); ideal DCG over min(4, 3) = 3 positions
    assert v["u1", "precision", 4] == pytest.approx(2 / 4)
    assert v["u1", "recall", 4] == pytest.approx(2 / 3)
    assert v["u1", "ndcg", 4] == pytest.approx((1 / l3 + 1 / l5) / (1 + 1 / l3 + 0.5))
    assert v["u1", "map", 4] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert v["u1", "mrr", 4] == pytest.approx(1 / 2)
    # a test user without recommendations scores 0 everywhere
    assert all(v["u2", m, k] == 0.0 for m in ACCURACY for k in (2, 4))


def test_duplicate_item_counts_once_and_duplicate_rank_is_refused():
    recs = recs_frame({"u": ["a", "a", "b"]})
    v = as_dict(accuracy_metrics(recs, truth_frame({"u": ["a", "b"]}), ks=(3,)))
    assert v["u", "precision", 3] == pytest.approx(2 / 3)   # a once (rank 1), b at rank 3
    bad = pd.DataFrame({"user_id": ["u", "u"], "rank": [1, 1], "item_id": ["a", "b"],
                        "score": [1.0, 1.0]})
    with pytest.raises(DataError, match="two items at rank 1"):
        accuracy_metrics(bad, truth_frame({"u": ["a"]}))
    with pytest.raises(DataError, match="ks must be positive"):
        accuracy_metrics(recs, truth_frame({"u": ["a"]}), ks=(0,))


def random_case(seed: int, n_users: int = 60, n_items: int = 40, list_len: int = 20):
    rng = np.random.default_rng(seed)
    lists, truth = {}, {}
    for u in range(n_users):
        uid = f"u{u}"
        if u % 7 != 3:                                  # some test users get no list
            lists[uid] = [f"i{i}" for i in rng.choice(n_items, list_len, replace=False)]
        truth[uid] = [f"i{i}" for i in rng.choice(n_items, rng.integers(1, 8), replace=False)]
    return lists, truth


def slow_reference(lists, truth, k):
    """Straightforward per-user definitions, one user at a time."""
    out = {}
    for u, rel in truth.items():
        rel = set(rel)
        top = lists.get(u, [])[:k]
        hit = [it in rel for it in top]
        n_hit = sum(hit)
        m = min(k, len(rel))
        dcg = sum(1 / math.log2(r + 2) for r, h in enumerate(hit) if h)
        idcg = sum(1 / math.log2(r + 2) for r in range(m))
        ap, seen = 0.0, 0
        for r, h in enumerate(hit):
            if h:
                seen += 1
                ap += seen / (r + 1)
        first = next((r + 1 for r, h in enumerate(hit) if h), None)
        out[u] = {"precision": n_hit / k, "recall": n_hit / len(rel), "ndcg": dcg / idcg,
                  "map": ap / m, "mrr": 1 / first if first else 0.0,
                  "hit_rate": float(n_hit > 0)}
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_accuracy_equals_slow_reference_loop(seed):
    lists, truth = random_case(seed)
    um = as_dict(accuracy_metrics(recs_frame(lists), truth_frame(truth), ks=(5, 10, 20)))
    for k in (5, 10, 20):
        ref = slow_reference(lists, truth, k)
        for u, vals in ref.items():
            for m, want in vals.items():
                assert um[u, m, k] == pytest.approx(want, abs=1e-12), (u, m, k)


def test_ndcg_equals_sklearn():
    lists, truth = random_case(3)
    items = sorted({f"i{i}" for i in range(40)})
    col = {it: j for j, it in enumerate(items)}
    users = sorted(u for u in truth if u in lists)
    y_true = np.zeros((len(users), len(items)))
    y_score = np.zeros((len(users), len(items)))
    for r, u in enumerate(users):
        for it in truth[u]:
            y_true[r, col[it]] = 1
        for rank, it in enumerate(lists[u]):       # 20 distinct scores, no ties in top 10
            y_score[r, col[it]] = 100 - rank
    um = accuracy_metrics(recs_frame(lists), truth_frame(truth), ks=(5, 10))
    for k in (5, 10):
        got = um[(um.metric == "ndcg") & (um.k == k) & um.user_id.isin(users)]
        got = got.set_index("user_id").loc[users, "value"].to_numpy()
        want = [ndcg_score(y_true[[r]], y_score[[r]], k=k) for r in range(len(users))]
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_summarise_is_mean_over_users():
    lists, truth = random_case(4)
    um = accuracy_metrics(recs_frame(lists), truth_frame(truth), ks=(10,))
    s = summarise(um)
    assert list(s.columns) == ["metric", "k", "value"]
    assert list(s["metric"]) == ACCURACY
    want = um[um.metric == "recall"]["value"].mean()
    assert s.set_index("metric").loc["recall", "value"] == pytest.approx(want)
    assert len(um[um.metric == "recall"]) == len(truth)


# --- beyond accuracy ------------------------------------------------------------------

ITEMS = pd.DataFrame({"item_id": list("abcde"), "title": list("ABCDE"),
                      "category": ["X", "X", "Y", "", "Y"]})
TRAIN = truth_frame({"t1": ["a", "b"], "t2": ["a", "c"], "t3": ["a"]})


def test_beyond_accuracy_hand_computed():
    recs = recs_frame({"v1": ["a", "b", "d"], "v2": ["a", "c", "e"]})
    out = beyond_accuracy(recs, TRAIN, ITEMS, ks=(2, 3))
    v = {(r.metric, r.k): r.value for r in out.itertuples()}
    l3 = math.log2(3)
    # k = 2: lists {a, b}, {a, c}; exposure a2 b1 c1 d0 e0; popularity a3 b1 c1 d0 e0
    assert v["coverage", 2] == pytest.approx(3 / 5)
    assert v["gini", 2] == pytest.approx(10 / 20)
    assert v["avg_popularity", 2] == pytest.approx(2.0)
    assert v["novelty", 2] == pytest.approx((0 + l3 + 0 + l3) / 4)
    assert v["ild", 2] == pytest.approx((0 + 1) / 2)
    assert v["personalisation", 2] == pytest.approx(1 - 1 / 2)
    # k = 3: d and e unseen in train (counted as one user each for novelty);
    # d has no category, so v1's ild uses only (a, b)
    assert v["coverage", 3] == pytest.approx(1.0)
    assert v["gini", 3] == pytest.approx(4 / 30)
    assert v["avg_popularity", 3] == pytest.approx(8 / 6)
    assert v["novelty", 3] == pytest.approx(4 * l3 / 6)
    assert v["ild", 3] == pytest.approx((0 + 2 / 3) / 2)
    assert v["personalisation", 3] == pytest.approx(1 - 1 / 3)


def test_ild_absent_without_categories():
    recs = recs_frame({"v1": ["a", "b"], "v2": ["a", "c"]})
    out = beyond_accuracy(recs, TRAIN, ITEMS.assign(category=""), ks=(2,))
    assert "ild" not in set(out["metric"])
    assert beyond_accuracy(recs, TRAIN, None, ks=(2,))["metric"].tolist() == [
        "coverage", "gini", "avg_popularity", "novelty", "personalisation"]


def test_beyond_accuracy_equals_slow_references():
    rng = np.random.default_rng(11)
    cats = ["A", "B", "C", ""]
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(50)],
                          "category": [cats[i % 4] for i in range(50)]})
    lists = {f"u{u}": [f"i{i}" for i in rng.choice(40, rng.integers(2, 9), replace=False)]
             for u in range(70)}
    train = truth_frame({f"t{t}": [f"i{i}" for i in rng.choice(45, 5, replace=False)]
                        for t in range(30)})
    k = 8
    out = beyond_accuracy(recs_frame(lists), train, items, ks=(k,), n_items=60)
    v = {r.metric: r.value for r in out.itertuples()}
    cat = dict(zip(items.item_id, items.category))
    # Gini by its mean-absolute-difference definition over all 60 catalogue slots
    expo = pd.Series([it for l in lists.values() for it in l]).value_counts()
    x = np.concatenate([expo.to_numpy(float), np.zeros(60 - len(expo))])
    gini = np.abs(x[:, None] - x[None, :]).sum() / (2 * 60 * x.sum())
    assert v["gini"] == pytest.approx(gini)
    assert v["coverage"] == pytest.approx(len(expo) / 60)
    # personalisation: 1 - mean cosine over all user pairs, by brute force
    sims = [len(set(a) & set(b)) / math.sqrt(len(a) * len(b))
            for a, b in itertools.combinations(lists.values(), 2)]
    assert v["personalisation"] == pytest.approx(1 - np.mean(sims), abs=1e-12)
    # ild: mean over lists of the share of differing-category pairs among categorised items
    ilds = []
    for l in lists.values():
        c = [cat[i] for i in l if cat[i]]
        pairs = list(itertools.combinations(c, 2))
        if pairs:
            ilds.append(np.mean([a != b for a, b in pairs]))
    assert v["ild"] == pytest.approx(np.mean(ilds), abs=1e-12)
    # popularity and novelty
    pop = train.groupby("item_id")["user_id"].nunique()
    slots = [it for l in lists.values() for it in l]
    assert v["avg_popularity"] == pytest.approx(np.mean([pop.get(i, 0) for i in slots]))
    assert v["novelty"] == pytest.approx(np.mean([-math.log2(max(pop.get(i, 0), 1) / 30)
                                                  for i in slots]))


def test_personalisation_for_equal_lists_is_share_of_items_not_shared():
    # equal-length lists: cosine = |intersection| / k, sum over items of c(c-1)/2 / k
    recs = recs_frame({"a": ["x", "y"], "b": ["x", "y"], "c": ["z", "w"]})
    out = beyond_accuracy(recs, TRAIN, None, ks=(2,))
    v = dict(zip(out.metric, out.value))
    assert v["personalisation"] == pytest.approx(1 - (1 + 0 + 0) / 3)
