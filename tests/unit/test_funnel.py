"""The demo's funnel: hires follow applications, and the oracle table holds the true
probabilities the generator drew with."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.synthetic import hire_probability, make_job_board
from engine.store import Store
from engine.store.datasets import save_dataset


@pytest.fixture(scope="module")
def ds():
    return make_job_board(seed=0)


def test_hire_probability_hand_computed():
    # z = -2.2 - 0.9*0 - 0.45*0 + 4*(0.15-0.15) + 0.9*1 = -1.3
    assert hire_probability(0.0, 0.0, 0.15, True) == pytest.approx(1 / (1 + np.exp(1.3)))
    # more selective employer, lower chance; home prefecture, higher
    assert hire_probability(1.0, 0.0, 0.2, False) < hire_probability(0.0, 0.0, 0.2, False)
    assert hire_probability(0.0, 0.0, 0.2, True) > hire_probability(0.0, 0.0, 0.2, False)


def test_every_hire_follows_an_application_of_the_same_pair(ds):
    inter = ds.interactions
    app = inter[inter["event"] == "apply"].set_index(["user_id", "item_id"])["timestamp"]
    hires = inter[inter["event"] == "hire"]
    assert len(hires) > 1000
    t_app = app.reindex(list(zip(hires["user_id"], hires["item_id"]))).to_numpy()
    assert (t_app <= hires["timestamp"].to_numpy()).all()
    assert not hires.duplicated(["user_id", "item_id"]).any()


def test_oracle_has_one_row_per_view_and_its_rates_match_the_draws(ds):
    views = ds.interactions[ds.interactions["event"] == "view"]
    assert len(ds.oracle) == len(views)
    # The mean true P(apply | view) matches the rate of applications per view (a few
    # applications fall after the window: slightly fewer observed).
    observed = (ds.interactions["event"] == "apply").sum() / len(views)
    assert abs(ds.oracle["p_apply"].mean() - observed) < 0.01
    # hires per application ~ mean p_hire over applied pairs
    apps = ds.interactions[ds.interactions["event"] == "apply"][["user_id", "item_id"]]
    ph = ds.oracle.groupby(["user_id", "item_id"])["p_hire"].first()
    expected = ph.reindex(list(zip(apps["user_id"], apps["item_id"]))).mean()
    hires = (ds.interactions["event"] == "hire").sum()
    assert abs(hires / len(apps) - expected) < 0.03


def test_oracle_round_trips_through_the_store(tmp_path, ds):
    store = Store(tmp_path / "s.duckdb")
    small = make_job_board(seed=1, name="small", n_users=200, n_items=100, days=20, n_reviews=0)
    save_dataset(store, small)
    assert store.scalar("SELECT count(*) FROM oracle WHERE dataset='small'") == len(small.oracle)
    save_dataset(store, small, replace=True)
    assert store.scalar("SELECT count(*) FROM oracle WHERE dataset='small'") == len(small.oracle)


def test_an_application_is_decided_once_at_the_first_view(ds):
    # Repeat views happen, but only a pair's first view can lead to an application: the
    # oracle's p_apply is positive exactly on first views and zero on the repeats, and the
    # applications per pair match the first views' mean p_apply (with repeat views able
    # to apply, it would be about half as much again).
    o = ds.oracle.sort_values(["user_id", "item_id", "time"], kind="stable")
    repeat = o.duplicated(["user_id", "item_id"]).to_numpy()
    assert repeat.sum() > 10_000
    assert (o.loc[repeat, "p_apply"] == 0).all() and (o.loc[~repeat, "p_apply"] > 0).all()
    views = ds.interactions[ds.interactions["event"] == "view"]
    counts = views.groupby(["user_id", "item_id"]).size()
    apps = ds.interactions[ds.interactions["event"] == "apply"]
    assert abs(len(apps) / len(counts) - o.loc[~repeat, "p_apply"].mean()) < 0.005
