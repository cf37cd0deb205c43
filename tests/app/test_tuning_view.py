"""The Runs page's Tuning and Cross-validation views (viewer/tuning_view.py) under
AppTest, on a small store with one finished study and one fold group."""

from __future__ import annotations

import pytest

from engine.cli import main
from engine.store import Store
from engine.store.datasets import save_dataset
from tests.app.conftest import run_page, texts
from tests.unit.test_tuning import small_dataset


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("tuneapp") / "t.duckdb"
    save_dataset(Store(path), small_dataset())
    base = ["--db", str(path), "--dataset", "small", "--split", "leave_last_n", "--neighbours", "0"]
    assert main(["tune", *base, "--algo", "bpr", "--trials", "4", "--space", "bpr.iterations=3..6",
                 "--space", "bpr.factors=4..8"]) == 0
    assert main(["train", *base, "--algos", "popularity,itemknn", "--folds", "3"]) == 0
    return path


@pytest.fixture
def db(built, monkeypatch):
    monkeypatch.setenv("RECSCOPE_DB", str(built))
    return built


def test_tuning_view_shows_the_study_and_its_charts(db):
    at = run_page("runs.py", dataset="small", mode="tuning")
    assert not at.warning, texts(at.warning)
    assert "#1 bpr" in at.selectbox(key="study").format_func(at.selectbox(key="study").value)
    assert any("Final run" in m.label for m in at.metric)
    trials = at.dataframe[0].value
    assert trials["trial"].tolist() == [0, 1, 2, 3]
    assert {"learning_rate", "regularization", "ndcg@10", "seconds"} <= set(trials.columns)
    assert "None" not in trials.to_string() and "nan" not in trials.to_string()


def test_folds_view_shows_mean_and_interval(db):
    at = run_page("runs.py", dataset="small", mode="cross-validation")
    table = at.dataframe[0].value
    assert sorted(table["algorithm"]) == ["itemknn", "popularity"]
    assert table["folds"].tolist() == [3, 3]
    assert any("(fold, user)" in t for t in (str(c.value) for c in at.caption))


def test_start_a_study_from_the_page(tmp_path, monkeypatch):
    path = tmp_path / "fresh.duckdb"
    save_dataset(Store(path), small_dataset())
    assert main(["train", "--db", str(path), "--dataset", "small", "--algos", "popularity",
                 "--neighbours", "0"]) == 0
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    at = run_page("runs.py", dataset="small", mode="tuning")
    assert "No tuning study" in texts(at.info)
    at.selectbox[1].set_value("itemknn")   # the form's algorithm (after the dataset picker)
    at.number_input[0].set_value(3)
    at.button[0].click().run(timeout=120)
    assert not at.exception, at.exception
    from engine.store import tuning as T

    st = T.list_studies(Store(path), "small")
    assert st["algorithm"].tolist() == ["itemknn"] and st["n_trials"].tolist() == [3]
    assert st["run_id"].notna().all()
