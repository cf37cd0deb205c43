"""Health warnings on the Runs table and the Compare cards (AppTest), on the tiny stores
of tests/fixtures with one warning stored for one run by hand."""

from __future__ import annotations

from engine.store import Store
from engine.store import runs as R
from tests.app.conftest import run_page
from tests.app.conftest import texts as _texts
from tests.fixtures.compare_store import build_tiny

SENTENCE = "Did not converge: bpr ordered only 50.1% of its training pairs correctly in its last epoch."


def _warn(path, run_id: int) -> None:
    with Store(path).transaction() as con:
        con.execute("INSERT INTO run_warnings VALUES (?, 'not_converged', ?, 0.501)",
                    [run_id, SENTENCE])


def test_runs_table_marks_the_warned_run_and_lists_its_sentence(tiny_db):
    _warn(tiny_db, 2)
    at = run_page("runs.py", dataset="tiny")
    table = next(d.value for d in at.dataframe if "Compare" in d.value.columns)
    health = dict(zip(table["Run"], table["Health"]))
    assert health["#2 itemknn"] == "⚠️ 1: " + SENTENCE
    # a run without warnings shows nothing (no "None", no icon)
    assert health["#1 popularity"] == "" and health["#4 bpr"] == ""
    assert "1 run(s) have health warnings" in _texts(at.warning)
    assert "#2 itemknn**: " + SENTENCE in _texts(at.warning)
    help_text = at.dataframe[0].proto.columns
    assert "worse than popularity" in help_text


def test_runs_page_without_warnings_shows_no_health_note(tiny_db):
    at = run_page("runs.py", dataset="tiny")
    assert "health warnings" not in _texts(at.warning)
    table = next(d.value for d in at.dataframe if "Compare" in d.value.columns)
    assert set(table["Health"]) == {""}


def test_compare_card_of_a_warned_run_shows_the_sentence(tmp_path, monkeypatch):
    path = tmp_path / "tiny.duckdb"
    build_tiny(path)
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    _warn(path, 2)
    assert not R.run_warnings(Store(path), [2]).empty
    at = run_page("compare.py", dataset="ds", runs="1,2", user="u1", k="3")
    html = "\n".join(m.value for m in at.markdown)
    als, pop = html[html.index("#1 als"):html.index("#2 popularity")], html[html.index("#2 popularity"):]
    assert 'class="rs-warn"' not in als
    assert 'class="rs-warn"' in pop and "⚠️ Did not converge: bpr ordered only 50.1%" in pop
