"""Predictions page in a real browser: a model with its metrics, the reliability diagram
drawn; and the Runs page's relevance selector changing the runs table."""

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pred_db(tmp_path_factory):
    from tests.fixtures.predict_store import build_predict_store

    path = tmp_path_factory.mktemp("predbrowser") / "p.duckdb"
    info = build_predict_store(path)
    return path, info


def test_predictions_page_draws_the_reliability_diagram(serve, pred_db, page):
    db, info = pred_db
    url = serve(db)
    page.goto(url + "/predictions?dataset=jb")
    wait_idle(page)
    no_exception(page)
    main = page.locator("[data-testid='stMain']")
    text = main.inner_text()
    assert "Reliability" in text and "AUC by segment" in text
    plot = main.locator(".js-plotly-plot").first
    plot.wait_for()
    # the diagram has the model's curve: one point per equal-count bin
    assert plot.locator(".scatterlayer .trace").count() >= 2
    assert plot.locator(".scatterlayer .point").count() >= 10
    assert "Reliability (15 equal-count bins)" in plot.inner_text()
    assert f"Run #{info['rerank']}" in text
    assert parse_qs(urlparse(page.url).query)["model"] == [str(info["model"]["model_id"])]
    shot(page, "predictions")


def _table_text(page) -> str:
    return page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").first.inner_text()


def test_relevance_selector_changes_the_runs_table(serve, pred_db, page):
    db, _ = pred_db
    url = serve(db)
    page.goto(url + "/runs?dataset=jb")
    wait_idle(page)
    no_exception(page)
    grid = page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").first
    grid.wait_for()
    before = grid.screenshot()
    shot(page, "runs-relevance-any")
    page.locator("[data-testid='stMain'] button").filter(has_text="applications").first.click()
    wait_idle(page)
    no_exception(page)
    assert parse_qs(urlparse(page.url).query).get("relevance") == ["apply"]
    grid = page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").first
    grid.wait_for()
    page.wait_for_timeout(500)
    assert grid.screenshot() != before
    shot(page, "runs-relevance")
