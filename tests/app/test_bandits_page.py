"""Bandits page logic without a browser (streamlit.testing AppTest)."""

import pytest
from streamlit.testing.v1 import AppTest

from engine.bandits import checks
from engine.services import bandit_experiments as ex
from engine.store import Store
from engine.store import bandits as sql
from tests.conftest import ROOT



def _app(db, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("RECSCOPE_DB", str(db))
    at = AppTest.from_file(str(ROOT / "pages" / "bandits.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = str(v)
    return at


def _run(at):
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_empty_store_offers_to_create_and_creates(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    at = _run(_app(db, monkeypatch))
    assert any("No bandit experiments" in i.value for i in at.info)
    name = next(t for t in at.text_input if t.label == "Name")
    name.set_value("two arms")
    rates = next(t for t in at.text_input if t.label.startswith("Arm rates"))
    rates.set_value("0.1, 0.3")
    next(b for b in at.button if b.label == "Create and start").click()
    _run(at)
    exps = sql.list_experiments(Store(db))
    assert list(exps["name"]) == ["two arms"] and exps["status"].iloc[0] == "running"
    assert at.query_params["experiment"] == str(exps["experiment_id"].iloc[0])


def test_bad_rates_are_one_sentence(tmp_path, monkeypatch):
    at = _run(_app(tmp_path / "s.duckdb", monkeypatch))
    next(t for t in at.text_input if t.label.startswith("Arm rates")).set_value("0.1, high")
    next(b for b in at.button if b.label == "Create and start").click()
    _run(at)
    assert any("comma-separated numbers" in e.value for e in at.error)


def test_running_experiment_advances_on_each_run_and_pause_stops_it(tmp_path, monkeypatch):
    from viewer import bandits_view

    # AppTest re-runs at once; the page's pace guard (one step per refresh, whoever
    # drives) is tested in tests/unit/test_bandit_store.py
    monkeypatch.setattr(bandits_view, "MIN_STEP_INTERVAL", 0.0)
    db = tmp_path / "s.duckdb"
    store = Store(db)
    eid = ex.new_experiment(store, name="live", rates=[0.04, 0.05], batch_size=50,
                            status="running")
    at = _run(_app(db, monkeypatch, experiment=eid))
    assert _metric(at, "Decisions") == "50"
    _run(at)
    assert _metric(at, "Decisions") == "100"
    assert sql.get_experiment(store, eid)["n_steps"] == 100
    next(b for b in at.button if b.label == "Pause").click()
    _run(at)
    assert sql.get_experiment(store, eid)["status"] == "paused"
    _run(at)
    assert sql.get_experiment(store, eid)["n_steps"] == 100
    # Step advances one batch while paused; Start resumes
    next(b for b in at.button if b.label == "Step").click()
    _run(at)
    assert sql.get_experiment(store, eid)["n_steps"] == 150
    next(b for b in at.button if b.label == "Start").click()
    _run(at)
    assert sql.get_experiment(store, eid)["status"] == "running"


def test_shows_leaderboard_stopping_and_charts(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    store = Store(db)
    eid = ex.new_experiment(store, name="done", rates=[0.02, 0.2], arm_names=["low", "high"],
                            batch_size=500, status="paused")
    ex.step(store, eid, 6)
    at = _run(_app(db, monkeypatch, experiment=eid))
    board = at.dataframe[0].value
    assert list(board["Arm"]) == ["high", "low"]
    assert board["P(best)"].iloc[0] > 0.999
    assert any("can stop" in s.value for s in at.success)
    assert any("**high**" in md.value for md in at.markdown)
    assert len(at.get("plotly_chart")) == 6


def test_alarms_are_shown(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    store = Store(db)
    eid = ex.new_experiment(store, name="t", rates=[0.05, 0.06], batch_size=100, status="paused")
    ex.step(store, eid, 4)
    fake = checks.SimpsonAlarm("a", "b", -0.01, 0.01, "Simpson's paradox here")
    monkeypatch.setattr(checks, "simpson_alarms", lambda periods, min_obs=30: [fake])
    at = _run(_app(db, monkeypatch, experiment=eid))
    assert any("Simpson's paradox here" in e.value for e in at.error)


def test_unknown_experiment_in_url_falls_back(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    eid = ex.new_experiment(Store(db), name="only", rates=[0.1, 0.2], status="paused")
    at = _run(_app(db, monkeypatch, experiment=99))
    assert any("no experiment #99" in w.value for w in at.warning)
    assert at.query_params["experiment"] == str(eid)
    # a non-number used to fall back without a word
    at = _run(_app(db, monkeypatch, experiment="abc"))
    assert any("no experiment #abc" in w.value for w in at.warning)
    assert at.query_params["experiment"] == str(eid)


def test_ope_panel_on_a_small_log(tmp_path, monkeypatch):
    import pandas as pd

    db = tmp_path / "s.duckdb"
    ex.new_experiment(Store(db), name="only", rates=[0.1, 0.2], status="paused")
    logs = tmp_path / "logs.csv"
    df = pd.DataFrame({"item_id": [0, 1, 2, 3], "position": [1, 1, 2, 2], "click": [1, 0, 0, 1],
                       "propensity_score": [0.5, 0.125, 0.25, 0.5]})
    df.to_csv(logs)
    at = _run(_app(db, monkeypatch))
    next(t for t in at.text_input if t.label == "Logs file").set_value(str(logs))
    next(t for t in at.text_input if t.label.startswith("A log of the uniform")).set_value("")
    _run(at)
    next(b for b in at.button if b.label == "Estimate").click()
    _run(at)
    table = at.dataframe[-1].value
    # 4 items (max id + 1), uniform target 1/4: weight 0.25/0.5 on each of the two clicks
    assert table.iloc[0, 1] == pytest.approx((0.5 + 0.5) / 4)
    assert any(m.label == "Effective sample size" for m in at.metric)


def _import_log(db, tmp_path, n_arms: int, n: int = 600):
    import numpy as np
    import pandas as pd

    from engine.services import bandit_logs as logs

    rng = np.random.default_rng(0)
    arms = rng.integers(0, n_arms, size=n)
    df = pd.DataFrame({"timestamp": np.arange(n) + 1_700_000_000, "arm": arms.astype(str),
                       "propensity": 1.0 / n_arms,
                       "reward": (rng.random(n) < 0.05 + 0.01 * arms).astype(int)})
    path = tmp_path / f"log{n_arms}.csv"
    df.to_csv(path, index=False)
    return logs.import_log(Store(db), path, name=f"prod log {n_arms}", batch_size=100,
                           policy="uniform")


def test_imported_experiment_shows_the_audit_panels_and_no_start_or_step(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    ex.new_experiment(Store(db), name="sim", rates=[0.1, 0.2], status="paused")
    res = _import_log(db, tmp_path, n_arms=3)
    at = _run(_app(db, monkeypatch, experiment=res.experiment_id))
    assert at.selectbox(key="bandit_experiment").value == res.experiment_id
    buttons = {b.label: b for b in at.button if b.label in ("Start", "Pause", "Step")}
    assert all(b.disabled for b in buttons.values()) and len(buttons) == 3
    assert any("imported from a production log" in c.value for c in at.caption)
    assert any("hidden" in c.value for c in at.caption)
    assert not any(m.label == "Expected regret (sim)" for m in at.metric)
    assert _metric(at, "Decisions") == "600" and _metric(at, "Rewards pending") == "0"
    assert any("Stopping rule" in m.value for m in at.markdown)
    assert any("Sample-ratio check: Decisions per arm" in c.value for c in at.caption)
    board = at.dataframe[0].value
    assert len(board) == 3 and board["Decisions"].sum() == 600
    assert list(board["P(best)"]) == sorted(board["P(best)"], reverse=True)
    # the imported status does not change on reruns (nothing steps it)
    _run(at)
    assert _metric(at, "Decisions") == "600"


def test_imported_experiment_with_many_arms_folds_the_rest(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    res = _import_log(db, tmp_path, n_arms=30, n=3000)
    at = _run(_app(db, monkeypatch, experiment=res.experiment_id))
    board = at.dataframe[0].value
    assert len(board) == 15   # the top 15; all 30 in the expander
    assert any(e.label == "All 30 arms" for e in at.expander)
    assert len(at.dataframe[1].value) == 30


def test_ope_panel_works_with_an_imported_experiment(tmp_path, monkeypatch):
    import pandas as pd

    db = tmp_path / "s.duckdb"
    _import_log(db, tmp_path, n_arms=3)
    logs_file = tmp_path / "obd.csv"
    pd.DataFrame({"item_id": [0, 1, 2, 3], "position": [1, 1, 2, 2], "click": [1, 0, 0, 1],
                  "propensity_score": [0.5, 0.125, 0.25, 0.5]}).to_csv(logs_file)
    at = _run(_app(db, monkeypatch))
    next(t for t in at.text_input if t.label == "Logs file").set_value(str(logs_file))
    next(t for t in at.text_input if t.label.startswith("A log of the uniform")).set_value("")
    _run(at)
    next(b for b in at.button if b.label == "Estimate").click()
    _run(at)
    assert at.dataframe[-1].value.iloc[0, 1] == pytest.approx((0.5 + 0.5) / 4)
