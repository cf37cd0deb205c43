"""Compare page logic without a browser (streamlit.testing AppTest) on a tiny store."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import run_page
from tests.app.conftest import texts as _texts
from tests.app.conftest import url_params as _params
from tests.fixtures.compare_store import build_tiny



@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "tiny.duckdb"
    build_tiny(path)
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    return path


def _run(**params) -> AppTest:
    return run_page("compare.py", **params)


def _html(at) -> str:
    return "\n".join(m.value for m in at.markdown)


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

    at = _run(dataset="ds", runs="99,99,1,1", user="u1", k="3")
    w = _texts(at.warning)
    assert "runs 1, 99 are listed more than once" in w
    assert w.count("no run 99") == 1
    assert _params(at)["runs"] == "1"


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


def _keep_factors(path) -> None:
    """Give ALS run 1 of the tiny store hand-made item factors (2 factors): i1 and i4
    along e1, i2 and i3 along e2, i5 between them, i6 zero."""
    import numpy as np

    from engine.store import Store
    from engine.store import runs as R

    Y = np.array([[1, 0], [0, 1], [0, 1], [1, 0], [0.5, 0.5], [0, 0]], dtype=np.float32)
    with Store(path, lock_timeout=5).transaction() as con:
        for name, value in ((R.ITEM_FACTORS, Y), (R.ITEM_IDS, ["i1", "i2", "i3", "i4", "i5", "i6"])):
            con.execute("INSERT INTO run_artifacts VALUES (1, ?, ?, ?)", [name, *R.encode_artifact(value)])


def _card(html: str, start: str, end: str | None = None) -> str:
    return html[html.index(start):html.index(end) if end else None]


def test_als_run_with_factors_shows_the_models_own_drivers(db):
    # without kept factors, every run shows the co-interaction stand-in, labelled as such
    html = _html(_run(dataset="ds", runs="1,2", user="u1", k="3"))
    assert "↳ driven by" not in html and "↳ like" in html
    assert "own explanation" not in html and html.count("data stand-in, not the model") == 2

    _keep_factors(db)
    at = _run(dataset="ds", runs="1,2", user="u1", k="3")
    html = _html(at)
    als, pop = _card(html, "#1 als", "#2 popularity"), _card(html, "#2 popularity")
    assert "the model&#x27;s own explanation" in als and "data stand-in" not in als
    # u1 trained on i1, i2 (weight 1, alpha 1: confidence 1), so W = (YtY + 0.05 I)^-1 with
    # YtY = [[2.25, .25], [.25, 2.25]]: i3 (along e2) gets e2'We2 = 2.3 / (2.3^2 - .25^2)
    # = 0.44 from i2 and -0.25 / 5.2275 from i1; i4 likewise 0.44 from i1.
    i3, i4 = als.index("カフェスタッフ"), als.index("コンビニ店員")
    assert "↳ driven by 倉庫内ピッキング (+0.44)" in als[i3:i4]
    assert "↳ driven by 看護師（日勤） (+0.44)" in als[i4:]
    assert "↳ driven by" not in pop and "↳ like" in pop and "data stand-in, not the model" in pop

    # the toggle hides both kinds and says so in the link
    at.toggle[0].set_value(False).run()
    assert not at.exception and at.query_params["why"] == "0"
    assert "↳" not in _html(at)
