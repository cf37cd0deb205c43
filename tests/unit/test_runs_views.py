"""Runs-page reads (engine.services.runs over engine/store/) and slice arithmetic (engine.evaluate.slices),
against a tiny store whose every number is computed by hand below.

The tiny store (``tests.fixtures.runs_store.build_tiny_store``, also used by the app tests):

    train (split 1)                      popularity (train users)   decile
    u1: i9 i8 i7 i6 i5 i4 i3  (7 items)  i9 6  i8 5  i7 4            i(d-1) is alone in
    u2: i9 i8 i7 i6 i5 i4     (6)        i6 3  i5 3  i4 2  i3 1       decile d (ntile over
    u3: i9 i8 i7 i6 i5        (5)        i2 0  i1 0  i0 0             (popularity, item id))
    u4: i9 i8 i7              (3)
    u5: i9 i8                 (2)        test: u1 i2, u2 i3, u3 i0, u4 i6, u5 i5, u6 i4
    u6: i9                    (1)

    run 1 popularity (k=3): everyone gets [i6, i5, i4]   -> hits u4@1, u5@2, u6@3
    run 2 itemknn    (k=3): u1 [i2 i1 i0]  u2 [i3 i2 i1]  u3 [i1 i0 i2]
                            u4 [i5 i4 i3]  u5 [i4 i3 i2]  u6 [i3 i2 i1] -> hits u1@1, u2@1, u3@2
    run 3 ease: failed.   run 4 bpr: done, on another split (2).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engine.evaluate import slices as S
from engine.services import runs as V
from tests.fixtures.runs_store import TRAIN, build_tiny_store


@pytest.fixture
def tiny(tmp_path):
    return build_tiny_store(tmp_path / "tiny.duckdb")


# --------------------------------------------------------------------------- slices (pure)

def test_activity_buckets_keep_ties_together_and_label_real_counts():
    counts = pd.Series([1, 1, 1, 1, 2, 3, 10, 10, 10, 40], index=list("abcdefghij"))
    lab = S.activity_buckets(counts, 4)
    # inner quartiles (linear): positions 2.25 -> 1, 4.5 -> 2.5 (floor 2), 6.75 -> 10;
    # buckets <= 1, (1, 2], (2, 10], > 10, labelled by the counts they hold
    assert lab.to_dict() == {"a": "1 item", "b": "1 item", "c": "1 item", "d": "1 item",
                             "e": "2 items", "f": "3–10 items", "g": "3–10 items", "h": "3–10 items",
                             "i": "3–10 items", "j": "40 items"}
    assert list(lab.cat.categories) == ["1 item", "2 items", "3–10 items", "40 items"]


def test_cold_warm_threshold_is_inclusive():
    lab = S.cold_warm(pd.Series([0, 5, 6]), 5)
    assert lab.tolist() == ["cold (≤ 5 items)", "cold (≤ 5 items)", "warm (> 5 items)"]


def test_slice_summary_matches_scipy_t_interval():
    vals = pd.DataFrame({"run_id": [1] * 4 + [2], "slice": ["a"] * 4 + ["a"],
                         "value": [0.1, 0.4, 0.2, 0.9, 0.5]})
    out = S.slice_summary(vals)
    r1 = out[out["run_id"] == 1].iloc[0]
    x = np.array([0.1, 0.4, 0.2, 0.9])
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (r1["n_users"], r1["mean"]) == (4, pytest.approx(0.4))
    assert (r1["ci_low"], r1["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    r2 = out[out["run_id"] == 2].iloc[0]
    assert r2["mean"] == 0.5 and np.isnan(r2["ci_low"])   # one user: no interval


# --------------------------------------------------------------------------- store views

def test_user_values_with_activity_counts_distinct_train_items(tiny):
    df = V.user_values_with_activity(tiny, [1, 2], "ndcg", 3)
    assert len(df) == 12
    got = df[df["run_id"] == 1].set_index("user_id")["n_train"].to_dict()
    assert got == {u: len(v) for u, v in TRAIN.items()}
    v2 = df[df["run_id"] == 2].set_index("user_id")["value"]
    assert v2["u3"] == pytest.approx(1 / math.log2(3))


def test_metrics_by_slice_cold_warm_by_hand(tiny):
    out = V.metrics_by_slice(tiny, [1, 2], "ndcg", 3, by="coldwarm", cold_max=3)
    r1 = out[out["run_id"] == 1].set_index("slice")
    cold = np.array([1.0, 1 / math.log2(3), 0.5])   # u4, u5, u6 hit at ranks 1, 2, 3
    assert r1.loc["cold (≤ 3 items)", "n_users"] == 3
    assert r1.loc["cold (≤ 3 items)", "mean"] == pytest.approx(cold.mean())
    lo, hi = stats.t.interval(0.95, 2, loc=cold.mean(), scale=stats.sem(cold))
    assert r1.loc["cold (≤ 3 items)", "ci_low"] == pytest.approx(lo)
    assert r1.loc["warm (> 3 items)", "mean"] == 0.0
    r2 = out[out["run_id"] == 2].set_index("slice")
    assert r2.loc["warm (> 3 items)", "mean"] == pytest.approx((1 + 1 + 1 / math.log2(3)) / 3)
    assert r2.loc["cold (≤ 3 items)", "mean"] == 0.0


def test_metrics_by_slice_activity_buckets_cover_all_users_once(tiny):
    out = V.metrics_by_slice(tiny, [1, 2], "hit_rate", 3, by="activity", n_buckets=2)
    # counts 1,2,3,5,6,7: median 4 -> buckets 1–3 and 5–7
    assert out[out["run_id"] == 1]["slice"].astype(str).tolist() == ["1–3 items", "5–7 items"]
    assert out.groupby("run_id")["n_users"].sum().tolist() == [6, 6]
    r2 = out[out["run_id"] == 2].set_index("slice")["mean"]
    assert r2["1–3 items"] == 0.0 and r2["5–7 items"] == 1.0


def test_popularity_deciles_by_hand(tiny):
    out = V.popularity_deciles(tiny, [1, 2], 3)
    r1 = out[out["run_id"] == 1].set_index("decile")
    assert len(r1) == 10 and r1["n_items"].tolist() == [1] * 10
    # run 1 recommends i6, i5, i4 (deciles 7, 6, 5) to all six users; each is hit once
    assert r1.loc[[5, 6, 7], "n_slots"].tolist() == [6, 6, 6]
    assert r1.loc[[5, 6, 7], "n_hits"].tolist() == [1, 1, 1]
    assert r1["n_slots"].sum() == 18 and r1.loc[7, "share_slots"] == pytest.approx(1 / 3)
    assert r1.loc[10, "pop_min"] == 6 and r1.loc[1, "pop_max"] == 0
    r2 = out[out["run_id"] == 2].set_index("decile")
    # run 2's slots: i0 x2 (d1), i1 x4 (d2), i2 x5 (d3), i3 x4 (d4), i4 x2 (d5), i5 x1 (d6)
    assert r2["n_slots"].tolist() == [2, 4, 5, 4, 2, 1, 0, 0, 0, 0]
    assert r2["n_hits"].tolist() == [1, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    one = V.popularity_deciles(tiny, [1], 1).set_index("decile")
    assert one.loc[7, "n_slots"] == 6 and one["n_slots"].sum() == 6 and one.loc[7, "n_hits"] == 1


def test_test_popularity_deciles(tiny):
    out = V.test_popularity_deciles(tiny, 1).set_index("decile")
    # test items i2, i3, i0, i6, i5, i4 -> deciles 3, 4, 1, 7, 6, 5
    assert out["n_test"].tolist() == [1, 0, 1, 1, 1, 1, 1, 0, 0, 0]
    assert out["share_test"].sum() == pytest.approx(1.0)


def test_split_requests(tiny):
    out = V.split_requests(tiny, "tiny").set_index("split_id")
    assert out.loc[1, "n_runs"] == 3 and out.loc[2, "n_runs"] == 1
    assert out.loc[1, "request"] == {"method": "auto", "seed": 0, "min_weight": None}
    assert out.loc[2, "request"] is None


def test_paired_tests_pairs_only_runs_on_one_split(tiny):
    both = V.paired_tests(tiny, [1, 2, 4], "ndcg", 3, n_boot=200)
    assert both[["run_a", "run_b"]].values.tolist() == [[1, 2]]
    assert both.attrs["skipped"] == [(1, 4), (2, 4)]
    out = V.paired_tests(tiny, [1, 2, 4], "hit_rate", 3, n_boot=200)
    assert out.attrs["missing"] == [4]         # run 4 stored no per-user hit_rate
    row = out.iloc[0]
    # per user, B (run 2) - A (run 1): u1..u3 +1, u4..u6 -1
    assert (row["n"], row["wins"], row["ties"], row["losses"]) == (6, 3, 0, 3)
    assert row["mean_diff"] == pytest.approx(0.0)
    assert row["p_holm"] == pytest.approx(row["p_value_t"])   # one pair: Holm changes nothing
    assert row["mean_a"] == 0.5 and row["mean_b"] == 0.5
    # ndcg: B − A is +1, +1, +1/log2(3) for u1..u3 and -1, -1/log2(3), -0.5 for u4..u6
    nd = V.paired_tests(tiny, [1, 2], "ndcg", 3, n_boot=200).iloc[0]
    d = np.array([1, 1, 1 / math.log2(3), -1, -1 / math.log2(3), -0.5])
    assert nd["mean_diff"] == pytest.approx(d.mean())
    assert nd["p_value_t"] == pytest.approx(stats.ttest_1samp(d, 0).pvalue)
    assert nd["mean_b"] - nd["mean_a"] == pytest.approx(d.mean())


def test_pairwise_tests_holm_over_several_pairs():
    rng = np.random.default_rng(0)
    users = [f"u{i}" for i in range(200)]
    base = rng.random(200)
    series = {1: pd.Series(base, index=users), 2: pd.Series(base + 0.05 + rng.normal(0, .1, 200), index=users),
              3: pd.Series(base + rng.normal(0, .1, 200), index=users)}
    out = S.pairwise_tests(series, n_boot=200)
    # run 2 is run 1 plus 0.05 (and noise): B − A of the pair (1, 2) is positive, B wins
    r12 = out[(out["run_a"] == 1) & (out["run_b"] == 2)].iloc[0]
    assert r12["mean_diff"] > 0.03 and r12["wins"] > r12["losses"] and r12["ci_low"] > 0
    p = out["p_value_t"].to_numpy()
    order = np.argsort(p)
    # Holm by hand: sorted p times (m - i), running max, capped at 1
    adj = np.minimum(np.maximum.accumulate(p[order] * (3 - np.arange(3))), 1.0)
    want = np.empty(3)
    want[order] = adj
    assert out["p_holm"].to_numpy() == pytest.approx(want)
