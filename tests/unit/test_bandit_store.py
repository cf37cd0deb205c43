"""Stored experiments: stepping, late rewards, reports, recommender arms, the CLI."""

import json

import numpy as np
import pandas as pd
import pytest

from engine.services import bandit_experiments as ex
from engine.bandits.environments import FixedRates
from engine.bandits.simulation import Spec, simulate
from engine.cli import main
from engine.errors import DataError, NotFound
from engine.store import Store
from engine.store import bandits as sql


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "b.duckdb")


def test_stepping_a_stored_experiment_equals_one_simulation(store):
    eid = ex.new_experiment(store, name="t", rates=[0.1, 0.2, 0.15], batch_size=40, seed=7,
                            delay=1)
    ex.start(store, eid)
    for _ in range(3):
        ex.step_running(store)
    ex.step(store, eid, 2)
    res = simulate(Spec(["a", "b", "c"], batch_size=40, seed=7, delay=1),
                   FixedRates([0.1, 0.2, 0.15]), 200)
    rep = ex.report(store, eid)
    assert list(rep.summary["pulls"]) == list(res.pulls.astype(int))
    assert list(rep.summary["successes"]) == list(res.rewards)
    assert rep.experiment["cum_regret"] == pytest.approx(res.regret)
    # one batch late: 200 decisions, rewards of the last batch (40) not arrived yet
    assert rep.summary["n_obs"].sum() == 160
    ev = sql.events(store, eid)
    assert ev["reward"].isna().sum() == 40 and ev["batch"].max() == 4
    assert (ev["policy_version"] == ev["batch"]).all()
    snaps = rep.snapshots
    assert len(snaps) == 5 * 3 and snaps["prob_best"].groupby(snaps["batch"]).sum().round(6).eq(1).all()


def test_pause_stops_the_refresh_loop_and_max_steps_finishes(store):
    eid = ex.new_experiment(store, name="t", rates=[0.1, 0.2], batch_size=10, max_steps=25)
    ex.start(store, eid)
    assert ex.step_running(store) == {eid: 10}
    ex.pause(store, eid)
    assert ex.step_running(store) == {}
    ex.start(store, eid)
    assert ex.step(store, eid, 5) == 15        # 10 + 5 in a short last batch
    assert sql.get_experiment(store, eid)["status"] == "finished"
    assert ex.step(store, eid) == 0
    with pytest.raises(DataError, match="has finished"):
        ex.start(store, eid)


def test_stale_state_writes_nothing(store):
    eid = ex.new_experiment(store, name="t", rates=[0.1, 0.2], batch_size=10)
    empty = pd.DataFrame()
    assert not sql.write_progress(store, eid, 3, empty, empty, 0, 4, 40, 0.0)
    assert sql.get_experiment(store, eid)["n_batches"] == 0


def test_late_rewards_are_joined(store):
    eid = ex.new_experiment(store, name="t", rates=[0.1, 0.2], batch_size=10, delay=5)
    ex.step(store, eid, 1)
    ev = sql.events(store, eid)
    assert ev["reward"].isna().all()
    sql.record_rewards(store, eid, pd.DataFrame({"event_id": ev["event_id"][:4], "reward": 1.0}))
    rep = ex.report(store, eid)
    assert rep.summary["n_obs"].sum() == 4 and rep.summary["successes"].sum() == 4
    with pytest.raises(DataError, match="no decision with event_id 999"):
        sql.record_rewards(store, eid, pd.DataFrame({"event_id": [999], "reward": [1.0]}))


def test_unknown_experiment(store):
    with pytest.raises(NotFound, match="no bandit experiment with id 42"):
        ex.report(store, 42)


def _tiny_runs_store(store):
    """Two runs on one split: run 1 hits 3 of 4 held-out users in its top 2, run 2 one."""
    recs = pd.DataFrame(
        [(1, u, r + 1, i, 1.0) for u, items in
         {"u1": ["a", "b"], "u2": ["c", "x"], "u3": ["y", "d"], "u4": ["z", "w"]}.items()
         for r, i in enumerate(items)]
        + [(2, u, r + 1, i, 1.0) for u, items in
           {"u1": ["x", "y"], "u2": ["z", "w"], "u3": ["d", "q"], "u4": ["q", "z"]}.items()
           for r, i in enumerate(items)],
        columns=["run_id", "user_id", "rank", "item_id", "score"])
    test = pd.DataFrame({"split_id": 1, "user_id": ["u1", "u2", "u3", "u4"],
                         "item_id": ["a", "c", "d", "e"], "part": "test"})
    with store.transaction() as con:
        con.execute("INSERT INTO runs (run_id, dataset, split_id, algorithm, name, status, k) "
                    "VALUES (1, 'tiny', 1, 'pop', 'popular', 'done', 2), "
                    "(2, 'tiny', 1, 'rand', 'random', 'done', 2)").fetchall()
        con.register("_r", recs)
        con.execute("INSERT INTO recommendations SELECT * FROM _r").fetchall()
        con.register("_t", test)
        con.execute("INSERT INTO splits (split_id, user_id, item_id, part) "
                    "SELECT split_id, user_id, item_id, part FROM _t").fetchall()


