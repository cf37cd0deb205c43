"""`recscope tune` and the tuning service (engine/services/tuning.py), search spaces
(engine/recommend/space.py) and validation parts (engine/evaluate/validation.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.cli import main
from engine.data.dataset import Dataset
from engine.errors import DataError
from engine.evaluate.validation import user_folds, validation_split
from engine.recommend import registry
from engine.recommend.space import Dim, parse_space
from engine.services import tuning
from engine.store import Store
from engine.store import runs as R
from engine.store import tuning as T
from engine.store.datasets import save_dataset
from tests.fixtures.datasets import tiny_dataset


def small_dataset(name="small", n_users=40, n_items=30, per_user=8, seed=3) -> Dataset:
    """Users with a few clustered tastes (so models can beat chance), timestamps 1..n."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        block = u % 3
        pool = [i for i in range(n_items) if i % 3 == block]
        items = rng.choice(pool, size=per_user, replace=False)
        for t, i in enumerate(items):
            rows.append((f"u{u}", f"i{i}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=t + u)))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["weight"] = 1.0
    inter["event"] = "interaction"
    return Dataset(name=name, interactions=inter, users=None, items=None)


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "tune.duckdb"
    save_dataset(Store(path), small_dataset())
    return str(path)


def _counts(db) -> dict:
    s = Store(db)
    return {t: s.scalar(f"SELECT count(*) FROM {t}")
            for t in ("studies", "trials", "runs", "split_defs", "splits")}


TUNE = ["tune", "--dataset", "small", "--split", "leave_last_n", "--neighbours", "0"]


# --------------------------------------------------------------------------- spaces

def test_space_override_and_pin():
    entry = registry.spec("bpr")
    space, fixed = parse_space(["bpr.learning_rate=0.001..0.3:log", "bpr.factors=16",
                                "bpr.iterations=5..20"], "bpr", entry.defaults, entry.space,
                               check=lambda n, v: registry.check_param("bpr", n, v))
    assert space["learning_rate"] == Dim(0.001, 0.3, log=True, integer=False)
    assert "factors" not in space and fixed == {"factors": 16}
    # the registry's range was log for iterations; an override keeps the scale unless told
    assert space["iterations"] == Dim(5, 20, log=True, integer=True)


@pytest.mark.parametrize("item, words", [
    ("als.factors=8..16", "names algorithm 'als'"),
    ("bpr.nope=1..2", "has no parameter 'nope'"),
    ("bpr.learning_rate=0.1..0.1", "is empty"),
    ("bpr.learning_rate=0.3..0.1", "is inverted"),
    ("bpr.learning_rate=0..0.3:log", "includes 0"),
    ("bpr.factors=0..16:lin", "must be at least 1"),
    ("bpr.factors=2.5..16", "whole number"),
    ("bpr.learning_rate", "not of the form"),
])
def test_space_errors_are_one_sentence(item, words):
    entry = registry.spec("bpr")
    with pytest.raises(DataError, match=words):
        parse_space([item], "bpr", entry.defaults, entry.space,
                    check=lambda n, v: registry.check_param("bpr", n, v))


@pytest.mark.parametrize("extra, words", [
    (["--algo", "nope"], "Unknown algorithm 'nope'"),
    (["--algo", "bpr", "--space", "bpr.nope=1..2"], "no parameter 'nope'"),
    (["--algo", "bpr", "--space", "bpr.learning_rate=0.3..0.01"], "inverted"),
    (["--algo", "bpr", "--space", "bpr.learning_rate=0..0.3:log"], "includes 0"),
    (["--algo", "bpr", "--trials", "0"], "--trials must be at least 1"),
    (["--study", "99"], "No study 99"),
    (["--algo", "bpr", "--metric", "accuracy"], "'accuracy' is not a metric"),
    (["--algo", "bpr", "--objectives", "ndcg@10,banana@10"], "'banana' is not a metric"),
    (["--algo", "popularity"], "no parameter to tune"),
    (["--study", "1", "--space", "bpr.factors=4..8"], "No study 1"),
])
def test_bad_input_exits_2_and_leaves_the_store_unchanged(db, capsys, extra, words):
    before = _counts(db)
    assert main(TUNE + ["--db", db] + extra) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert _counts(db) == before


# --------------------------------------------------------------------------- validation

def test_validation_part_is_each_users_last_training_items():
    ds = tiny_dataset()
    # the tiny dataset's train part (leave-last-one-out): u1 a,b  u2 a,c  u3 b,a  u4 a
    train = ds.interactions[~ds.interactions.set_index(["user_id", "item_id"]).index.isin(
        [("u1", "c"), ("u2", "d"), ("u3", "e"), ("u4", "c")])]
    v = validation_split(train, "leave_last_n", {"n": 1, "min_history": 2})
    got = sorted(zip(v.test["user_id"], v.test["item_id"]))
    assert got == [("u1", "b"), ("u2", "c"), ("u3", "a")]  # u4 has one item: never validated
    assert sorted(zip(v.train["user_id"], v.train["item_id"])) == \
        [("u1", "a"), ("u2", "a"), ("u3", "b"), ("u4", "a")]


def test_tuning_never_reads_the_test_part_before_the_final_run(db, monkeypatch):
    store = Store(db)
    # the split exists (made by an earlier train), as for any study on a used split
    assert main(["train", "--db", db, "--dataset", "small", "--algos", "popularity",
                 "--split", "leave_last_n", "--neighbours", "0"]) == 0
    events = []
    real = R._split_part

    def spy(store_, split_id, part, user_id):
        events.append(("read", part))
        return real(store_, split_id, part, user_id)

    monkeypatch.setattr(R, "_split_part", spy)
    plan = tuning.plan_study(store, dataset="small", algo="itemknn", trials=4)
    out = tuning.tune(store, plan, trials=4, split="leave_last_n", neighbours=0,
                      on_trial=lambda info: events.append(("trial", info["number"])))
    last_trial = max(i for i, e in enumerate(events) if e[0] == "trial")
    assert ("read", "test") not in events[:last_trial]
    assert ("read", "train") in events[:last_trial]
    assert ("read", "test") in events[last_trial:]  # the final run evaluates on test
    assert R.get_run(store, out["run_id"])["split_id"] == T.get_study(store, out["study_id"])["split_id"]


# --------------------------------------------------------------------------- studies

def test_study_stores_trials_and_resume_continues_numbering(db, capsys):
    argv = TUNE + ["--db", db, "--algo", "bpr", "--trials", "3", "--seed", "1",
                   "--space", "bpr.iterations=3..8", "--space", "bpr.factors=4..8", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert sorted(first) == ["algorithm", "best_params", "best_value", "n_trials", "run_id",
                             "study_id"]
    assert first["n_trials"] == 3 and first["algorithm"] == "bpr"
    store = Store(db)
    stored = T.trials(store, first["study_id"])
    assert stored["number"].tolist() == [0, 1, 2]
    kept = stored[["number", "value"]].copy()
    run = R.get_run(store, first["run_id"])
    assert run["status"] == "done" and run["params"]["factors"] == first["best_params"]["factors"]
    # trial 0 is the defaults inside the space (factors 64 and iterations 100 are outside)
    assert stored["params"][0]["learning_rate"] == 0.01
    assert stored["params"][0]["regularization"] == 0.01
    complete = stored[stored["state"] == "COMPLETE"]
    assert first["best_value"] == pytest.approx(complete["value"].max())

    before = _counts(db)
    assert main(["tune", "--db", db, "--study", str(first["study_id"]), "--trials", "2",
                 "--test-n", "2"]) == 2
    assert "keeps its own split" in capsys.readouterr().err and _counts(db) == before
    assert main(["tune", "--db", db, "--study", str(first["study_id"]), "--trials", "2",
                 "--neighbours", "0", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["study_id"] == first["study_id"] and second["n_trials"] == 5
    again = T.trials(store, first["study_id"])
    assert again["number"].tolist() == [0, 1, 2, 3, 4]
    pd.testing.assert_frame_equal(again[["number", "value"]].head(3), kept)
    assert T.get_study(store, first["study_id"])["run_id"] == second["run_id"]


def test_progress_line_per_trial_with_the_best_so_far(db, capsys):
    assert main(TUNE + ["--db", db, "--algo", "itemknn", "--trials", "3"]) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("trial ")]
    assert [ln.split(":")[0] for ln in lines] == ["trial 0", "trial 1", "trial 2"]
    assert all("| best " in ln for ln in lines)


def test_two_objectives_keep_the_pareto_front(db, capsys):
    assert main(TUNE + ["--db", db, "--algo", "itemknn", "--trials", "4",
                        "--objectives", "ndcg@10,coverage@10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out["best_value"], list) and len(out["best_value"]) == 2
    st = T.get_study(Store(db), out["study_id"])
    assert st["objectives"] == ["ndcg@10", "coverage@10"]
    assert st["directions"] == ["maximize", "maximize"]
    vals = T.trials(Store(db), out["study_id"])["vals"].tolist()
    assert all(len(v) == 2 for v in vals)
    # the reported best is on the front: no trial beats it on both objectives
    b = out["best_value"]
    assert not any(v[0] > b[0] and v[1] > b[1] for v in vals)


def test_interrupt_keeps_finished_trials(db, monkeypatch):
    store = Store(db)
    plan = tuning.plan_study(store, dataset="small", algo="itemknn", trials=5)
    calls = {"n": 0}
    real = tuning.run_trial

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(tuning, "run_trial", flaky)
    with pytest.raises(KeyboardInterrupt):
        tuning.tune(store, plan, trials=5, split="leave_last_n", neighbours=0)
    assert T.trials(store, plan.study_id)["number"].tolist() == [0, 1]
    assert T.get_study(store, plan.study_id)["status"] == "interrupted"


def test_pruning_reports_intermediate_values_for_iterative_models(db):
    store = Store(db)
    plan = tuning.plan_study(store, dataset="small", algo="bpr", trials=2,
                             space_items=["bpr.iterations=25", "bpr.factors=4..8"])
    tuning.tune(store, plan, trials=2, split="leave_last_n", neighbours=0)
    inter = T.trials(store, plan.study_id)["intermediate"].tolist()
    # 25 iterations: reports after 25%, 50% and 75% of them (epochs 6, 12, 19), keyed by
    # the percentage, so trials of different lengths are compared at the same share
    assert tuning.REPORT_PERCENTS == (25, 50, 75)
    assert [sorted(int(s) for s in d) for d in inter] == [[25, 50, 75]] * 2


def test_user_folds_test_each_user_once():
    train = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e"], "item_id": "x",
                          "timestamp": pd.Timestamp("2024-01-01"), "weight": 1.0})
    test = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e"], "item_id": "y",
                         "timestamp": pd.Timestamp("2024-01-02"), "weight": 1.0})
    folds = user_folds(train, test, 2, seed=0)
    tested = [sorted(te["user_id"]) for _, te in folds]
    assert sorted(sum(tested, [])) == ["a", "b", "c", "d", "e"]
    for (tr, te) in folds:
        others = set(test["user_id"]) - set(te["user_id"])
        # the other users' held-out items went back into training, the fold's did not
        assert set(tr.loc[tr["item_id"] == "y", "user_id"]) == others


def test_fold_interval_against_a_hand_computation():
    from engine.evaluate.folds import fold_summary

    vals = [0.10, 0.12, 0.11, 0.09, 0.13]
    df = pd.DataFrame({"algorithm": "bpr", "fold_group": 1, "fold": range(5), "value": vals})
    row = fold_summary(df).iloc[0]
    # mean 0.11; s = sqrt(sum of squares 0.001 / 4) = 0.0158114; t(0.975, 4) = 2.776445
    half = 2.776445 * 0.0158114 / 5 ** 0.5
    assert row["mean"] == pytest.approx(0.11)
    assert row["ci_low"] == pytest.approx(0.11 - half, abs=1e-6)
    assert row["ci_high"] == pytest.approx(0.11 + half, abs=1e-6)
    assert row["n_folds"] == 5


def test_train_folds_stores_one_run_per_fold_grouped(db, capsys):
    assert main(["train", "--db", db, "--dataset", "small", "--algos", "popularity",
                 "--split", "leave_last_n", "--folds", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["fold"] for r in out] == [0, 1, 2, 3]
    assert len({r["fold_group"] for r in out}) == 1 and len({r["split_id"] for r in out}) == 4
    store = Store(db)
    tested = [set(R.test_items(store, r["split_id"])["user_id"]) for r in out]
    assert sum(len(t) for t in tested) == len(set().union(*tested))  # each user in one fold
    assert main(["train", "--db", db, "--dataset", "small", "--algos", "popularity",
                 "--folds", "1"]) == 2
    capsys.readouterr()
    assert main(["train", "--db", db, "--dataset", "small", "--algos", "popularity",
                 "--split", "leave_last_n", "--folds", "2", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert {r["fold_group"] for r in again} == {out[0]["fold_group"] + 1}


def test_timeout_stops_starting_trials(db, capsys):
    # Optuna checks the timeout after each trial: a tiny one lets exactly one trial run
    assert main(TUNE + ["--db", db, "--algo", "itemknn", "--trials", "50", "--timeout", "0.001",
                        "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_trials"] == 1
    assert main(TUNE + ["--db", db, "--algo", "itemknn", "--timeout", "0"]) == 2


def test_median_pruner_waits_for_half_of_a_trials_iterations(db, monkeypatch):
    """A slow starter is not stopped at a quarter of its epochs: the first trial reports
    0.5 at every share; the next ones report 0.0, below the median, and are pruned at
    50% (their stored values stop there), not at 25%."""
    store = Store(db)
    monkeypatch.setattr(tuning, "PRUNER_STARTUP", 1)
    plan = tuning.plan_study(store, dataset="small", algo="bpr", trials=3,
                             space_items=["bpr.factors=4..8"])

    def scripted(vdata, algo, params, *, seed=0, objectives=(), report=None):
        value = 0.5 if scripted.calls == 0 else 0.0
        scripted.calls += 1
        for pct in tuning.REPORT_PERCENTS:
            report(pct, value)  # raises TrialPruned once the pruner says so
        return [value]

    scripted.calls = 0
    monkeypatch.setattr(tuning, "run_trial", scripted)
    tuning.tune(store, plan, trials=3, split="leave_last_n", neighbours=0)
    rows = T.trials(store, plan.study_id)
    assert rows["state"].tolist() == ["COMPLETE", "PRUNED", "PRUNED"]
    assert [sorted(int(s) for s in d) for d in rows["intermediate"]] == [
        [25, 50, 75], [25, 50], [25, 50]]
