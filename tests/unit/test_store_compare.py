"""The Compare page's reads (engine/services/compare.py over engine/store/ and
engine/evaluate/compare.py) against a tiny store written row by row (values hand-computed)."""

from __future__ import annotations

import math

import pytest

from engine.services import compare as C
from tests.fixtures.compare_store import build_tiny
from viewer.format import format_attrs


@pytest.fixture
def tiny(tmp_path):
    return build_tiny(tmp_path / "tiny.duckdb")


def test_history_newest_first_with_metadata_and_held_out(tiny):
    hist, n = C.user_history(tiny, "ds", "u1", split_id=1, limit=2)
    assert n == 3
    assert hist["item_id"].tolist() == ["i3", "i2"]          # newest first, limited to 2
    assert hist["held_out"].tolist() == [True, False]
    assert hist["title"].tolist() == ["カフェスタッフ", "倉庫内ピッキング"]
    assert hist["category"].tolist() == ["飲食", "物流"]


def test_lists_marks_hits_shared_unique(tiny):
    view = C.user_view(tiny, "ds", [1, 2], "u1", k=3)
    lists = view["lists"]
    r1 = lists[lists.run_id == 1].set_index("item_id")
    r2 = lists[lists.run_id == 2].set_index("item_id")
    assert list(r1.index) == ["i3", "i4", "i5"] and list(r2.index) == ["i4", "i6", "i3"]
    assert r1.loc["i3", "hit"] and r2.loc["i3", "hit"] and not r1.loc["i4", "hit"]
    assert r1.loc["i3", "shared"] and r1.loc["i4", "shared"] and r1.loc["i5", "unique"]
    assert r2.loc["i6", "unique"] and not r2.loc["i6", "shared"]
    assert r1.loc["i3", "other_ranks"] == [(2, 3)]
    assert r2.loc["i6", "title"] == "i6"                      # empty title falls back to the id
    assert r1.loc["i3", "title"] == "カフェスタッフ"
    assert view["tests"]["item_id"].tolist() == ["i3"]
    assert view["missing_runs"] == []
    m = view["metrics"]
    assert m.set_index("run_id")["value"].to_dict() == {1: 1.0, 2: 0.5}


def test_pair_overlap_hand_computed(tiny):
    ov = C.user_view(tiny, "ds", [1, 2], "u1", k=3)["overlaps"].iloc[0]
    # [i3,i4,i5] vs [i4,i6,i3]: 2 shared of 4 distinct; i3/i4 in opposite order.
    assert ov["jaccard"] == pytest.approx(0.5)
    assert ov["kendall_tau"] == pytest.approx(-1.0)
    # RBO_ext (Webber 2010), p=0.9, X_1..3 = 0, 1, 2:
    # (1-p)/p * (0*.9 + 1/2*.81 + 2/3*.729) + 2/3 * .729 = 0.099 + 0.486
    assert ov["rbo"] == pytest.approx(0.585)
    assert ov["n_shared"] == 2


def test_missing_run_for_user_and_k_truncation(tiny):
    view = C.user_view(tiny, "ds", [1, 2], "u3", k=3)
    assert view["missing_runs"] == [1, 2] and view["lists"].empty
    lists = C.user_lists(tiny, "ds", [2, 1], "u1", k=1)
    assert list(zip(lists.run_id, lists.item_id)) == [(1, "i3"), (2, "i4")]


def test_drivers_cosine_over_training_columns(tiny):
    d = C.drivers(tiny, "ds", 1, "u1", ["i3", "i4"], n=2)
    # train users: i1 {u1,u2}, i2 {u1,u3}, i3 {u3}; u1's train history is i1, i2.
    # cos(i3, i2) = |{u3}| / sqrt(1 * 2); cos(i3, i1) = 0 (no common user: no row);
    # i4 has no training users at all, so no driver.
    assert d["item_id"].tolist() == ["i3"]
    assert d["driver_id"].tolist() == ["i2"]
    assert d["similarity"].iloc[0] == pytest.approx(1 / math.sqrt(2))
    assert d["driver_title"].iloc[0] == "倉庫内ピッキング"


