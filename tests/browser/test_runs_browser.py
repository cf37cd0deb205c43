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
    # the grid fills its accessible cells a moment after the frame appears (slower under load)
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stDataFrame'] [role='gridcell']\")]"
        ".some(c => c.innerText.includes('popularity'))", timeout=30_000)
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


@pytest.fixture(scope="module")
def warned_db(tmp_path_factory):
    """A small job board with default ALS and a BPR that cannot learn (warned)."""
    from engine.data.synthetic import make_job_board
    from engine.pipeline import train_runs
    from engine.store import Store
    from engine.store.datasets import save_dataset

    path = tmp_path_factory.mktemp("warned") / "warned.duckdb"
    store = Store(path)
    save_dataset(store, make_job_board(seed=1, name="jobboard", n_users=400, n_items=200,
                                       n_reviews=0))
    train_runs(store, "jobboard", ["popularity", "als", "bpr"], neighbours=0,
               params={"bpr": {"learning_rate": 0.0001, "iterations": 1}})
    return path


def test_a_warned_run_carries_the_icon_on_runs_and_compare(serve, warned_db, page):
    runs = _done_runs(warned_db)
    url = serve(warned_db)
    page.goto(url + "/runs?dataset=jobboard")
    wait_idle(page)
    no_exception(page)
    # the grid's accessible cells come a moment after the canvas
    page.locator("[data-testid='stDataFrame'] [role='gridcell']").first.wait_for(state="attached")
    cells = page.locator("[data-testid='stDataFrame'] [role='gridcell']").all_inner_texts()
    warned = [c for c in cells if c.startswith("⚠️")]
    # one cell: the broken BPR's (icon, count, sentences); ALS and popularity have none
    assert len(warned) == 1 and "Did not converge" in warned[0]
    assert warned[0].startswith("⚠️ 3: Worse than popularity")
    note = page.locator("[data-testid='stAlert']").filter(has_text="health warnings")
    assert note.count() == 1 and f"#{runs['bpr']} bpr" in note.inner_text()
    assert f"#{runs['als']} als" not in note.inner_text()
    shot(page, "runs-health-warning")

    page.goto(url + f"/compare?dataset=jobboard&runs={runs['als']},{runs['bpr']}&k=10")
    wait_idle(page)
    no_exception(page)
    page.locator(".rs-card").nth(2).wait_for()
    cards = page.locator(".rs-card")
    texts = {cards.nth(i).locator(".rs-head").inner_text(): cards.nth(i) for i in range(cards.count())}
    assert texts[f"#{runs['bpr']} bpr"].locator(".rs-warn").count() >= 1
    assert texts[f"#{runs['als']} als"].locator(".rs-warn").count() == 0
    lines = texts[f"#{runs['bpr']} bpr"].locator(".rs-warn")
    titles = [lines.nth(i).get_attribute("title") for i in range(lines.count())]
    assert any(t.startswith("Did not converge") for t in titles)
    shot(page, "compare-health-warning")
