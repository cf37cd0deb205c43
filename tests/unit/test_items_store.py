"""Item-page SQL (engine.store.items) on the hand-built tiny store of test_runs_views."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from engine.errors import NotFound
from engine.store import items as I
from tests.fixtures.runs_store import TEST, TRAIN, build_tiny_store


@pytest.fixture
def tiny(tmp_path):
    return build_tiny_store(tmp_path / "tiny.duckdb")


def test_item_info_and_unknown_item(tiny):
    info = I.item_info(tiny, "tiny", "i0")
    assert info["title"] == "東京の寿司職人" and info["category"] == "教育"
    assert info["attrs"] == {"hourly_wage": 1000, "employer": "株式会社0"}
    with pytest.raises(NotFound, match="no item with id 'nope'"):
        I.item_info(tiny, "tiny", "nope")
    assert I.item_exists(tiny, "tiny", "i3") and not I.item_exists(tiny, "other", "i3")


def test_search_by_japanese_substring_and_id(tiny):
    got = I.search_items(tiny, "tiny", "寿司")
    assert got["item_id"].tolist() == ["i0"]
    # exact id first, then ids that start with it... every title containing "の" matches too
    got = I.search_items(tiny, "tiny", "I9")
    assert got["item_id"].tolist()[0] == "i9"
    top = I.search_items(tiny, "tiny", "", limit=3)
    # users over all interactions (train + test): i9 6, i8 5, then i5 = i6 = i7 = 4 (by id)
    assert top["item_id"].tolist() == ["i9", "i8", "i5"] and top["n_users"].tolist() == [6, 5, 4]


def test_item_stats(tiny):
    st = I.item_stats(tiny, "tiny", "i6")
    # i6: train u1, u2, u3 (view) + test u4 (apply)
    assert (st["n_interactions"], st["n_users"]) == (4, 4)
    assert st["events"] == {"view": 3, "apply": 1}
    # users per item over interactions: i9 6, i8 5, i7 4, i6 4, i5 4 ... -> i6 ties at rank 3
    assert (st["popularity_rank"], st["n_items"]) == (3, 10)


def test_similar_by_cointeraction_matches_sklearn_cosine(tiny):
    got = I.similar_by_cointeraction(tiny, "tiny", "i8", n=10, split_id=1)
    users = sorted(TRAIN)
    m = np.zeros((len(users), 10))
    for r, u in enumerate(users):
        m[r, TRAIN[u]] = 1
    sim = cosine_similarity(m.T)[8]
    want = {f"i{j}": sim[j] for j in range(10) if j != 8 and sim[j] > 0}
    assert dict(zip(got["item_id"], got["similarity"])) == pytest.approx(want)
    assert got["item_id"].iloc[0] == "i9" and got["similarity"].iloc[0] == pytest.approx(5 / math.sqrt(30))
    assert got["title"].iloc[0] == "広島の配送ドライバー"
    assert got["similarity"].is_monotonic_decreasing
    # over all interactions the test rows count too: i6 gains u4, who also has i8
    everything = I.similar_by_cointeraction(tiny, "tiny", "i8", n=10)
    s6 = everything.set_index("item_id").loc["i6"]
    assert (s6["co_users"], s6["n_users"]) == (4, 4)


def test_co_recommended_by_hand(tiny):
    got = I.co_recommended(tiny, 2, "i2", n=3)
    # lists with i2: u1, u2, u3, u5, u6 (5). i1 with it in u1 u2 u3 u6, i3 in u2 u5 u6
    assert got["item_id"].tolist() == ["i1", "i3", "i0"]
    assert got["n_lists"].tolist() == [4, 3, 2]
    assert got["share"].tolist() == pytest.approx([0.8, 0.6, 0.4])
    assert got["title"].iloc[0] == "大阪のカフェスタッフ"
    assert I.co_recommended(tiny, 2, "i2", n=3, k=1)["item_id"].tolist() == []


def test_item_audience_by_hand(tiny):
    a = I.item_audience(tiny, "tiny", "i2").set_index("run_id")
    assert list(a.index) == [1, 2, 4]           # finished runs only (3 failed)
    assert a.loc[1, "n_users"] == 0 and np.isnan(a.loc[1, "best_rank"])
    # run 2 gives i2 to u1@1, u2@2, u3@3, u5@3, u6@2; it is u1's test item
    r2 = a.loc[2]
    assert (r2["n_users"], r2["n_eval_users"], r2["best_rank"], r2["n_hits"]) == (5, 6, 1, 1)
    assert r2["share"] == pytest.approx(5 / 6)
    assert r2["mean_rank"] == pytest.approx(2.2) and r2["median_rank"] == 2
    # run 4 (split 2, where i2 is u1's test item) recommends it to u1 at rank 1
    assert (a.loc[4, "n_users"], a.loc[4, "n_hits"]) == (1, 1)
    assert I.item_audience(tiny, "tiny", "i2", run_ids=[1])["run_id"].tolist() == [1]


def test_item_rank_counts_and_recipients(tiny):
    rc = I.item_rank_counts(tiny, "i2", [2])
    assert rc[["rank", "n_users"]].values.tolist() == [[1, 1], [2, 2], [3, 2]]
    rec = I.item_recipients(tiny, 2, "i2", n=3)
    # the hit (u1) first, then by rank
    assert rec["user_id"].tolist()[0] == "u1" and bool(rec["hit"].iloc[0])
    assert rec["rank"].tolist() == [1, 2, 2] and not rec["hit"].iloc[1:].any()
    assert TEST["u1"] == 2
