"""Health warnings of a run (engine/evaluate/health.py, engine/services/health.py): each
rule on hand-made inputs, then a broken run warned and a good run not on a small job
board, through the store and ``recscope runs --json``."""

from __future__ import annotations

import json
import math
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
import scipy.stats

from engine.data.synthetic import make_job_board
from engine.evaluate import health as H
from engine.importrun import import_run
from engine.pipeline import train_runs
from engine.recommend.registry import changed_text, non_default_params
from engine.store import Store
from engine.store import core
from engine.store import runs as R
from engine.store.datasets import save_dataset

BROKEN_BPR = {"bpr": {"learning_rate": 0.0001, "iterations": 1}}


def _recs(lists: dict[str, list[str]], scores: dict[str, list[float]] | None = None) -> pd.DataFrame:
    rows = []
    for u, items in lists.items():
        for r, i in enumerate(items):
            s = (scores or {}).get(u, [1.0 - r / 100] * len(items))[r]
            rows.append((u, r + 1, i, s))
    return pd.DataFrame(rows, columns=["user_id", "rank", "item_id", "score"])


# --------------------------------------------------------------------------- the rules

def test_worse_than_popularity_uses_a_paired_t_test_below_005():
    users = [f"u{i}" for i in range(8)]
    base = pd.Series([1, 1, 1, 1, 0.5, 0.5, 0, 1.0], index=users)
    run = pd.Series([0, 0, 1, 0, 0.5, 0, 0, 0.0], index=users)
    d = (run - base).to_numpy()
    # the paired t statistic by hand: mean / (sd / sqrt(n)), two-sided
    t = d.mean() / (d.std(ddof=1) / math.sqrt(len(d)))
    p = 2 * scipy.stats.t.sf(abs(t), len(d) - 1)
    assert p < 0.05
    w = H.worse_than_popularity("als", run, base)
    assert w["code"] == "worse_than_popularity" and w["value"] == pytest.approx(p)
    assert "0.1875 against 0.7500 over 8 users" in w["message"] and "als." in w["message"]
    # popularity itself and random (the floor) are never compared against popularity
    assert H.worse_than_popularity("popularity", run, base) is None
    assert H.worse_than_popularity("random", run, base) is None
    # better than popularity, or not significantly worse: no warning
    assert H.worse_than_popularity("als", base, run) is None
    close = base.copy()
    close.iloc[0] = 0.0  # one user lower: p = 0.35
    assert H.worse_than_popularity("als", close, base) is None
    # paired on the users both have
    assert H.worse_than_popularity("als", run.iloc[:1], base) is None


def test_score_rules_nan_near_zero_and_constant():
    lists = {"u1": ["a", "b", "c"], "u2": ["a", "b", "c"], "u3": ["a", "b", "c"]}
    nan = _recs(lists, {"u1": [1.0, np.nan, 0.5], "u2": [1.0, 0.9, 0.8], "u3": [1.0, 0.9, 0.8]})
    got = {w["code"]: w for w in H.score_checks("bpr", nan)}
    assert got["non_finite_scores"]["value"] == pytest.approx(1 / 9)
    tiny = _recs(lists, {u: [3e-9, 2e-9, 1e-9] for u in lists})
    got = {w["code"]: w for w in H.score_checks("ease", tiny)}
    assert got["near_zero_scores"]["value"] == pytest.approx(2e-9)
    assert "lower ease.regularization" in got["near_zero_scores"]["message"]
    # two of three lists constant: 67% > half
    flat = _recs(lists, {"u1": [0.5, 0.5, 0.5], "u2": [2.0, 2.0, 2.0], "u3": [1.0, 0.9, 0.8]})
    got = {w["code"]: w for w in H.score_checks("als", flat)}
    assert got["constant_scores"]["value"] == pytest.approx(2 / 3)
    assert "67%" in got["constant_scores"]["message"]
    # healthy scores, and an imported run without scores: nothing
    assert H.score_checks("als", _recs(lists)) == []
    assert H.score_checks("prod", _recs(lists).assign(score=np.nan)) == []


