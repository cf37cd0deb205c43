"""The Runs page's Tuning view in a real browser: a finished study with its charts, and
the Cross-validation view with fold means and intervals."""

import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tuned_db(tmp_path_factory):
    from engine.cli import main
    from engine.store import Store
    from engine.store.datasets import save_dataset
    from tests.unit.test_tuning import small_dataset

    path = tmp_path_factory.mktemp("tunebrowser") / "t.duckdb"
    save_dataset(Store(path), small_dataset())
    base = ["--db", str(path), "--dataset", "small", "--split", "leave_last_n", "--neighbours", "0"]
    assert main(["tune", *base, "--algo", "bpr", "--trials", "6", "--space", "bpr.iterations=3..6",
                 "--space", "bpr.factors=4..8"]) == 0
    assert main(["train", *base, "--algos", "popularity,itemknn", "--folds", "3"]) == 0
    return path


def test_tuning_view_with_a_finished_study_and_its_charts(serve, tuned_db, page):
    url = serve(tuned_db)
    page.goto(url + "/runs?dataset=small&mode=tuning")
    wait_idle(page)
    no_exception(page)
    main = page.locator("[data-testid='stMain']")
    page.locator(".js-plotly-plot").nth(3).wait_for()
    text = main.inner_text()
    for title in ("Optimisation history", "against", "Parallel coordinates", "Parameter importance"):
        assert title in text, title
    assert page.locator(".js-plotly-plot").count() >= 4
    assert "Open the final run" in text
    assert "None" not in text and "nan" not in text.split()
    shot(page, "tuning")


def test_cross_validation_view_shows_folds(serve, tuned_db, page):
    url = serve(tuned_db)
    page.goto(url + "/runs?dataset=small&mode=cross-validation")
    wait_idle(page)
    no_exception(page)
    page.locator(".js-plotly-plot").first.wait_for()
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "over folds" in text and "95% interval" in text
    shot(page, "cross_validation")
