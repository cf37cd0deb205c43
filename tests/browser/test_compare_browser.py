"""Compare page in headless Chromium against `streamlit run` (fixtures in conftest.py)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from engine.data.synthetic import make_job_board
from engine.pipeline import train_runs
from engine.store import Store
from engine.store.datasets import save_dataset
from tests.browser.conftest import no_exception, shot, wait_idle
from tests.fixtures.compare_store import build_tiny


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("compare") / "tiny.duckdb"
    build_tiny(path)
    return path


def _query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _card(page, label: str):
    return page.locator(".rs-card", has_text=label).first


def test_deep_link_shows_side_by_side_lists(serve, tiny_db, page):
    url = serve(tiny_db)
    page.goto(f"{url}/compare?dataset=ds&runs=1,2&user=u1&k=3")
    wait_idle(page)
    no_exception(page)
    als, pop = _card(page, "#1 als"), _card(page, "#2 popularity")
    assert als.locator(".rs-title").all_inner_texts() == ["カフェスタッフ", "コンビニ店員", "データ入力"]
    assert pop.locator(".rs-title").all_inner_texts() == ["コンビニ店員", "i6", "カフェスタッフ"]
    assert als.locator(".rs-row.hit .rs-title").inner_text() == "カフェスタッフ"
    assert page.get_by_text("How much the lists agree").is_visible()
    q = _query(page)
    assert (q["dataset"], q["runs"], q["user"], q["k"]) == ("ds", "1,2", "u1", "3")
    shot(page, "compare-tiny-deeplink")


def test_choosing_a_user_and_switching_runs_updates_lists(serve, tiny_db, page):
    url = serve(tiny_db)
    page.goto(f"{url}/compare?dataset=ds&runs=1&user=u1&k=3")
    wait_idle(page)
    box = page.get_by_label("User id", exact=True)
    box.fill("u2")
    box.press("Enter")
    wait_idle(page)
    assert _query(page)["user"] == "u2"
    assert _card(page, "#1 als").locator(".rs-title").all_inner_texts() == \
        ["コンビニ店員", "倉庫内ピッキング", "カフェスタッフ"]
    # add run 2 from the multiselect
    page.get_by_role("combobox", name=re.compile("Runs to compare")).click()
    page.get_by_role("option", name="#2 popularity").click()
    page.keyboard.press("Escape")
    wait_idle(page)
    no_exception(page)
    assert _query(page)["runs"] == "1,2"
    assert _card(page, "#2 popularity").locator(".rs-title").count() == 3
    shot(page, "compare-tiny-switched")


def test_bad_link_is_friendly(serve, tiny_db, page):
    url = serve(tiny_db)
    page.goto(f"{url}/compare?dataset=ds&runs=1,99&user=nobody&k=x")
    wait_idle(page)
    no_exception(page)
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "there is no run 99 in this store" in body
    assert "There is no user “nobody” in dataset “ds”" in body
    assert "is not a whole number" in body
    shot(page, "compare-tiny-badlink")


def test_disagreement_tab_opens_a_user(serve, tiny_db, page):
    url = serve(tiny_db)
    page.goto(f"{url}/compare?dataset=ds&runs=1,2&user=u2&k=3&view=Where+they+disagree")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("Users compared").is_visible()
    shot(page, "compare-tiny-disagreement")
    # click the first row's selection box (u1, the most different user): its view opens
    grid = page.locator("[data-testid='stDataFrame']").last
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 53)
    wait_idle(page)
    no_exception(page)
    assert _query(page)["user"] == "u1"
    assert _card(page, "#1 als").locator(".rs-title").count() == 3
    shot(page, "compare-tiny-disagreement-opened")


@pytest.fixture(scope="module")
def jobboard_db(tmp_path_factory):
    """The demo job board with three trained runs (engine.pipeline.train_runs)."""
    path = tmp_path_factory.mktemp("jobboard") / "jobboard.duckdb"
    store = Store(path)
    save_dataset(store, make_job_board(seed=0, name="jobboard"))
    out = train_runs(store, "jobboard", ["popularity", "itemknn", "als"], k=20, seed=0)
    assert [r["status"] for r in out] == ["done"] * 3, out
    return path


def test_jobboard_demo_page(serve, jobboard_db, page):
    url = serve(jobboard_db)
    page.goto(f"{url}/compare?dataset=jobboard")
    wait_idle(page)
    no_exception(page)
    q = _query(page)
    assert q["runs"].count(",") == 2 and q["user"]
    assert page.locator(".rs-card").count() == 4          # history + 3 runs
    titles = page.locator(".rs-card .rs-title").all_inner_texts()
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t) for t in titles)  # Japanese
    shot(page, "compare-jobboard")
    page.get_by_role("tab", name="Exposure across users").click()
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("Most recommended items").is_visible()
    shot(page, "compare-jobboard-exposure")
