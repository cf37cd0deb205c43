"""Compare page logic without a browser (streamlit.testing AppTest) on a tiny store."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.unit.test_store_compare import build_tiny



@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "tiny.duckdb"
    build_tiny(path)
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    return path


def _run(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _html(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _params(at) -> dict:
    return {k: at.query_params[k] for k in at.query_params}


def test_deep_link_reproduces_the_view(db):
    at = _run(dataset="ds", runs="1,2", user="u1", k="3")
    html = _html(at)
    assert "#1 als" in html and "#2 popularity" in html
    # u1's lists in rank order, Japanese titles intact; i3 is u1's held-out item (a hit)
    als = html[html.index("#1 als"):html.index("#2 popularity")]
    assert als.index("カフェスタッフ") < als.index("コンビニ店員") < als.index("データ入力")
    assert 'class="rs-row hit"' in als and "top 3: 1 hit · 1 only here" in als
    assert at.text_input(key="_cmp_user").value == "u1"
    assert at.multiselect(key="_cmp_runs").value == [1, 2]
    assert at.selectbox(key="_cmp_k").value == 3
    # overlap table: hand-computed in tests/unit/test_store_compare.py
    ov = next(d.value for d in at.dataframe if "RBO" in d.value.columns)
    assert ov.loc[0, "RBO"] == pytest.approx(0.585) and ov.loc[0, "Shared"] == 2
    metrics = next(d.value for d in at.dataframe if "metric" in d.value.columns)
    assert metrics.set_index("metric").loc["ndcg@3"].tolist() == [1.0, 0.5]
    assert _params(at)["user"] == "u1" and _params(at)["runs"] == "1,2"


def test_first_visit_picks_runs_and_a_user_with_a_hit_and_writes_the_link(db):
    at = _run(dataset="ds")
    p = _params(at)
    assert p["runs"] == "1,2" and p["k"] == "3"            # the runs store top-3
    assert p["user"] in {"u1", "u2"}                         # users for whom a run hits
    assert "#1 als" in _html(at)


def test_choosing_another_user_and_runs_updates_lists(db):
    at = _run(dataset="ds", runs="1,2", user="u1", k="3")
    at.text_input(key="_cmp_user").input("u2").run()
    assert not at.exception
    assert _params(at)["user"] == "u2"
    html = _html(at)
    assert "User `u2`" in _texts(at.markdown) and "コンビニ店員" in html
    at.multiselect(key="_cmp_runs").unselect(1).run()
    assert not at.exception
    assert _params(at)["runs"] == "2"
    assert "#1 als" not in _html(at) and "#2 popularity" in _html(at)


def test_bad_links_get_one_friendly_sentence(db):
    at = _run(dataset="nope", runs="1,2", user="u1")
    assert "There is no dataset named “nope”" in _texts(at.warning)

    at = _run(dataset="ds", runs="1,abc,99,3", user="u1", k="3")
    w = _texts(at.warning)
    assert "“abc” is not a run id" in w and "no run 99" in w
    assert "run 3 belongs to dataset “other”" in w
    assert _params(at)["runs"] == "1"

    at = _run(dataset="ds", runs="1,2", user="zzz", k="3")
    assert "There is no user “zzz” in dataset “ds”" in _texts(at.warning)
    assert "Surprise me" in [b.label for b in at.button]

    at = _run(dataset="ds", runs="1,2", user="u1", k="ten")
    assert "k=“ten” in the link is not a whole number" in _texts(at.warning)
    at = _run(dataset="ds", runs="1,2", user="u1", k="99")
    assert "outside 1 to 3" in _texts(at.warning)
    assert _params(at)["k"] == "3"

    at = _run(dataset="ds", runs="3")
    assert "belongs to dataset “other”" in _texts(at.warning)


def test_user_without_lists_is_explained(db):
    at = _run(dataset="ds", runs="1,2", user="u3", k="3")
    assert "has no list for user “u3”" in _texts(at.info)


def test_surprise_me_picks_a_user(db):
    at = _run(dataset="ds", runs="1,2", user="zzz", k="3")
    at.button[0].click().run()
    assert not at.exception
    assert _params(at)["user"] in {"u1", "u2"}
    assert at.text_input(key="_cmp_user").value == _params(at)["user"]


def test_disagreement_tab_lists_users_most_different_first(db):
    at = _run(dataset="ds", runs="1,2", user="u1", k="3", view="Where they disagree")
    table = next(d.value for d in at.dataframe if "User" in d.value.columns)
    assert table["User"].tolist() == ["u1", "u2"]
    assert table.loc[0, "RBO"] == pytest.approx(0.585) and table.loc[1, "RBO"] == pytest.approx(1.0)


def test_exposure_tab_counts_items(db):
    at = _run(dataset="ds", runs="1,2", user="u1", k="3", view="Exposure across users")
    summary = next(d.value for d in at.dataframe if "Distinct items" in d.value.columns)
    assert summary["Distinct items"].tolist() == [4, 4]
    pushes = [d.value for d in at.dataframe if "Item" in d.value.columns]
    assert pushes[0]["Item"].tolist() == ["データ入力"]        # only als recommends i5
    assert pushes[1]["Item"].tolist() == ["i6"]               # only popularity recommends i6
