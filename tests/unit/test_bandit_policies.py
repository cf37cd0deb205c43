"""Policies, the batched simulation loop and its regret."""

import numpy as np
import pytest

from engine.bandits.environments import FixedRates, RunArms
from engine.bandits.policies import allocate
from engine.bandits.posterior import prob_best
from engine.bandits.simulation import Spec, simulate
from engine.errors import DataError

RATES = [0.04, 0.05, 0.045]


def _alloc(policy, alpha, beta, succ, n, batch=1000, **params):
    return allocate(policy, np.array(alpha, float), np.array(beta, float), np.array(succ, float),
                    np.array(n, float), batch, np.random.default_rng(0), params)


def test_uniform_and_epsilon_greedy_propensities():
    d = _alloc("uniform", [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0])
    assert np.allclose(d.propensities, 1 / 3)
    d = _alloc("epsilon_greedy", [5, 20, 5], [95, 80, 95], [4, 19, 4], [98, 98, 98], epsilon=0.3)
    assert np.allclose(d.intended, [0.1, 0.8, 0.1])
    assert np.allclose(d.propensities, d.intended[d.arms])


def test_thompson_propensity_is_probability_best_and_matches_allocation():
    alpha, beta = [20, 25, 22], [480, 475, 478]
    d = _alloc("thompson", alpha, beta, [19, 24, 21], [498] * 3, batch=20_000)
    pb = prob_best(alpha, beta)
    assert d.intended == pytest.approx(pb, abs=0.02)
    shares = np.bincount(d.arms, minlength=3) / len(d.arms)
    assert shares == pytest.approx(pb, abs=0.02)


def test_ucb1_tries_every_arm_then_spreads_a_batch_over_tied_arms():
    d = _alloc("ucb1", [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0], batch=3)
    assert sorted(d.arms) == [0, 1, 2]
    # two identical arms far ahead of a bad one: the batch is split between them
    d = _alloc("ucb1", [51, 51, 2], [51, 51, 100], [50, 50, 1], [100, 100, 100], batch=100)
    counts = np.bincount(d.arms, minlength=3)
    assert abs(counts[0] - counts[1]) <= 1 and counts[2] < counts[0]
    assert np.all(d.propensities == 1.0)


def test_unknown_policy_is_one_sentence():
    with pytest.raises(DataError, match="Unknown policy 'greedyish'"):
        Spec(["a", "b"], "greedyish")


def test_regret_is_zero_with_identical_arms_and_counts_add_up():
    res = simulate(Spec(["a", "b"], "thompson", batch_size=50, seed=2), FixedRates([0.1, 0.1]), 1000)
    assert res.regret == pytest.approx(0.0)
    assert res.pulls.sum() == 1000 and res.state.n_batches == 20
    ev = res.output.events_df()
    assert len(ev) == 1000 and ev["outcome"].sum() == res.rewards.sum()


def test_regret_is_expected_regret_of_choices():
    res = simulate(Spec(["a", "b", "c"], "uniform", seed=5), FixedRates(RATES), 3000)
    ev = res.output.events_df()
    assert res.regret == pytest.approx(float((0.05 - ev["expected_reward"]).sum()))
    assert res.regret == pytest.approx(0.01 * res.pulls[0] + 0.005 * res.pulls[2])


def test_partial_last_batch_and_delay():
    res = simulate(Spec(["a", "b"], "thompson", batch_size=100, seed=1, delay=2),
                   FixedRates([0.2, 0.3]), 550)
    assert res.pulls.sum() == 550
    # batches 0..5, the last of 50; rewards of batches 4 and 5 have not arrived
    assert res.state.n_obs.sum() == 400
    snaps = res.output.snapshots_df()
    assert list(snaps.groupby("batch")["n_obs"].sum()) == [0, 0, 100, 200, 300, 400]


def test_drift_changes_rates_linearly():
    env = FixedRates([0.04, 0.05], drift=[0.01, -0.01])
    r = env.rates_at(np.array([0, 10_000, 20_000]))
    assert np.allclose(r, [[0.04, 0.05], [0.05, 0.04], [0.06, 0.03]])
    with pytest.raises(DataError, match="one value per arm"):
        FixedRates([0.04, 0.05], drift=[0.01])


def test_drift_regret_uses_rate_at_decision_time():
    # arms swap order half way: regret counts the gap to whichever is best at the time
    env = FixedRates([0.04, 0.05], drift=[0.02, -0.02])
    res = simulate(Spec(["a", "b"], "uniform", seed=0), env, 5000)
    ev = res.output.events_df()
    r = env.rates_at(ev["step"].to_numpy())
    assert res.regret == pytest.approx(float((r.max(axis=1) - r[np.arange(len(ev)), ev["arm_index"]]).sum()))


def test_recommender_arms_environment():
    hits = np.array([[1, 0], [1, 0], [1, 1], [0, 0]])
    env = RunArms(hits, np.array(["u1", "u2", "u3", "u4"], dtype=object))
    assert np.allclose(env.rates, [0.75, 0.25])
    res = simulate(Spec(["r1", "r2"], "thompson", batch_size=20, seed=0), env, 2000)
    assert res.pulls[0] > res.pulls[1]
    ev = res.output.events_df()
    u = ev["user_id"].map({"u1": 0, "u2": 1, "u3": 2, "u4": 3}).to_numpy()
    assert np.array_equal(ev["outcome"].to_numpy(), hits[u, ev["arm_index"].to_numpy()])


@pytest.mark.slow
def test_thompson_regret_is_sublinear_and_beats_uniform():
    """Done-means: 3 arms (0.04, 0.05, 0.045), batches of 100, mean over 20 seeds."""
    def mean_regret(policy, steps):
        return np.mean([simulate(Spec(["a", "b", "c"], policy, batch_size=100, seed=s),
                                 FixedRates(RATES), steps, record=False).regret
                        for s in range(20)])

    ts10, ts80 = mean_regret("thompson", 10_000), mean_regret("thompson", 80_000)
    uni10 = mean_regret("uniform", 10_000)
    assert uni10 == pytest.approx(10_000 * (0.01 + 0.005) / 3, rel=0.05)
    assert ts80 / ts10 < 5.0
    assert ts10 / uni10 < 0.8