def test_recommender_runs_as_arms(store):
    _tiny_runs_store(store)
    env = ex.run_arms_environment(store, [1, 2], k=2)
    assert np.allclose(env.rates, [0.75, 0.25])
    env1 = ex.run_arms_environment(store, [1, 2], k=1)   # top-1: run 1 hits u1, u2; run 2 u3
    assert np.allclose(env1.rates, [0.5, 0.25])
    eid = ex.new_experiment(store, name="runs", run_ids=[1, 2], k=2, batch_size=20, seed=0)
    assert ex.step(store, eid, 10) == 200
    rep = ex.report(store, eid)
    assert list(rep.summary["arm"]) == ["run 1: popular", "run 2: random"]
    assert list(rep.summary["true_rate"]) == [0.75, 0.25]
    assert rep.summary["pulls"][0] > rep.summary["pulls"][1]
    ev = sql.events(store, eid)
    assert set(ev["user_id"]) <= {"u1", "u2", "u3", "u4"}
    with pytest.raises(DataError, match="Run 9 is not a finished run"):
        ex.new_experiment(store, name="x", run_ids=[1, 9])


def test_cli_simulate_json(store, capsys):
    rc = main(["bandit", "simulate", "--arms", "0.04,0.05,0.045", "--policy", "thompson",
               "--steps", "2000", "--batch", "100", "--seed", "1", "--json", "--db", str(store.path)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"experiment_id", "pulls", "rewards", "regret", "prob_best"}
    assert sum(out["pulls"]) == 2000 and len(out["prob_best"]) == 3
    assert sum(out["prob_best"]) == pytest.approx(1.0)
    exp = sql.get_experiment(store, out["experiment_id"])
    assert exp["status"] == "finished" and exp["n_steps"] == 2000
    assert exp["cum_regret"] == pytest.approx(out["regret"])


def test_cli_errors_are_one_sentence(store, capsys):
    rc = main(["bandit", "simulate", "--arms", "0.04", "--db", str(store.path)])
    assert rc == 2
    assert "at least two arms" in capsys.readouterr().err
    rc = main(["bandit", "simulate", "--arms", "0.04,1.5", "--db", str(store.path)])
    assert rc == 2 and "within [0, 1]" in capsys.readouterr().err


def test_demo_step_leaves_a_running_experiment(store):
    ex.demo_step(store, "jobboard", 0)
    exps = sql.list_experiments(store)
    assert list(exps["status"]) == ["running"]
    assert exps["n_steps"].iloc[0] == 3000


@pytest.mark.parametrize("batches", ["0", "-1"])
def test_cli_step_with_no_batches_is_refused_and_leaves_the_experiment_running(store, capsys, batches):
    """Zero or negative --batches made no decisions and so marked a running experiment
    finished, for good."""
    eid = ex.new_experiment(store, name="t", rates=[0.1, 0.2], batch_size=10)
    ex.start(store, eid)
    rc = main(["bandit", "step", str(eid), "--batches", batches, "--db", str(store.path)])
    assert rc == 2
    assert "--batches must be at least 1" in capsys.readouterr().err
    exp = sql.get_experiment(store, eid)
    assert exp["status"] == "running" and exp["n_steps"] == 0


@pytest.mark.parametrize("argv, expected", [
    (["--arms", ""], "--arms is empty"),  # used to fall through to --runs: a traceback
    (["--arms", "0.04,0.05,0.06", "--drift", "1"], "--drift needs one value per arm (3), got 1"),
    (["--runs", "1,2", "--k", "0"], "--k must be at least 1"),
    (["--arms", "0.04,0.05", "--steps", "0"], "--steps must be at least 1"),
])
def test_cli_simulate_bad_arguments_name_the_option(store, capsys, argv, expected):
    rc = main(["bandit", "simulate", *argv, "--db", str(store.path)])
    err = capsys.readouterr().err
    assert rc == 2 and expected in err and "Traceback" not in err
    assert sql.list_experiments(store).empty


def test_step_if_due_keeps_one_pace_for_every_driver(tmp_path):
    """Two drivers (two open pages, a page and `bandit run`) stepping the same running
    experiment within the interval advance it once; a paused one is never stepped."""
    from engine.services import bandit_experiments as ex
    from engine.store import Store

    store = Store(tmp_path / "b.duckdb")
    eid = ex.new_experiment(store, name="pace", rates=[0.1, 0.2], batch_size=50, seed=1,
                            status="running")
    assert ex.step_if_due(store, eid, 1, min_interval=0) == 50
    assert ex.step_if_due(store, eid, 1, min_interval=60) == 0      # the other driver
    assert ex.step_if_due(store, eid, 2, min_interval=0) == 100
    ex.pause(store, eid)
    assert ex.step_if_due(store, eid, 1, min_interval=0) == 0


def test_cli_run_advances_until_its_time_is_up_and_refuses_a_paused_one(tmp_path, capsys):
    from engine.services import bandit_experiments as ex
    from engine.cli import main
    from engine.store import Store
    from engine.store import bandits as sql

    db = tmp_path / "b.duckdb"
    eid = ex.new_experiment(Store(db), name="cli", rates=[0.1, 0.2], batch_size=10, seed=1,
                            status="paused")
    assert main(["bandit", "run", str(eid), "--db", str(db), "--every", "0.05",
                 "--for", "0.3"]) == 2
    assert "is paused; start it" in capsys.readouterr().err
    assert main(["bandit", "run", str(eid), "--db", str(db), "--every", "0.05",
                 "--for", "0.5", "--start"]) == 0
    exp = sql.get_experiment(Store(db), eid)
    assert exp["status"] == "running" and exp["n_steps"] >= 20 and exp["n_steps"] % 10 == 0
    assert main(["bandit", "run", str(eid), "--db", str(db), "--every", "0"]) == 2