def test_list_rules_concentration_coverage_and_short_lists():
    # 20 users, top-10 lists: 15 users get the same 10 items, 5 users 10 items of their own
    same = [f"i{j}" for j in range(10)]
    lists = {f"u{n}": (same if n < 15 else [f"x{n}_{j}" for j in range(10)]) for n in range(20)}
    got = {w["code"]: w for w in H.list_checks("als", _recs(lists), n_items=1000, n_users=20)}
    # the ten shared items fill 150 of 200 slots
    assert got["concentrated"]["value"] == pytest.approx(0.75)
    assert "75%" in got["concentrated"]["message"]
    # 60 distinct items of min(1000 items, 200 slots): 30%, no collapse
    assert "low_coverage" not in got and "short_lists" not in got
    # popularity recommends the same list to everyone by design
    assert H.list_checks("popularity", _recs(lists), n_items=1000, n_users=20) == []
    # everyone the same 10 items: 10 of min(2000, 2000 slots) = 0.5% < 1%
    everyone = {f"u{n}": same for n in range(200)}
    got = {w["code"]: w for w in H.list_checks("bpr", _recs(everyone), n_items=5000, n_users=200)}
    assert got["low_coverage"]["value"] == pytest.approx(10 / 2000)
    # 3 of 20 users with fewer than 10 items (one of them with no list at all): 15% > 10%
    short = dict(lists)
    short["u0"], short["u1"] = same[:4], same[:9]
    del short["u2"]
    got = {w["code"]: w for w in H.list_checks("itemknn", _recs(short), n_items=1000, n_users=20)}
    assert got["short_lists"]["value"] == pytest.approx(3 / 20)
    assert "raise the number of neighbours" in got["short_lists"]["message"]


def test_fit_and_split_rules():
    assert H.fit_checks("bpr", {"train_auc": 0.501})[0]["code"] == "not_converged"
    assert "50.1%" in H.fit_checks("bpr", {"train_auc": 0.501})[0]["message"]
    assert H.fit_checks("bpr", {"train_auc": 0.70}) == []
    assert H.fit_checks("als", {}) == [] and H.fit_checks("als", None) == []
    assert H.split_checks(99)[0]["value"] == 99
    assert H.split_checks(100) == []


def test_every_message_is_one_sentence_with_what_to_try():
    lists = {f"u{n}": ["a"] for n in range(50)}
    ws = H.check_run("bpr", _recs(lists, {u: [0.0] for u in lists}),
                     pd.DataFrame(columns=["user_id", "metric", "k", "value"]),
                     n_items=10, n_test_users=50, fit_info={"train_auc": 0.5})
    codes = {w["code"] for w in ws}
    assert {"not_converged", "near_zero_scores", "short_lists", "few_test_users"} <= codes
    for w in ws:
        # one sentence: ends with a full stop, no second sentence begins inside it
        assert w["message"].endswith(".") and not re.search(r"[.;] [A-Z]", w["message"]), w
        assert re.search(r"; (raise|lower|use|check) ", w["message"]), w  # what to try
        assert any(c.isdigit() for c in w["message"])


# --------------------------------------------------------------------------- changed params

def test_changed_params_are_the_non_default_ones():
    params = {"factors": 64, "iterations": 1, "learning_rate": 0.0001, "regularization": 0.01,
              "seed": 0}
    assert non_default_params("bpr", params) == {"iterations": 1, "learning_rate": 0.0001}
    assert changed_text("bpr", json.dumps(params)) == "iterations=1, learning_rate=0.0001"
    assert changed_text("als", {"factors": 64, "seed": 3}) == "seed=3"
    assert changed_text("als", {}) == "defaults"
    # an imported run: every parameter is its own
    assert non_default_params("prod", {"file": "x.csv"}) == {"file": "x.csv"}


