"""Item page logic without a browser (streamlit.testing AppTest) on the tiny store of
tests/unit/test_runs_views.py (run 2 gives i2 to u1@1, u2@2, u3@3, u5@3, u6@2)."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import run_page
from tests.app.conftest import texts as _texts


@pytest.fixture
def db(tiny_db):
    return tiny_db


def _run(**params) -> AppTest:
    return run_page("item.py", **params)


def _html(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _frame(at, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a column {column!r}")


def test_deep_link_shows_item_audience_and_neighbours(db):
    at = _run(dataset="tiny", item="i2")
    assert at.header[0].value == "京都の旅館フロント"
    attrs = _frame(at, "Detail")
    assert dict(zip(attrs["Detail"], attrs["Value"])) == {"hourly wage": "¥1,020", "employer": "株式会社2"}
    aud = _frame(at, "Users who get it").set_index("Run")
    assert aud.loc["#2 itemknn", "Users who get it"] == 5
    assert aud.loc["#2 itemknn", "Hits"] == 1 and aud.loc["#1 popularity", "Users who get it"] == 0
    assert aud.loc["#2 itemknn", "Share of evaluated users"] == pytest.approx(500 / 6)
    # "recommended together" defaults to the run that gives the item to most users (run 2)
    assert at.selectbox(key="_item_run").value == 2
    html = _html(at)
    assert "Recommended together by #2 itemknn" in html
    # i1 shares 4 of the 5 lists holding i2: first, with its title and an item link
    together = html[html.index("Recommended together by"):]
    assert together.index("大阪のカフェスタッフ") < together.index("札幌の塾講師")
    assert 'href="item?dataset=tiny&amp;item=i1"' in together
    sample = _frame(at, "Open")
    first = sample[sample["Run"] == "#2 itemknn"].iloc[0]
    assert (first["User"], first["Rank"], bool(first["Hit"])) == ("u1", 1, True)
    assert first["Open"] == "compare?dataset=tiny&runs=2%2C4&user=u1"
    assert {k: at.query_params[k] for k in at.query_params} == {"dataset": "tiny", "item": "i2", "run": "2"}


def test_co_interaction_neighbours_use_the_runs_split(db):
    at = _run(dataset="tiny", item="i8")
    html = _html(at)
    sim = html[html.index("Similar by co-interaction"):html.index("Recommended together")]
    # on split 1's train part i9 is closest to i8 (5 / sqrt(30)), then i7 (4 / sqrt(20))
    assert "split #1" in sim
    assert sim.index("広島の配送ドライバー") < sim.index("神戸のパン屋")
    assert "0.913" in sim


def test_unknown_item_and_dataset_get_a_way_on(db):
    at = _run(dataset="tiny", item="zzz")
    assert "no item with id “zzz”" in _texts(at.warning)
    # the search takes over: the most popular item is shown instead
    assert at.selectbox(key="_item_pick").value == "i9"
    assert at.query_params["item"] == "i9"
    at = _run(dataset="elsewhere", item="i1")
    assert "no dataset named “elsewhere”" in _texts(at.warning)
    assert at.header[0].value == "大阪のカフェスタッフ"


def test_search_by_title_substring(db):
    at = _run(dataset="tiny", item="i9")
    at.text_input(key="_item_q").input("寿司").run()
    assert not at.exception
    assert at.selectbox(key="_item_pick").options == ["東京の寿司職人 · i0 · 1 user"]
    assert at.header[0].value == "東京の寿司職人"
    assert at.query_params["item"] == "i0"
    at.text_input(key="_item_q").input("no such thing").run()
    assert "matches “no such thing”" in _texts(at.info)


def test_bad_run_in_link(db):
    at = _run(dataset="tiny", item="i2", run="3")
    assert "run=“3”" in _texts(at.warning)
    assert at.selectbox(key="_item_run").value == 2


def test_top_share_keeps_a_significant_digit(db):
    """Forrest Gump, #1 of 9,724 MovieLens items, read 'top 0.0%'."""
    from viewer.item_view import top_share_text

    assert top_share_text(1, 9724) == "top 0.01%"
    assert top_share_text(1, 2000) == "top 0.05%"
    assert top_share_text(30, 2000) == "top 1.5%"
    assert top_share_text(3, 6) == "top 50%"
    at = _run(dataset="tiny", item="i2")
    assert "items (top " in _texts(at.caption) and "top 0.0%" not in _texts(at.caption)


