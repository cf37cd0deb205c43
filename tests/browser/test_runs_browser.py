"""Runs page in a real browser on the demo store: loads, shows the runs and the charts,
and a deep link reproduces the view."""

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def _done_runs(db) -> dict[str, int]:
    from engine.store import Store
    from engine.store.runs import list_runs

    runs = list_runs(Store(db), "jobboard")
    runs = runs[runs["status"] == "done"]
    return {a: int(r) for a, r in zip(runs["algorithm"], runs["run_id"])}


def test_runs_page_lists_runs_and_draws_charts(serve, demo_db, page):
    url = serve(demo_db)
    page.goto(url + "/runs?dataset=jobboard")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_role("heading", name="Runs").first.is_visible()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    cells = " ".join(page.locator("[data-testid='stDataFrame'] [role='gridcell']").all_inner_texts())
    for algo in _done_runs(demo_db):
        assert algo in cells
    text = _main_text(page)
    assert "Accuracy against the rest" in text and "B − A" in text
    # the trade-off chart and the paired forest plot
    page.locator(".js-plotly-plot").nth(1).wait_for()
    assert page.locator(".js-plotly-plot").count() >= 2
    # the selections were written to the URL
    q = parse_qs(urlparse(page.url).query)
    assert q["dataset"] == ["jobboard"] and q["metric"] == ["ndcg"] and q["k"] == ["10"]
    shot(page, "runs")


def test_deep_link_reproduces_slice_view(serve, demo_db, page):
    runs = _done_runs(demo_db)
    pick = [runs["als"], runs["popularity"]]
    url = serve(demo_db)
    page.goto(url + f"/runs?dataset=jobboard&runs={pick[0]},{pick[1]}&metric=recall&k=20"
                    f"&view=By+slice&slice=popularity")
    wait_idle(page)
    no_exception(page)
    text = _main_text(page)
    assert "Where the top-20 slots go" in text or page.get_by_text("Where the top-20 slots go").count()
    picker = page.locator("[data-testid='stMultiSelect']").filter(has_text="Runs to analyse")
    chips = [t.get_attribute("aria-label") for t in picker.locator("[data-tag]").all()]
    assert chips == [f"#{pick[0]} als", f"#{pick[1]} popularity"]
    assert page.get_by_role("combobox", name="Metric").input_value() == "recall"
    q = parse_qs(urlparse(page.url).query)
    assert q["runs"] == [f"{pick[0]},{pick[1]}"] and q["slice"] == ["popularity"]
    assert q["k"] == ["20"]
    # decile charts: two plots beside the trade-off chart
    page.locator(".js-plotly-plot").nth(2).wait_for()
    shot(page, "runs-deep-link-popularity")


def test_bad_link_is_explained(serve, demo_db, page):
    url = serve(demo_db)
    page.goto(url + "/runs?dataset=jobboard&runs=999,x&metric=nope")
    wait_idle(page)
    no_exception(page)
    text = _main_text(page)
    assert "there is no run 999" in text and "metric=“nope”" in text
    shot(page, "runs-bad-link")
