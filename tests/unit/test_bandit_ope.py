"""Off-policy estimators on hand-made logs and on the Open Bandit Dataset sample."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.bandits import ope
from engine.errors import DataError

SHARED = Path(os.environ.get("RECSCOPE_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
OBD = SHARED / "datasets" / "bandits" / "obd"


def _log(items, positions, clicks, pscores, n_items=4):
    df = pd.DataFrame({"item_id": items, "position": positions, "click": clicks,
                       "propensity_score": pscores})
    for i in range(n_items):
        df[f"user-item_affinity_{i}"] = 0.0
    return df


def test_estimators_by_hand():
    # 4 items, uniform target 1/4. Weights: 0.25/0.5 = 0.5, 0.25/0.125 = 2, 0.25/0.25 = 1, 0.5
    df = _log([0, 1, 2, 3], [1, 1, 1, 1], [1, 1, 0, 0], [0.5, 0.125, 0.25, 0.5])
    r = ope.evaluate(df, reward_model="means", prior_strength=0.0)
    w = np.array([0.5, 2, 1, 0.5])
    assert r.ipw == pytest.approx((0.5 + 2) / 4)
    assert r.snipw == pytest.approx(2.5 / w.sum())
    assert r.ess == pytest.approx(w.sum() ** 2 / (w ** 2).sum())
    assert r.max_weight == pytest.approx(2.0)
    # Without shrinkage the reward model is each item's own click rate: q = [1, 1, 0, 0].
    assert r.dm == pytest.approx(0.5)
    # q fits every logged click exactly, so the DR correction term is zero.
    assert r.dr == pytest.approx(r.dm)
    assert r.n_positions == 1 and r.n_items == 4


def test_random_log_gives_on_policy_rate():
    rng = np.random.default_rng(0)
    n = 2000
    df = _log(rng.integers(0, 4, n), rng.integers(1, 4, n), rng.random(n) < 0.1, np.full(n, 0.25))
    r = ope.evaluate(df)
    assert r.ipw == pytest.approx(df["click"].mean()) and r.snipw == pytest.approx(r.ipw)
    assert r.ess == pytest.approx(n) and r.max_weight == pytest.approx(1.0)
    assert r.dr == pytest.approx(r.ipw, abs=0.01)


def test_bad_logs_get_one_sentence(tmp_path):
    p = tmp_path / "logs.csv"
    pd.DataFrame({"item_id": [1], "position": [1], "click": [0]}).to_csv(p)
    with pytest.raises(DataError, match="lacks the column 'propensity_score'"):
        ope.read_logs(p)
    pd.DataFrame({"item_id": [1], "position": [1], "click": [0],
                  "propensity_score": [0.0]}).to_csv(p)
    with pytest.raises(DataError, match="data row 1"):
        ope.read_logs(p)
    with pytest.raises(DataError, match="Unknown --target"):
        ope.evaluate(_log([0], [1], [0], [0.5]), target="greedy")


@pytest.mark.skipif(not OBD.exists(), reason=f"Open Bandit Dataset sample not found at {OBD}")
def test_obd_uniform_policy_from_bts_log_near_random_log_rate():
    """Done-means: estimates of the uniform policy from the Thompson-sampling log beside the
    on-policy click rate of the random log, with the ESS."""
    on_policy = ope.read_logs(OBD / "random" / "all.csv")
    truth = on_policy["click"].mean()
    bts = ope.read_logs(OBD / "bts" / "all.csv")
    r = ope.evaluate(bts)
    w = (1 / 80) / bts["propensity_score"].to_numpy()
    assert r.n == 10_000 and r.n_items == 80 and r.n_positions == 3
    assert r.max_weight == pytest.approx(w.max())
    assert r.ipw == pytest.approx(float(np.mean(w * bts["click"])))
    assert 0 < r.ess < r.n
    se_truth = np.sqrt(truth * (1 - truth) / len(on_policy))
    for est in (r.ipw, r.snipw, r.dr):
        # within 3 combined standard errors of the random policy's own click rate
        assert abs(est - truth) < 3 * np.hypot(r.ipw_se, se_truth)
    # and the uniform policy's rate on its own log is the mean click
    assert ope.evaluate(on_policy).ipw == pytest.approx(truth)
