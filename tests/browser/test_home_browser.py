"""Home page in a real browser: lists the datasets with counts."""

import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


def test_home_lists_demo_dataset(serve, demo_db, page):
    url = serve(demo_db)
    page.goto(url + "/")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_role("heading", name="recscope").is_visible()
    # the dataframe is drawn on a canvas; wait for its accessible table copy
    page.locator("[data-testid='stDataFrame'] [role='gridcell']").first.wait_for(state="attached")
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "Datasets" in text
    cells = page.locator("[data-testid='stDataFrame'] [role='gridcell']").all_inner_texts()
    row = cells[cells.index("jobboard"):][:7]
    # users, items, events (140,026 views, 12,539 favorites, 5,135 applies, 1,783 hires:
    # generator version 2, where a person decides about a posting once), reviews
    assert row[3:] == ["5000", "2000", "159483", "3000"], row
    shot(page, "home")


def test_home_on_empty_store_says_how_to_start(serve, tmp_path_factory, page):
    url = serve(tmp_path_factory.mktemp("empty") / "empty.duckdb")
    page.goto(url)
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("recscope demo").first.is_visible()
    shot(page, "home-empty")
