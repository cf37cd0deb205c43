"""The "Download report" buttons (viewer/report_ui.py) build, on demand, the same file as
`recscope report` for the page's selection: identical bytes apart from the creation line."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from engine.cli import main
from engine.report.html import CREATED_PREFIX
from engine.report.service import ReportSpec
from engine.services import bandit_experiments as ex
from engine.store import Store
from tests.app.conftest import run_page
from tests.conftest import ROOT
from viewer.report_ui import report_key


def _without_created(data: bytes) -> str:
    return "\n".join(line for line in data.decode("utf-8").split("\n")
                     if not line.startswith(CREATED_PREFIX))


def _cli(tmp_path, db, *argv) -> bytes:
    out = tmp_path / "cli.html"
    assert main(["report", "--db", str(db), *argv, "--out", str(out)]) == 0
    return out.read_bytes()


def _prepare(at: AppTest, spec: ReportSpec) -> bytes:
    key = report_key(spec)
    assert key not in at.session_state            # a page load builds nothing
    prepare = [b for b in at.button if b.label == "Prepare report"]
    assert len(prepare) == 1
    prepare[0].click().run()
    assert not at.exception, at.exception
    return at.session_state[key]


def test_runs_and_compare_pages_give_the_cli_file(tiny_db, tmp_path):
    cli = _cli(tmp_path, tiny_db, "--dataset", "tiny", "--runs", "2,1", "--metric", "hit_rate",
               "--k", "3")
    at = run_page("runs.py", dataset="tiny", runs="2,1", metric="hit_rate", k="3")
    data = _prepare(at, ReportSpec("runs", dataset="tiny", runs=(2, 1), metric="hit_rate", k=3))
    assert _without_created(data) == _without_created(cli) and data.startswith(b"<!DOCTYPE html>")

    cli = _cli(tmp_path, tiny_db, "--dataset", "tiny", "--runs", "1,2", "--k", "3")
    at = run_page("compare.py", dataset="tiny", runs="1,2", k="3")
    data = _prepare(at, ReportSpec("runs", dataset="tiny", runs=(1, 2), k=3))
    assert _without_created(data) == _without_created(cli)


def test_bandits_page_gives_the_cli_file(tmp_path, monkeypatch):
    db = tmp_path / "b.duckdb"
    store = Store(db)
    eid = ex.new_experiment(store, name="<b>headlines</b>", rates=[0.02, 0.2],
                            arm_names=["low", "high"], batch_size=200, status="paused")
    ex.step(store, eid, 3)
    cli = _cli(tmp_path, db, "--experiment", str(eid))
    assert b"&lt;b&gt;headlines&lt;/b&gt;" in cli and b"<b>headlines" not in cli
    monkeypatch.setenv("RECSCOPE_DB", str(db))
    at = AppTest.from_file(str(ROOT / "pages" / "bandits.py"), default_timeout=90)
    at.query_params["experiment"] = str(eid)
    at.run()
    assert not at.exception, at.exception
    data = _prepare(at, ReportSpec("experiment", experiment=eid))
    assert _without_created(data) == _without_created(cli)


def test_reviews_page_gives_the_cli_file(tmp_path, monkeypatch):
    from engine.data.dataset import normalise_reviews
    from engine.reviews.model import ModelParams
    from engine.services.reviews import train_dataset
    from engine.store.datasets import save_reviews
    from tests.fixtures.reviews import make_reviews

    db = tmp_path / "r.duckdb"
    store = Store(db)
    save_reviews(store, "toy", normalise_reviews(make_reviews(80)))
    model_id = int(train_dataset(store, "toy", ModelParams(cv_folds=3))["model_id"])
    cli = _cli(tmp_path, db, "--review-model", str(model_id))
    monkeypatch.setenv("RECSCOPE_DB", str(db))
    at = AppTest.from_file(str(ROOT / "pages" / "reviews.py"), default_timeout=90)
    at.query_params["dataset"] = "toy"
    at.run()
    assert not at.exception, at.exception
    data = _prepare(at, ReportSpec("review-model", review_model=model_id))
    assert _without_created(data) == _without_created(cli)
