"""`recscope bandit import` / `rewards`: production logs of decisions as experiments."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from engine.services import bandit_experiments as ex
from engine.services import bandit_logs as logs
from engine.bandits.environments import FixedRates
from engine.bandits.simulation import Spec, simulate
from engine.cli import main
from engine.errors import DataError, NotFound
from engine.store import Store
from engine.store import bandits as sql
from tests.conftest import shared_path


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "b.duckdb")


# Six decisions, two arms; batches of three. The third decision's reward has not arrived.
TINY = pd.DataFrame({
    "timestamp": ["2024-05-01T10:00:00", "2024-05-01T10:00:01", "2024-05-01T10:00:02",
                  "2024-05-01T10:01:00", "2024-05-01T10:01:01", "2024-05-01T10:01:02"],
    "arm": ["A", "B", "A", "B", "A", "A"],
    "propensity": [0.5, 0.5, 0.5, 0.25, 0.75, 0.75],
    "reward": ["1", "0", "", "1", "1", "0"],
    "id": ["d1", "d2", "d3", "d4", "d5", "d6"],
})


def _write(tmp_path, df, name="log.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _p_b_beats_a(a1, b1, a2, b2):
    """P(theta_2 > theta_1) by integrating pdf_2 * cdf_1 (independent of the code)."""
    val, _ = integrate.quad(lambda x: stats.beta.pdf(x, a2, b2) * stats.beta.cdf(x, a1, b1), 0, 1)
    return val


def test_snapshots_of_a_tiny_log_by_hand(store, tmp_path):
    # rows shuffled in the file: the importer sorts by time
    path = _write(tmp_path, TINY.iloc[[3, 0, 5, 1, 4, 2]])
    res = logs.import_log(store, path, name="tiny", batch_size=3)
    assert (res.n, res.arms, res.n_batches) == (6, ["A", "B"], 2)
    snaps = sql.snapshots(store, res.experiment_id).set_index(["batch", "arm"])
    # batch 0: A pulled twice (one reward 1 arrived, one pending), B once (0)
    a0, b0 = snaps.loc[(0, "A")], snaps.loc[(0, "B")]
    assert (a0["alpha"], a0["beta"], a0["pulls"], a0["n_obs"]) == (2, 1, 2, 1)
    assert (b0["alpha"], b0["beta"], b0["pulls"], b0["n_obs"]) == (1, 2, 1, 1)
    # Beta(2,1) vs Beta(1,2): P(A best) = int 2x (1 - (1-x)^2) dx = 5/6
    assert a0["prob_best"] == pytest.approx(5 / 6, abs=1e-9)
    assert a0["mean"] == pytest.approx(2 / 3)
    assert (a0["lo"], a0["hi"]) == pytest.approx(stats.beta.interval(0.95, 2, 1))
    assert a0["intended_share"] == 0.5 and b0["intended_share"] == 0.5
    assert (a0["batch_pulls"], b0["batch_pulls"]) == (2, 1)
    # batch 1: A has 3 rewards (2 ones), B 2 (1 one)
    a1, b1 = snaps.loc[(1, "A")], snaps.loc[(1, "B")]
    assert (a1["alpha"], a1["beta"], b1["alpha"], b1["beta"]) == (3, 2, 2, 2)
    assert a1["prob_best"] == pytest.approx(1 - _p_b_beats_a(3, 2, 2, 2), abs=1e-7)
    assert (a1["intended_share"], b1["intended_share"]) == (0.75, 0.25)
    assert a1["n_steps"] == 6 and np.isnan(a1["cum_regret"])
    assert res.pulls == [4, 2] and res.rewards == [2.0, 1.0]
    exp = sql.get_experiment(store, res.experiment_id)
    assert (exp["status"], exp["environment"], exp["n_steps"], exp["n_batches"]) == (
        "imported", "log", 6, 2)
    ev = sql.events(store, res.experiment_id).sort_values("event_id")
    assert ev["ts"].is_monotonic_increasing and ev["reward"].isna().sum() == 1
    # the report reads the stored decisions the same way
    rep = ex.report(store, res.experiment_id)
    assert list(rep.summary["pulls"]) == [4, 2] and rep.true_rates is None
    assert "consistent" in rep.sample_ratio.message and not rep.sample_ratio.alarm


def test_intended_share_is_the_harmonic_mean_and_carries_over_empty_batches(tmp_path):
    df = pd.DataFrame({"timestamp": [1, 2, 3, 4, 5, 6], "arm": ["A", "A", "B", "A", "A", "A"],
                       "propensity": [0.5, 0.25, 0.5, 0.9, 0.9, 0.9], "reward": [0] * 6})
    log = logs.read_decisions(_write(tmp_path, df), batch_size=3)
    shares = logs.intended_shares(log)
    # A in batch 0: 2 / (1/0.5 + 1/0.25) = 1/3 (the policy's mean probability over the
    # batch, when one decision had 0.5 and another 0.25)
    assert shares[0, 0] == pytest.approx(1 / 3)
    assert shares[0, 1] == 0.5
    assert shares[1, 0] == pytest.approx(0.9)
    assert shares[1, 1] == 0.5   # B had no decision in batch 1: its share carries over
    # of the (batch, arm) pairs with two decisions or more, A in batch 0 varies (0.5 and
    # 0.25) and A in batch 1 does not (0.9 thrice)
    assert logs.varying_propensity(log) == 0.5


def test_replaying_a_simulation_log_gives_its_snapshots(store, tmp_path):
    """Snapshots are computed as for simulated experiments: a uniform simulation without
    reward delay, exported as a log and imported, gives the same posteriors."""
    spec = Spec(["a", "b", "c"], "uniform", batch_size=50, seed=3)
    res = simulate(spec, FixedRates([0.1, 0.3, 0.2]), 400)
    ev, sim = res.output.events_df(), res.output.snapshots_df()
    log = pd.DataFrame({"timestamp": ev["step"], "arm": ev["arm"],
                        "propensity": ev["propensity"], "reward": ev["outcome"].astype(int)})
    out = logs.import_log(store, _write(tmp_path, log), name="replay", batch_size=50,
                          policy="uniform")
    got = sql.snapshots(store, out.experiment_id)
    for col in ["alpha", "beta", "pulls", "n_obs", "mean", "lo", "hi", "prob_best",
                "expected_loss", "intended_share", "batch_pulls", "n_steps"]:
        np.testing.assert_allclose(got[col].to_numpy(float), sim[col].to_numpy(float),
                                   err_msg=col)
    assert out.prob_best == pytest.approx(list(res.prob_best))


def test_batch_column_orders_batches_by_their_first_decision(store, tmp_path):
    df = TINY.assign(version=["v2", "v2", "v2", "v1", "v1", "v1"],
                     timestamp=["2024-05-02"] * 3 + ["2024-05-01"] * 3)
    log = logs.read_decisions(_write(tmp_path, df), batch_col="version")
    d = log.decisions
    assert log.n_batches == 2
    assert list(d.loc[d["batch"] == 0, "decision_id"]) == ["4", "5", "6"]  # the v1 rows
    assert d["ts"].is_monotonic_increasing


def test_cli_import_json_and_text(store, tmp_path, capsys):
    path = _write(tmp_path, TINY)
    rc = main(["bandit", "import", str(path), "--name", "tiny", "--batch-size", "3",
               "--id-col", "id", "--json", "--db", str(store.path)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"experiment_id", "n", "arms", "pulls", "rewards", "prob_best"}
    assert out["n"] == 6 and out["arms"] == ["A", "B"]
    assert out["pulls"] == [4, 2] and out["rewards"] == [2.0, 1.0]
    assert out["prob_best"][0] == pytest.approx(1 - _p_b_beats_a(3, 2, 2, 2), abs=1e-7)
    rc = main(["bandit", "import", str(path), "--name", "again", "--db", str(store.path)])
    text = capsys.readouterr().out
    assert rc == 0 and "6 decisions on 2 arms in 6 batches" in text  # 100 batches at most
    assert "1 rewards not arrived yet" in text


@pytest.mark.parametrize("change, args, expected", [
    (lambda d: d.drop(columns="reward"), [], "has no column 'reward' (given as --reward-col)"),
    (lambda d: d, ["--arm-col", "variant"], "has no column 'variant' (given as --arm-col)"),
    (lambda d: d, ["--propensity-col", "p"], "has no column 'p' (given as --propensity-col)"),
    (lambda d: d.assign(reward=["1", "0", "2", "1", "1", "0"]), [],
     "row 3 has '2' in the reward column 'reward'; expected 0, 1, or an empty cell"),
    (lambda d: d.assign(reward=["1", "yes", "", "1", "1", "0"]), [],
     "row 2 has 'yes' in the reward column 'reward'"),
    (lambda d: d.assign(propensity=[0.5, 0.0, 0.5, 0.25, 0.75, 0.75]), [],
     "row 2 has '0.0' in the propensity column 'propensity'; expected the policy's probability "
     "of choosing the arm, in (0, 1]"),
    (lambda d: d.assign(propensity=[0.5, 0.5, 0.5, 0.25, 1.5, 0.75]), [],
     "row 5 has '1.5' in the propensity column"),
    (lambda d: d.assign(propensity=[0.5, 0.5, None, 0.25, 0.75, 0.75]), [],
     "row 3 has an empty cell in the propensity column"),
    (lambda d: d.assign(timestamp=["2024-05-01", "yesterday"] + ["2024-05-01"] * 4), [],
     "row 2 has the timestamp 'yesterday' in column 'timestamp'"),
    (lambda d: d.assign(timestamp=["2024-05-01", None] + ["2024-05-01"] * 4), [],
     "row 2 has an empty cell in the time column 'timestamp'"),
    (lambda d: d.assign(arm="A"), [], "has decisions for 1 arm ('A' in column 'arm'); an "
     "experiment needs at least two arms"),
    (lambda d: d.assign(arm=["A", "B", "", "B", "A", "A"]), [], "row 3 has an empty arm"),
    (lambda d: d.assign(id=["d1", "d2", "d1", "d4", "d5", "d6"]), ["--id-col", "id"],
     "row 3 repeats the decision id 'd1' of row 1 in column 'id'"),
    (lambda d: d, ["--batch-size", "0"], "--batch-size must be at least 1, not 0"),
    (lambda d: d, ["--prior", "0,1"], "The Beta prior's parameters must be positive"),
    (lambda d: d.iloc[:0], [], "has a header but no data rows"),
])
def test_bad_logs_are_one_sentence_and_store_nothing(store, tmp_path, capsys, change, args,
                                                     expected):
    path = _write(tmp_path, change(TINY.copy()))
    rc = main(["bandit", "import", str(path), "--name", "bad", *args, "--db", str(store.path)])
    err = capsys.readouterr().err
    assert rc == 2 and expected in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    if "--" not in expected and "prior" not in expected:
        assert str(path) in err   # names the file
    assert sql.list_experiments(store).empty


def test_missing_file_and_both_batchings(store, tmp_path, capsys):
    rc = main(["bandit", "import", str(tmp_path / "nope.csv"), "--name", "x",
               "--db", str(store.path)])
    assert rc == 2 and "nope.csv does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["bandit", "import", str(_write(tmp_path, TINY)), "--name", "x", "--batch-col",
              "id", "--batch-size", "3", "--db", str(store.path)])
    assert e.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_imported_experiments_cannot_be_started_or_stepped(store, tmp_path, capsys):
    eid = logs.import_log(store, _write(tmp_path, TINY), name="t", batch_size=3).experiment_id
    with pytest.raises(DataError, match="imported from a production log"):
        ex.start(store, eid)
    assert main(["bandit", "step", str(eid), "--db", str(store.path)]) == 2
    assert "cannot be stepped" in capsys.readouterr().err
    exp = sql.get_experiment(store, eid)
    assert exp["status"] == "imported" and exp["n_steps"] == 6


def test_without_propensities_the_sample_ratio_check_says_it_cannot_check(store, tmp_path):
    path = _write(tmp_path, TINY.drop(columns="propensity"))
    eid = logs.import_log(store, path, name="t", batch_size=3).experiment_id
    rep = ex.report(store, eid)
    assert not rep.sample_ratio.alarm and rep.sample_ratio.message.startswith("Not checked")


def test_sample_ratio_alarm_when_traffic_ignores_the_logged_propensities(store, tmp_path):
    """Logged 50/50, served 90/10: the imported log raises the alarm."""
    n = 1000
    df = pd.DataFrame({"timestamp": np.arange(n), "arm": ["A"] * 900 + ["B"] * 100,
                       "propensity": 0.5, "reward": 0})
    df = df.sample(frac=1, random_state=0).assign(timestamp=np.arange(n))
    rep = ex.report(store, logs.import_log(store, _write(tmp_path, df), name="srm",
                                           batch_size=100).experiment_id)
    assert rep.sample_ratio.alarm and rep.sample_ratio.p_value < 1e-6


def test_served_arm_differing_from_the_intended_arm_raises_the_alarm(store, tmp_path):
    n = 600
    rng = np.random.default_rng(0)
    intended = rng.choice(["A", "B"], size=n)
    served = np.where((intended == "B") & (rng.random(n) < 0.3), "A", intended)  # fallback
    df = pd.DataFrame({"timestamp": np.arange(n), "arm": served, "chosen": intended,
                       "reward": 0})
    eid = logs.import_log(store, _write(tmp_path, df), name="fallback", batch_size=100,
                          intended_col="chosen").experiment_id
    assert ex.report(store, eid).sample_ratio.alarm
    eid = logs.import_log(store, _write(tmp_path, df.assign(chosen=served)), name="ok",
                          batch_size=100, intended_col="chosen").experiment_id
    assert not ex.report(store, eid).sample_ratio.alarm


def test_varying_propensities_give_a_caveat_not_an_alarm(store, tmp_path):
    rng = np.random.default_rng(1)
    n = 2000
    p_a = rng.uniform(0.05, 0.95, size=n)    # a contextual policy: a new probability each time
    arm = np.where(rng.random(n) < p_a, "A", "B")
    prop = np.where(arm == "A", p_a, 1 - p_a)
    df = pd.DataFrame({"timestamp": np.arange(n), "arm": arm, "propensity": prop, "reward": 0})
    rep = ex.report(store, logs.import_log(store, _write(tmp_path, df), name="ctx",
                                           batch_size=200).experiment_id)
    assert rep.sample_ratio.warning and not rep.sample_ratio.alarm
    assert "vary within a batch" in rep.sample_ratio.message


def test_late_rewards_are_joined_and_the_snapshots_recomputed(store, tmp_path, capsys):
    pending = TINY.assign(reward=["1", "0", "", "", "1", ""])
    eid = logs.import_log(store, _write(tmp_path, pending), name="late", batch_size=3,
                          id_col="id").experiment_id
    late = pd.DataFrame({"id": ["d4", "d3", "d6", "d1"], "reward": [1, "", 0, 1]})
    bad = _write(tmp_path, late, "late_bad.csv")
    assert main(["bandit", "rewards", str(eid), str(bad), "--id-col", "id",
                 "--db", str(store.path)]) == 2
    assert "row 2 has an empty cell in the reward column" in capsys.readouterr().err
    unknown = _write(tmp_path, late.assign(id=["d4", "d9", "d6", "d1"], reward=[1, 1, 0, 1]),
                     "unknown.csv")
    with pytest.raises(NotFound, match="row 2 names the decision 'd9'"):
        logs.add_rewards(store, eid, unknown, id_col="id")
    clash = _write(tmp_path, late.assign(reward=[1, 1, 0, 0]), "clash.csv")
    with pytest.raises(DataError, match="gives decision 'd1' the reward 0, but it already has 1"):
        logs.add_rewards(store, eid, clash, id_col="id")
    assert sql.decision_rewards(store, eid)["reward"].isna().sum() == 3   # nothing written
    good = _write(tmp_path, late.assign(reward=[1, 1, 0, 1]), "good.csv")
    rc = main(["bandit", "rewards", str(eid), str(good), "--id-col", "id", "--json",
               "--db", str(store.path)])
    assert rc == 0
    assert json.loads(capsys.readouterr().out) == {
        "experiment_id": eid, "rows": 4, "joined": 3, "unchanged": 1, "pending": 0}
    # now the experiment holds TINY with every reward: the snapshots of a log imported
    # with all of them (d3 = 1)
    full = logs.import_log(store, _write(tmp_path, TINY.assign(reward=["1", "0", "1", "1", "1", "0"]),
                                         "full.csv"), name="full", batch_size=3)
    cols = ["alpha", "beta", "n_obs", "prob_best", "intended_share", "ts"]
    pd.testing.assert_frame_equal(sql.snapshots(store, eid)[cols],
                                  sql.snapshots(store, full.experiment_id)[cols])


def test_rewards_by_row_number_without_an_id_column(store, tmp_path):
    eid = logs.import_log(store, _write(tmp_path, TINY), name="rows", batch_size=3).experiment_id
    res = logs.add_rewards(store, eid, _write(tmp_path, pd.DataFrame(
        {"decision_id": [3], "reward": [0]}), "r.csv"))
    assert (res.joined, res.pending) == (1, 0)
    ev = sql.decision_rewards(store, eid).set_index("decision_id")
    assert ev.loc["3", "reward"] == 0


@pytest.mark.parametrize("policy", ["bts", "random"])
def test_obd_logs(tmp_path, policy):
    path = shared_path("bandits", "obd", policy, "all.csv")
    store = Store(tmp_path / "obd.duckdb")
    res = logs.import_log(store, path, name=f"obd-{policy}", arm_col="item_id",
                          reward_col="click", propensity_col="propensity_score",
                          require_propensity=True, time_col="timestamp", batch_size=500)
    raw = pd.read_csv(path, usecols=["item_id", "click"])
    assert (res.n, len(res.arms), res.n_batches) == (10_000, 80, 20)
    assert sum(res.rewards) == raw["click"].sum()
    assert res.pulls[res.arms.index("0")] == (raw["item_id"] == 0).sum()
    rep = ex.report(store, res.experiment_id)
    if policy == "random":   # propensities 1/80 throughout: a clean sample-ratio check
        assert not rep.sample_ratio.alarm and not rep.sample_ratio.warning
        assert rep.sample_ratio.p_value > 0.001
    else:   # per-impression propensities: the check is not made, and says why
        assert rep.sample_ratio.warning and not rep.sample_ratio.alarm
    lead = rep.summary.sort_values("prob_best").iloc[-1]
    assert lead["prob_best"] == pytest.approx(max(res.prob_best))
    assert not rep.stopping.stop   # 10,000 impressions and ~40 clicks decide nothing


def test_prior_advice_only_for_imported_logs(store, tmp_path):
    """A rare-click log read with Beta(1, 1) gets the `--prior` advice; a simulation
    with the same rates keeps the prior it was given, without a note."""
    from viewer.bandits_view import prior_note

    rng = np.random.default_rng(0)
    n = 2000
    log = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=n, freq="s").astype(str),
                        "arm": rng.choice(["A", "B"], n), "propensity": 0.5,
                        "reward": (rng.random(n) < 0.01).astype(int).astype(str)})
    eid = logs.import_log(store, _write(tmp_path, log), name="rare", batch_size=100).experiment_id
    note = prior_note(ex.report(store, eid))
    rate = (log["reward"] == "1").mean()
    assert note is not None and f"observed rate {rate:.4f}" in note and "--prior 1," in note
    sim = ex.new_experiment(store, name="sim", rates=[0.01, 0.011], batch_size=100, seed=0,
                            status="running")
    ex.step(store, sim, 20)
    assert prior_note(ex.report(store, sim)) is None
