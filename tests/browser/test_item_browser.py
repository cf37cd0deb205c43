"""Item page in a real browser on the demo store: a deep link shows the item with its
Japanese title, neighbours and audience; search finds items; a bad link is explained."""

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


def _popular_item(db) -> tuple[str, str]:
    from engine.store import Store
    from engine.store.items import search_items

    top = search_items(Store(db), "jobboard", "", limit=1).iloc[0]
    return str(top["item_id"]), str(top["title"])


def test_item_deep_link(serve, demo_db, page):
    item_id, title = _popular_item(demo_db)
    url = serve(demo_db)
    page.goto(url + f"/item?dataset=jobboard&item={item_id}")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_role("heading", name=title).is_visible()
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "Similar by co-interaction" in text and "Recommended together by" in text
    assert "Who gets it recommended" in text
    # what the models say: a picker of the runs that kept neighbours, and their card
    assert page.get_by_text("Similar according to").is_visible()
    assert "What the model itself calls similar" in text
    card = page.locator(".rs-card").filter(has_text="What the model itself calls similar")
    assert card.locator("a").count() >= 5        # neighbours, each a link to its item page
    page.locator(".js-plotly-plot").first.wait_for()          # the rank chart
    q = parse_qs(urlparse(page.url).query)
    assert q["item"] == [item_id] and q["dataset"] == ["jobboard"] and "run" in q
    assert "simrun" in q and f"Similar by #{q['simrun'][0]} " in text
    shot(page, "item")


def test_item_search_by_title(serve, demo_db, page):
    url = serve(demo_db)
    page.goto(url + "/item?dataset=jobboard")
    wait_idle(page)
    box = page.get_by_role("textbox", name="Find an item")
    box.fill("塾講師")
    box.press("Enter")
    wait_idle(page)
    no_exception(page)
    heading = page.locator("[data-testid='stMain'] h2").first.inner_text()
    assert "塾講師" in heading
    assert parse_qs(urlparse(page.url).query)["item"][0].startswith("J")
    shot(page, "item-search")


def test_unknown_item_is_explained(serve, demo_db, page):
    url = serve(demo_db)
    page.goto(url + "/item?dataset=jobboard&item=NOPE")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("has no item with id “NOPE”").is_visible()
    shot(page, "item-unknown")
