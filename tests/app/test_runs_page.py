"""Runs page logic without a browser (streamlit.testing AppTest) on the tiny store of
tests/unit/test_runs_views.py (runs 1 popularity and 2 itemknn on split 1, 3 ease failed,
4 bpr on split 2; per-user ndcg and hit_rate at K=3)."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import run_page
from tests.app.conftest import texts as _texts
from tests.app.conftest import url_params as _params


@pytest.fixture
def db(tiny_db):
    return tiny_db


def _run(**params) -> AppTest:
    return run_page("runs.py", **params)


#: a column that identifies each of the page's tables (AppTest does not keep their keys)
_MARKER = {"_runs_table": "Compare", "_runs_paired": "B − A", "_runs_dist_table": "median"}


def _frame(at, key: str) -> pd.DataFrame:
    for df in at.dataframe:
        if _MARKER[key] in df.value.columns:
            return df.value
    raise AssertionError(f"no table like {key}")


def test_table_sorted_by_metric_with_definitions_and_failed_reason(db):
    at = _run(dataset="tiny")
    table = _frame(at, "_runs_table")
    # ndcg@3: run 4 1.0 (one user), run 2 (2 + 1/log2 3)/6, run 1 (1 + 1/log2 3 + .5)/6
    assert table["Run"].tolist() == ["#4 bpr", "#2 itemknn", "#1 popularity"]
    assert table["ndcg@3"].tolist() == pytest.approx([1.0, 0.43849, 0.35515], abs=1e-5)
    assert table["Parameters"].tolist()[:2] == ["factors=8", "K=100"]
    # beside the run, only what differs from the registry defaults (bpr: 64 factors)
    assert table["Changed params"].tolist()[:2] == ["factors=8", "defaults"]
    # the Compare link puts the run beside the best run (4) at this K
    assert table["Compare"].tolist()[1] == "compare?dataset=tiny&runs=2%2C4&k=3"
    assert "#3 ease" in _texts(at.warning) and "MemoryError: too big" in _texts(at.warning)
    # default selections, written back to the URL
    assert _params(at)["metric"] == "ndcg" and _params(at)["k"] == "3"
    # the analysed runs default to the split with most runs (split 1), best first
    assert at.multiselect(key="_runs_pick").value == [2, 1]
    assert _params(at)["runs"] == "2,1"


def test_metric_help_is_the_definition(db):
    from engine.evaluate.metrics import METRICS

    at = _run(dataset="tiny")
    cfg = at.dataframe[0].proto.columns
    assert METRICS["ndcg"] in cfg and METRICS["coverage"] in cfg


def test_deep_link_reproduces_selections(db):
    at = _run(dataset="tiny", runs="1,2", metric="hit_rate", k="3", x="novelty",
              view="Is the difference real?")
    assert at.selectbox(key="_runs_metric").value == "hit_rate"
    assert at.selectbox(key="_runs_x").value == "novelty"
    assert at.multiselect(key="_runs_pick").value == [1, 2]
    paired = _frame(at, "_runs_paired")
    row = paired.iloc[0]
    # per user B (run 2) − A (run 1) on hit_rate: +1 for u1..u3, −1 for u4..u6
    assert (row["A"], row["B"], row["Users"]) == ("#1 popularity", "#2 itemknn", 6)
    assert row["B − A"] == pytest.approx(0.0)
    assert row["B better / tie / A better"] == "3 / 0 / 3"
    assert "p Holm (t)" not in paired.columns     # one pair: no correction column
    assert not at.warning or "In this link" not in _texts(at.warning)


def test_three_runs_on_two_splits_pair_only_within_a_split(db):
    at = _run(dataset="tiny", runs="1,2,4", metric="ndcg", k="3")
    paired = _frame(at, "_runs_paired")
    assert paired[["A", "B"]].values.tolist() == [["#1 popularity", "#2 itemknn"]]
    assert "different splits" in _texts(at.caption)


def test_bad_link_gets_warnings_and_defaults(db):
    at = _run(dataset="nope", runs="99,abc,3,1", metric="bogus", k="7")
    warnings = _texts(at.warning)
    assert "no dataset named “nope”" in warnings
    assert "there is no run 99" in warnings and "“abc” is not a run id" in warnings
    assert "run 3 is failed" in warnings
    assert "metric=“bogus”" in warnings and "k=“7”" in warnings
    assert at.multiselect(key="_runs_pick").value == [1]
    assert _params(at)["metric"] == "ndcg" and _params(at)["k"] == "3"


def test_slices_cold_warm_from_link(db):
    at = _run(dataset="tiny", runs="1,2", view="By slice", slice="coldwarm", cold="3")
    assert at.radio(key="_runs_slice").value == "coldwarm"
    assert at.selectbox(key="_runs_cold").value == 3
    assert "cold (≤ 3 items): 3 · warm (> 3 items): 3" in _texts(at.caption)


def test_distribution_summary_table(db):
    at = _run(dataset="tiny", runs="1,2", metric="hit_rate", view="Per-user distribution")
    t = _frame(at, "_runs_dist_table")
    assert t["Run"].tolist() == ["#1 popularity", "#2 itemknn"]
    assert t["share with hit_rate = 0"].tolist() == pytest.approx([50.0, 50.0])
    assert t["mean"].tolist() == pytest.approx([0.5, 0.5])


def test_dataset_without_runs_offers_training(tmp_path, monkeypatch):
    from engine.data import Dataset
    from engine.store import Store
    from engine.store.datasets import save_dataset

    path = tmp_path / "s.duckdb"
    inter = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["x", "y", "x"]})
    save_dataset(Store(path), Dataset("fresh", inter, None, None, source="test"))
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    at = _run()
    assert "has no runs yet" in _texts(at.info)
    assert at.multiselect(key="_runs_train_algos") is not None


@pytest.fixture
def small(tmp_path, monkeypatch):
    """A 40 users x 30 items dataset "small" without runs."""
    import numpy as np

    from engine.data import Dataset
    from engine.store import Store
    from engine.store.datasets import save_dataset

    rng = np.random.default_rng(0)
    users = np.repeat([f"u{i}" for i in range(40)], 6)
    items = [f"i{j}" for j in rng.integers(0, 30, len(users))]
    ts = pd.date_range("2026-01-01", periods=len(users), freq="h")
    inter = pd.DataFrame({"user_id": users, "item_id": items, "timestamp": ts})
    path = tmp_path / "s.duckdb"
    save_dataset(Store(path), Dataset("small", inter, None, None, source="test"))
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    return path


def _stored_runs(path) -> pd.DataFrame:
    import json

    from engine.store import Store
    from engine.store.runs import list_runs

    runs = list_runs(Store(path), "small").sort_values("run_id")
    runs["params"] = [p if isinstance(p, dict) else json.loads(p or "{}") for p in runs["params"]]
    return runs


def test_train_button_adds_runs_with_progress(small):
    """Train popularity from the page on a small real dataset; the new run appears."""
    at = _run()
    at.multiselect(key="_runs_train_algos").set_value(["popularity", "random"])
    at.run()
    at.button(key="_runs_train_go").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    assert "Trained #1 popularity, #2 random" in _texts(at.success)
    table = _frame(at, "_runs_table")
    assert sorted(table["Run"]) == ["#1 popularity", "#2 random"]


def test_runs_on_several_splits_show_their_split_beside_the_run_and_a_note(db):
    """Run 4 (split 2, one test user, ndcg 1.0) topped a table of split-1 runs with its
    split in the last column: a number that cannot be compared read as the best run."""
    at = _run(dataset="tiny")
    table = _frame(at, "_runs_table")
    assert list(table.columns[:2]) == ["Run", "Split"]
    splits = dict(zip(table["Run"], table["Split"]))
    assert splits["#4 bpr"].startswith("#2 ") and splits["#1 popularity"].startswith("#1 ")
    assert "evaluated on 2 different splits" in _texts(at.info)


def test_a_repeated_bad_run_in_the_link_is_named_once(db):
    at = _run(dataset="tiny", runs="99,99")
    assert _texts(at.warning).count("there is no run 99") == 1


def test_panel_shows_each_algorithms_parameters_prefilled(small):
    from engine.recommend.registry import ALGORITHMS

    at = _run()
    at.multiselect(key="_runs_train_algos").set_value(["als", "bm25"])
    at.run()
    for algo in ("als", "bm25"):
        for name, default in ALGORITHMS[algo].defaults.items():
            box = at.number_input(key=f"_runs_p_{algo}_0_{name}")
            assert box.value == default and type(box.value) is type(default), (algo, name)
        assert ALGORITHMS[algo].description in _texts(at.caption)
    # whole-number parameters start at their RANGES minimum (1), B is capped at 1
    assert at.number_input(key="_runs_p_als_0_factors").min == 1
    assert at.number_input(key="_runs_p_bm25_0_B").max == 1.0


def test_trained_run_stores_the_parameters_set_in_the_panel(small):
    at = _run()
    at.multiselect(key="_runs_train_algos").set_value(["als", "popularity"])
    at.run()
    at.number_input(key="_runs_p_als_0_factors").set_value(8)
    at.number_input(key="_runs_p_als_0_iterations").set_value(2)
    at.number_input(key="_runs_train_k").set_value(7)
    at.button(key="_runs_train_go").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    assert "Trained #1 als, #2 popularity" in _texts(at.success)
    runs = _stored_runs(small)
    als = runs[runs["algorithm"] == "als"].iloc[0]
    assert als["status"] == "done"
    # changed values, the untouched defaults, and the seed
    assert als["params"] == {"factors": 8, "regularization": 0.05, "alpha": 1.0,
                             "iterations": 2, "seed": 0}
    assert int(als["k"]) == 20     # the longest list is max(EVAL_KS, K=7)
    table = _frame(at, "_runs_table").set_index("Run")
    assert "factors=8" in table.loc["#1 als", "Parameters"]
    assert table.loc["#1 als", "Changed params"] == "factors=8, iterations=2"
    assert table.loc["#2 popularity", "Changed params"] == "defaults"


def test_one_algorithm_twice_with_two_values(small):
    at = _run()
    at.multiselect(key="_runs_train_algos").set_value(["als"])
    at.run()
    at.button(key="_runs_more_als").click()
    at.run()
    at.number_input(key="_runs_p_als_0_factors").set_value(4)
    at.number_input(key="_runs_p_als_0_iterations").set_value(2)
    at.number_input(key="_runs_p_als_1_factors").set_value(6)
    at.number_input(key="_runs_p_als_1_iterations").set_value(2)
    at.button(key="_runs_train_go").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    runs = _stored_runs(small)
    assert runs["status"].tolist() == ["done", "done"]
    assert [p["factors"] for p in runs["params"]] == [4, 6]
    # both on one split, so they can be compared user by user
    assert runs["split_id"].nunique() == 1
    table = _frame(at, "_runs_table")
    assert sorted(table["Run"]) == ["#1 als", "#2 als"]


def test_a_value_make_refuses_is_one_sentence_and_trains_nothing(small):
    # alpha must be above 0; the widget's minimum (0.0) lets 0 through to make()
    at = _run()
    at.multiselect(key="_runs_train_algos").set_value(["als", "popularity"])
    at.run()
    at.number_input(key="_runs_p_als_0_alpha").set_value(0.0)
    at.button(key="_runs_train_go").click()
    at.run(timeout=60)
    assert not at.exception, at.exception
    assert _texts(at.error) == "Parameter 'alpha' of 'als' must be above 0.0; got 0.0."
    assert _stored_runs(small).empty


def test_only_changed_parameters_are_passed_and_rows_are_grouped_into_calls():
    from viewer.runs_view import changed_params, training_rounds

    defaults = {"factors": 64, "regularization": 0.05}
    assert changed_params({"factors": 64, "regularization": 0.05}, defaults) == {}
    assert changed_params({"factors": 32.0, "regularization": 0.05}, defaults) == {"factors": 32}
    rows = [("als", {"factors": 32}), ("als", {"factors": 128}), ("popularity", {}),
            ("bpr", {}), ("bpr", {"iterations": 5})]
    assert training_rounds(rows) == [
        (["als", "popularity", "bpr"], {"als": {"factors": 32}}),
        (["als", "bpr"], {"als": {"factors": 128}, "bpr": {"iterations": 5}})]


def test_model_seed_on_an_existing_split_keeps_the_split(small):
    """A second ALS run on the first run's split with another model seed: same split,
    seed 7 in its params, the split keeps seed 0."""
    at = _run()
    at.multiselect(key="_runs_train_algos").set_value(["als"])
    at.run()
    at.number_input(key="_runs_p_als_0_iterations").set_value(2)
    at.button(key="_runs_train_go").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    first = _stored_runs(small).iloc[0]
    # now the panel offers the existing split (the default choice) and a model seed
    at.selectbox(key="_runs_train_split").set_value(0)
    at.run()
    at.number_input(key="_runs_train_model_seed").set_value(7)
    at.button(key="_runs_train_go").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    runs = _stored_runs(small)
    assert len(runs) == 2
    second = runs.iloc[1]
    assert second["split_id"] == first["split_id"]
    assert (first["params"]["seed"], second["params"]["seed"]) == (0, 7)
