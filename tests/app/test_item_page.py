"""Item page logic without a browser (streamlit.testing AppTest) on the tiny store of
tests/unit/test_runs_views.py (run 2 gives i2 to u1@1, u2@2, u3@3, u5@3, u6@2)."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import run_page
from tests.app.conftest import texts as _texts
from tests.unit.test_runs_views import build_tiny_store



@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "tiny.duckdb"
    build_tiny_store(path)
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    return path


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
