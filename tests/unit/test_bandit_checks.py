"""Simpson alarm, sample-ratio check and stopping rule on hand-made counts."""

import pandas as pd
import pytest

from engine.bandits import checks


def _counts(rows):
    return pd.DataFrame(rows, columns=["batch", "arm_index", "arm", "n_obs", "successes"])


def test_simpson_alarm_on_reversed_pooled_comparison():
    # A is better within both periods, but got its traffic while rates were low.
    counts = _counts([(0, 0, "A", 900, 18), (0, 1, "B", 100, 1),
                      (1, 0, "A", 100, 30), (1, 1, "B", 900, 252)])
    periods = checks.period_estimates(counts, n_periods=2)
    p0 = periods[periods["period"] == 0].set_index("arm")["rate"]
    assert p0["A"] == pytest.approx(0.02) and p0["B"] == pytest.approx(0.01)
    pooled = checks.pooled_estimates(counts).set_index("arm")["rate"]
    assert pooled["A"] == pytest.approx(0.048) and pooled["B"] == pytest.approx(0.253)
    alarms = checks.simpson_alarms(periods)
    assert len(alarms) == 1
    a = alarms[0]
    assert a.pooled_diff == pytest.approx(0.048 - 0.253)
    # Mantel-Haenszel weights 900*100/1000 = 90 in both periods: mean of 0.01 and 0.02
    assert a.within_diff == pytest.approx(0.015)
    assert "Simpson" in a.message and "B looks better than A" in a.message


def test_no_alarm_when_periods_agree():
    counts = _counts([(0, 0, "A", 500, 20), (0, 1, "B", 500, 30),
                      (1, 0, "A", 200, 8), (1, 1, "B", 800, 40)])
    assert checks.simpson_alarms(checks.period_estimates(counts, 2)) == []


def test_periods_split_batches_evenly():
    counts = _counts([(b, 0, "A", 10, 1) for b in range(10)])
    p = checks.period_estimates(counts, n_periods=3)
    assert list(p["first_batch"]) == [0, 4, 7] and list(p["last_batch"]) == [3, 6, 9]
    assert list(p["n_obs"]) == [40, 30, 30]


def _intended(obs, shares):
    return pd.DataFrame({"batch": 0, "arm_index": range(len(obs)), "arm": list("ABC")[:len(obs)],
                         "intended_share": shares, "batch_pulls": obs})


def test_sample_ratio_mismatch_alarm():
    r = checks.sample_ratio_check(_intended([600, 400], [0.5, 0.5]))
    assert r.chi2 == pytest.approx(40.0)      # 2 * 100^2 / 500
    assert r.alarm and r.p_value < 1e-6
    ok = checks.sample_ratio_check(_intended([510, 490], [0.5, 0.5]))
    assert not ok.alarm and ok.chi2 == pytest.approx(0.4)


def test_sample_ratio_sums_intended_over_batches():
    df = pd.DataFrame({"batch": [0, 0, 1, 1], "arm_index": [0, 1, 0, 1], "arm": ["A", "B"] * 2,
                       "intended_share": [0.5, 0.5, 0.9, 0.1], "batch_pulls": [50, 50, 90, 10]})
    r = checks.sample_ratio_check(df)
    assert list(r.expected) == pytest.approx([140, 60]) and not r.alarm


def test_traffic_to_an_arm_never_intended_is_flagged():
    r = checks.sample_ratio_check(_intended([100, 3], [1.0, 0.0]))
    assert r.alarm and "never intended" in r.message


def test_stopping_rule():
    summ = pd.DataFrame({"arm": ["A", "B"], "prob_best": [0.03, 0.97],
                         "expected_loss": [0.01, 0.0004]})
    assert checks.stopping_decision(summ, 5000).stop
    assert checks.stopping_decision(summ, 5000).winner == "B"
    not_enough = checks.stopping_decision(summ, 500)
    assert not not_enough.stop and "at least 1,000" in not_enough.reasons[0]
    lossy = summ.assign(expected_loss=[0.01, 0.002])
    assert not checks.stopping_decision(lossy, 5000).stop
    rule = checks.StoppingRule(prob_threshold=0.99)
    assert not checks.stopping_decision(summ, 5000, rule).stop


def test_no_alarm_when_the_pooled_difference_is_noise():
    # Nearly equal arms, rates rising over time and A getting more traffic later: the
    # pooled difference (+0.002, SE ~0.0098) and the within-period one (-0.0021) have
    # opposite signs, but the pooled one is not a difference a person would act on.
    counts = _counts([(0, 0, "A", 400, 16), (0, 1, "B", 600, 25),
                      (1, 0, "A", 600, 36), (1, 1, "B", 400, 25)])
    periods = checks.period_estimates(counts, 2)
    pooled = checks.pooled_estimates(counts).set_index("arm")["rate"]
    assert pooled["A"] - pooled["B"] == pytest.approx(0.052 - 0.050)
    within = (240 * (16 / 400 - 25 / 600) + 240 * (36 / 600 - 25 / 400)) / 480
    assert within == pytest.approx(-0.0020833, abs=1e-6)
    assert checks.simpson_alarms(periods) == []
    # the same shape with 100x the traffic is a clear pooled difference: alarm
    big = counts.assign(n_obs=counts["n_obs"] * 100, successes=counts["successes"] * 100)
    alarms = checks.simpson_alarms(checks.period_estimates(big, 2))
    assert len(alarms) == 1 and alarms[0].within_diff == pytest.approx(within)