# --------------------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """400 users x 200 items; ALS with defaults and BPR that cannot learn (learning rate
    1e-4, one epoch), no popularity run (the baseline is computed in-process)."""
    store = Store(tmp_path_factory.mktemp("health") / "h.duckdb")
    save_dataset(store, make_job_board(seed=1, name="small", n_users=400, n_items=200,
                                       n_reviews=0))
    out = train_runs(store, "small", ["als", "bpr"], params=BROKEN_BPR, neighbours=0)
    return store, {r["algorithm"]: r["run_id"] for r in out}


def test_a_broken_run_is_warned_and_a_good_run_is_not(board):
    store, ids = board
    w = R.run_warnings(store)
    assert set(w["run_id"]) == {ids["bpr"]}
    codes = set(w["code"])
    assert {"not_converged", "worse_than_popularity"} <= codes
    msg = w.set_index("code").loc["not_converged", "message"]
    assert "raise bpr.learning_rate" in msg


def test_the_baseline_is_the_popularity_run_when_there_is_one(board):
    store, ids = board
    split_id = R.get_run(store, ids["als"])["split_id"]
    train, test = R.load_split(store, split_id)
    computed = H.popularity_user_metric(train, test)
    pop = train_runs(store, "small", ["popularity"], neighbours=0)[0]["run_id"]
    stored = R.user_metric_series(store, pop, "ndcg", 10)
    a, b = computed.align(stored, join="outer")
    assert np.allclose(a.to_numpy(), b.to_numpy())
    assert R.run_warnings(store, [pop]).empty


def test_an_imported_run_is_checked_too(board, tmp_path):
    store, ids = board
    split_id = R.get_run(store, ids["als"])["split_id"]
    test_users = sorted(set(R.test_items(store, split_id)["user_id"]))
    # everyone gets the same 10 least-watched items: worse than popularity
    train = R.train_items(store, split_id)
    cold = train["item_id"].value_counts().index[-10:].tolist()
    f = tmp_path / "lists.csv"
    pd.DataFrame([(u, i, r + 1) for u in test_users for r, i in enumerate(cold)],
                 columns=["user_id", "item_id", "rank"]).to_csv(f, index=False)
    rid = import_run(store, f, "small", "prod", split_id=split_id)
    codes = set(R.run_warnings(store, [rid])["code"])
    assert "worse_than_popularity" in codes and "concentrated" in codes


def test_runs_json_has_warnings_and_changed_params(board, capsys):
    from engine.cli import main

    store, ids = board
    assert main(["runs", "--db", str(store.path), "--dataset", "small", "--json"]) == 0
    rows = {r["run_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[ids["als"]]["warnings"] == []
    warned = rows[ids["bpr"]]["warnings"]
    assert warned and all(set(w) == {"code", "message"} for w in warned)
    assert rows[ids["bpr"]]["changed_params"] == {"iterations": 1, "learning_rate": 0.0001}
    assert main(["runs", "--db", str(store.path), "--dataset", "small"]) == 0
    out = capsys.readouterr().out
    assert "iterations=1, learning_rate=0.0001" in out
    assert f"run {ids['bpr']} warning: Did not converge" in out


def test_an_older_store_without_the_table_still_opens(tmp_path):
    path = tmp_path / "old.duckdb"
    store = Store(path)
    save_dataset(store, make_job_board(seed=0, name="b", n_users=50, n_items=30, n_reviews=0))
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE run_warnings")
    con.close()
    core._initialised.discard(str(path.resolve()))  # as a new process would open it
    assert R.run_warnings(Store(path)).empty


@pytest.mark.slow
def test_on_the_demo_a_broken_bpr_is_warned_and_default_als_is_not(tmp_path):
    """The demo's job board (the same data `recscope demo` builds), trained as in the
    issue: default ALS and BPR with learning_rate 1e-4 for one iteration."""
    store = Store(tmp_path / "demo.duckdb")
    save_dataset(store, make_job_board(seed=0))
    out = train_runs(store, "jobboard", ["popularity", "als", "bpr"], params=BROKEN_BPR,
                     neighbours=0)
    ids = {r["algorithm"]: r["run_id"] for r in out}
    w = R.run_warnings(store)
    assert set(w["run_id"]) == {ids["bpr"]}
    assert "not_converged" in set(w["code"])


def test_a_check_that_fails_is_a_warning_not_a_failed_run(board, monkeypatch):
    from engine.services import health as SH

    store, ids = board

    def boom(*a, **k):
        raise ValueError("bad input to a rule")

    monkeypatch.setattr(SH.H, "check_run", boom)
    rid = train_runs(store, "small", ["itemknn"], neighbours=0)[0]
    assert rid["status"] == "done"
    w = R.run_warnings(store, [rid["run_id"]])
    assert w["code"].tolist() == ["unchecked"] and "ValueError: bad input" in w["message"][0]