def test_disagreement_orders_by_rbo_and_metric_diff(tiny):
    dis = C.disagreement(tiny, 1, 2, k=3)
    assert dis["user_id"].tolist() == ["u1", "u2"]            # u2's lists are identical
    assert dis.loc[1, "rbo"] == pytest.approx(1.0)
    assert dis.loc[0, "rbo"] == pytest.approx(0.585)
    assert dis.loc[0, "metric_diff"] == pytest.approx(-0.5)   # run 2 minus run 1
    assert dis.loc[1, "metric_diff"] == pytest.approx(0.0)
    assert "sampled_from" not in dis.attrs
    sample = C.disagreement(tiny, 1, 2, k=3, max_users=1)    # 2 users > 1: a hash sample
    assert sample.attrs["sampled_from"] == 2 and len(sample) <= 2
    assert set(sample["user_id"]) <= {"u1", "u2"}


def test_exposure_counts_and_contrast(tiny):
    expo = C.exposure(tiny, "ds", [1, 2], k=3).set_index("item_id")
    # run 1: i3 x2, i4 x2, i5 x1, i2 x1; run 2: i4 x2, i3 x2, i6 x1, i2 x1; 2 users each
    assert expo.loc["i4", "n_1"] == 2 and expo.loc["i5", "n_1"] == 1 and expo.loc["i5", "n_2"] == 0
    assert expo.loc["i6", "share_2"] == pytest.approx(0.5)
    assert "i1" not in expo.index                              # nobody recommends i1
    con = C.exposure_contrast(expo.reset_index(), 1, 2)
    assert con["item_id"].tolist() == ["i5"] and con.loc[0, "diff"] == pytest.approx(0.5)
    summ = C.exposure_summary(expo.reset_index(), [1, 2], n_items=6).set_index("run_id")
    assert summ.loc[1, "items"] == 4 and summ.loc[1, "coverage"] == pytest.approx(4 / 6)
    assert summ.loc[1, "top10_share"] == pytest.approx(1.0)


def test_search_random_exists_runs_info(tiny):
    assert C.search_users(tiny, "ds", "u") == ["u1", "u2", "u3"]
    assert C.search_users(tiny, "ds", "u2") == ["u2"]
    assert C.search_users(tiny, "ds", "zz") == []
    u = C.random_user(tiny, [1, 2], 1, seed=3)
    assert u in {"u1", "u2"}                                  # both have ndcg > 0
    assert C.random_user(tiny, [1, 2], 1, seed=3) == u        # deterministic per seed
    with tiny.transaction() as con:                           # now only u1 has a hit
        con.execute("UPDATE user_metrics SET value = 0 WHERE user_id = 'u2'")
    assert {C.random_user(tiny, [1, 2], 1, seed=s) for s in range(20)} == {"u1"}
    # metrics are stored at k=3: asking for hits within a top-2 finds none, so any user
    # with held-out items and a list in run 1 is returned
    assert {C.random_user(tiny, [1, 2], 1, seed=s, k=2) for s in range(20)} == {"u1", "u2"}
    assert {C.random_user(tiny, [2], 1, seed=s, prefer_hits=False) for s in range(20)} \
        == {"u1", "u2"}                                       # u3 has no list in run 2
    assert C.user_exists(tiny, "ds", "u3") and not C.user_exists(tiny, "ds", "nobody")
    info = C.runs_info(tiny, [2, 99, 1])
    assert info["run_id"].tolist() == [2, 1] and info["dataset"].tolist() == ["ds", "ds"]


def test_format_attrs():
    assert format_attrs('{"prefecture": "東京都", "hourly_wage": 1500.0, "x": null, '
                          '"posted_at": "2026-07-04T16:07:03", "more": "not shown"}') == \
        "東京都 · hourly wage 1,500 · posted at 2026-07-04"
    assert format_attrs(None) == "" and format_attrs("not json") == ""


def test_format_attrs_keeps_years_plain():
    line = format_attrs('{"year": 1997, "hourly_wage": 1500, "genres": "Action|Comedy"}')
    assert line == "year 1997 · hourly wage 1,500 · Action|Comedy"


def test_history_event_text_shows_ratings_not_job_board_weights():
    from viewer.compare_view import _event_text

    assert _event_text("view", 1.0) == "view"
    assert _event_text("apply", 5.0) == "apply"
    assert _event_text("rating", 2.0) == "rating 2"
    assert _event_text("rating", 3.5) == "rating 3.5"
    assert _event_text(None, 1.0) == ""
