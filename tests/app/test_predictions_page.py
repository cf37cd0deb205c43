"""The Predictions page and the Runs page's relevance selector (AppTest)."""

from __future__ import annotations

import pytest

from tests.app.conftest import run_page, texts


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from tests.fixtures.predict_store import build_predict_store

    path = tmp_path_factory.mktemp("predapp") / "p.duckdb"
    return path, build_predict_store(path)


@pytest.fixture
def db(built, monkeypatch):
    monkeypatch.setenv("RECSCOPE_DB", str(built[0]))
    return built


def test_predictions_page_shows_the_model_and_its_charts(db):
    _, info = db
    at = run_page("predictions.py", dataset="jb")
    tables = [t.value for t in at.dataframe]
    models = tables[0]
    assert models["ROC-AUC"].iloc[0] == f"{info['model']['roc_auc']:.4f}"
    assert models["Oracle AUC"].iloc[0] == f"{info['model']['oracle_roc_auc']:.4f}"
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # reliability, gain, importance
    md = texts(at.markdown)
    assert f"Run #{info['rerank']}" in md
    assert "None" not in md and "nan" not in md


def test_lookup_shows_contributions(db):
    at = run_page("predictions.py", dataset="jb", user="U00001", item="J00001")
    table = at.dataframe[-1].value
    assert "Contribution (log-odds)" in table.columns
    assert len(table) > 5
    assert not table.astype(str).isin(["None", "nan", "NaT"]).any().any()


def test_relevance_selector_changes_the_runs_table(db):
    at_any = run_page("runs.py", dataset="jb")
    at_apply = run_page("runs.py", dataset="jb", relevance="apply")
    t_any, t_apply = at_any.dataframe[0].value, at_apply.dataframe[0].value
    col = "ndcg@10"
    assert col in t_any.columns
    a = dict(zip(t_any["Run"], t_any[col]))
    b = dict(zip(t_apply["Run"], t_apply[col]))
    assert a.keys() == b.keys() and a != b


def test_compare_links_a_reranked_run_to_its_model_and_judges_by_applications(db):
    _, info = db
    src, new = info["runs"][1], info["rerank"]
    at = run_page("compare.py", dataset="jb", runs=f"{src},{new}", relevance="apply")
    caps = texts(at.caption)
    mid = info["model"]["model_id"]
    assert f"Run #{new} re-ranks run #{src}" in caps and f"predictions?dataset=jb&model={mid}" in caps
    assert "Judged against held-out applications only" in caps
    table = at.dataframe[0].value
    assert len(table) == 2 and "ndcg@10" in table.columns
    assert "None" not in caps