@pytest.fixture
def db_nb(db):
    """The tiny store plus model neighbours kept by run 2 (itemknn) and run 4 (bpr);
    run 4 has the better nDCG@10, so it is the default "Similar according to"."""
    from engine.store import Store

    with Store(db).transaction() as con:
        con.execute("INSERT INTO item_neighbours VALUES (2, 'i2', 1, 'i1', 0.8), "
                    "(2, 'i2', 2, 'i3', 0.6), (4, 'i2', 1, 'i9', 0.95), (4, 'i2', 2, 'i0', 0.5)")
        con.execute("INSERT INTO metrics VALUES (2, 'ndcg', 10, 0.3), (4, 'ndcg', 10, 0.7)")
    return db


def test_model_neighbours_default_to_the_best_run_and_follow_simrun(db_nb):
    at = _run(dataset="tiny", item="i2")
    assert at.selectbox(key="_item_simrun").options == ["#2 itemknn", "#4 bpr"]
    assert at.selectbox(key="_item_simrun").value == 4
    html = _html(at)
    card = html[html.index("Similar by #4 bpr"):html.index("Similar by co-interaction")]
    assert card.index("広島の配送ドライバー") < card.index("東京の寿司職人")   # i9 then i0
    assert "cosine of the two items" in card and "factor vectors" in card and "0.950" in card
    assert at.query_params["simrun"] == "4"

    at = _run(dataset="tiny", item="i2", simrun="2")
    assert at.selectbox(key="_item_simrun").value == 2
    html = _html(at)
    card = html[html.index("Similar by #2 itemknn"):html.index("Similar by co-interaction")]
    assert card.index("大阪のカフェスタッフ") < card.index("札幌の塾講師")      # i1 then i3
    assert "item-item cosine similarity" in card
    assert 'href="item?dataset=tiny&amp;item=i1"' in card
    # both pickers keep their own parameter
    assert {k: at.query_params[k] for k in at.query_params} == {
        "dataset": "tiny", "item": "i2", "simrun": "2", "run": "2"}


def test_unknown_simrun_gets_a_warning_and_the_default(db_nb):
    for bad in ("1", "99", "x"):   # 1: a run without neighbours (popularity)
        at = _run(dataset="tiny", item="i2", simrun=bad)
        assert f"simrun=“{bad}”" in _texts(at.warning)
        assert at.selectbox(key="_item_simrun").value == 4
        assert at.query_params["simrun"] == "4"


def test_item_without_model_neighbours(db_nb):
    at = _run(dataset="tiny", item="i5", simrun="2")
    assert "has no neighbours for this item" in _html(at)


def test_no_run_with_neighbours_says_how_to_get_them(db):
    at = _run(dataset="tiny", item="i2")
    assert "kept its model's item neighbours" in _texts(at.info)
    assert "Similar by co-interaction" in _html(at)


def _runs_before_run_2(store, dataset=None):
    """The run list as read a moment before run 2 was written (a trainer writing while
    the page renders): later reads of the same render already see run 2."""
    from engine.store.runs import list_runs

    runs = list_runs(store, dataset)
    return runs[runs["run_id"] != 2].reset_index(drop=True)


def test_a_run_newer_than_the_run_list_waits_for_the_next_render(db, monkeypatch):
    import viewer.runs_view

    monkeypatch.setattr(viewer.runs_view, "list_runs", _runs_before_run_2)
    at = _run(dataset="tiny", item="i2")     # run_page asserts: no exception
    aud = _frame(at, "Users who get it").set_index("Run")
    assert "#2 itemknn" not in aud.index and "#1 popularity" in aud.index
