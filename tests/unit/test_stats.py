"""Paired tests between runs: hand-computed cases and independent formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from engine.errors import DataError
from engine.evaluate import holm, paired_test
from engine.evaluate.stats import compare_runs_table


def test_holm_hand_computed():
    # sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> 0.06)
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.3]), [0.6, 0.6])          # monotone, capped
    np.testing.assert_allclose(holm([0.9, 0.8, 0.7]), [1.0, 1.0, 1.0])
    out = holm([0.01, float("nan"), 0.02])                            # NaN not counted in m
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.02])
    assert math.isnan(out[1])


def test_paired_test_hand_computed_and_aligned_by_user():
    a = pd.Series([1.0, 0.0, 1.0, 1.0], index=["u1", "u2", "u3", "u4"])
    # b in another order, with an extra user and a NaN user that must be ignored
    b = pd.Series([0.0, 1.0, 0.0, 0.0, 0.3], index=["u4", "u3", "u2", "u1", "u9"])
    r = paired_test(a, b, n_boot=500)
    # diffs a - b: u1 1, u2 0, u3 0, u4 1
    assert r["n"] == 4
    assert (r["wins"], r["ties"], r["losses"]) == (2, 2, 0)
    assert r["mean_a"] == pytest.approx(0.75) and r["mean_b"] == pytest.approx(0.25)
    assert r["mean_diff"] == pytest.approx(0.5)
    # t = mean / (sd / sqrt(n)) with sd = sqrt(1/3), df = 3
    t = 0.5 / (math.sqrt(1 / 3) / 2)
    assert r["p_value_t"] == pytest.approx(2 * scipy.stats.t.sf(t, 3))
    # the bootstrap means of {1, 0, 0, 1} are multiples of 1/4 within [0, 1]
    assert 0.0 <= r["ci_low"] <= 0.5 <= r["ci_high"] <= 1.0
    assert r["ci_low"] * 4 == pytest.approx(round(r["ci_low"] * 4))


def test_wilcoxon_uses_pratt_zero_handling():
    rng = np.random.default_rng(3)          # many users tie at 0 under both runs
    a = pd.Series(np.where(rng.random(120) < 0.5, 0.0, rng.random(120)))
    b = pd.Series(np.where(a == 0, 0.0, rng.random(120) * 0.9))
    r = paired_test(a, b, n_boot=100)
    d = (a - b).to_numpy()
    assert r["p_value_wilcoxon"] == pytest.approx(
        scipy.stats.wilcoxon(d, zero_method="pratt").pvalue)
    assert r["p_value_wilcoxon"] != pytest.approx(
        scipy.stats.wilcoxon(d, zero_method="wilcox").pvalue)


def test_all_zero_differences_give_p_one():
    s = pd.Series([0.2, 0.0, 1.0], index=list("xyz"))
    r = paired_test(s, s.copy())
    assert r["p_value_t"] == 1.0 and r["p_value_wilcoxon"] == 1.0
    assert r["ci_low"] == r["ci_high"] == r["mean_diff"] == 0.0
    assert (r["wins"], r["ties"], r["losses"]) == (0, 3, 0)


def test_too_few_users_gives_nan():
    r = paired_test(pd.Series([1.0], index=["u"]), pd.Series([0.0], index=["u"]))
    assert r["n"] == 1 and r["mean_diff"] == 1.0
    assert math.isnan(r["p_value_t"]) and math.isnan(r["ci_low"])


def test_bootstrap_ci_matches_normal_approximation_and_is_seeded():
    rng = np.random.default_rng(0)
    n = 4000
    a = pd.Series(rng.normal(0.30, 0.2, n))
    b = pd.Series(rng.normal(0.28, 0.2, n))
    r = paired_test(a, b, n_boot=2000, seed=1)
    d = (a - b).to_numpy()
    half = 1.959964 * d.std(ddof=1) / math.sqrt(n)
    assert r["ci_low"] == pytest.approx(d.mean() - half, abs=0.15 * half)
    assert r["ci_high"] == pytest.approx(d.mean() + half, abs=0.15 * half)
    assert paired_test(a, b, n_boot=2000, seed=1) == r
    assert paired_test(a, b, n_boot=2000, seed=2)["ci_low"] != r["ci_low"]


def test_bad_input_is_refused():
    s = pd.Series([1.0, 2.0], index=["u", "u"])
    with pytest.raises(DataError, match="more than once"):
        paired_test(s, s)
    with pytest.raises(DataError, match="confidence"):
        paired_test(pd.Series([1.0]), pd.Series([1.0]), confidence=95)


def test_compare_runs_table_all_pairs_with_holm():
    rng = np.random.default_rng(5)
    users = [f"u{i}" for i in range(200)]
    runs = {name: pd.Series(rng.random(200) + shift, index=users)
            for name, shift in (("pop", 0.0), ("als", 0.1), ("bpr", 0.02))}
    t = compare_runs_table(runs, n_boot=200)
    assert list(zip(t.run_a, t.run_b)) == [("pop", "als"), ("pop", "bpr"), ("als", "bpr")]
    np.testing.assert_allclose(t["p_holm_t"], holm(t["p_value_t"]))
    np.testing.assert_allclose(t["p_holm_wilcoxon"], holm(t["p_value_wilcoxon"]))
    row = t.iloc[0]
    assert row["mean_diff"] == pytest.approx((runs["pop"] - runs["als"]).mean())
    assert row["p_holm_t"] >= row["p_value_t"]
