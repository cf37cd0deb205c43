"""The flagged-reviews page in headless Chromium: hostile review text stays text, and
labelling by keyboard moves the queue on and stores the label."""

from __future__ import annotations

import urllib.parse

import pandas as pd
import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser

XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.fixture(scope="module")
def reviews_db(tmp_path_factory):
    from engine.data.dataset import normalise_reviews
    from engine.reviews.model import ModelParams
    from engine.services.reviews import train_dataset
    from engine.store import Store
    from engine.store.datasets import save_reviews
    from tests.fixtures.reviews import make_reviews

    path = tmp_path_factory.mktemp("reviews_browser") / "reviews.duckdb"
    store = Store(path)
    rv = make_reviews(60)
    extra = pd.DataFrame({"review_id": ["X1", "X2"], "text": XSS, "label": [1, 1], "company": ["Evil Inc"] * 2,
                          "user_id": ["U-x1", "U-x2"],
                          "created_at": [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02")]})
    save_reviews(store, "kb", normalise_reviews(pd.concat([rv, extra], ignore_index=True)))
    train_dataset(store, "kb", ModelParams(cv_folds=3))
    return path


def _open(page, base, **params):
    page.goto(f"{base}/reviews?{urllib.parse.urlencode(params)}")
    wait_idle(page)
    no_exception(page)


@pytest.mark.parametrize("i", [0, 1])
def test_hostile_review_text_is_shown_literally_and_runs_nothing(serve, page, reviews_db, i):
    base = serve(reviews_db)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _open(page, base, dataset="kb", reviewer="ann", status="any", q=XSS[i])
    card = page.locator("[data-testid='rv-card']")
    card.wait_for()
    assert card.get_attribute("data-review-id") == f"X{i + 1}"
    # the text is shown character for character, as text
    assert page.locator("[data-testid='rv-text']").inner_text() == XSS[i]
    # no element was made from it
    assert card.locator("script").count() == 0
    assert card.locator("img").count() == 0
    assert page.locator("img[src='x']").count() == 0
    # it also sits in the selection table as text
    page.wait_for_timeout(1500)  # an onerror handler would have fired by now
    shot(page, f"reviews-xss-{i}")
    assert dialogs == [], f"a script ran: alert({dialogs})"
    assert not any("alert" in e for e in errors)


def test_label_by_keyboard_moves_on_and_stores_the_label(serve, page, reviews_db):
    from engine.store import Store
    from engine.store.reviews import label_history

    store = Store(reviews_db)
    base = serve(reviews_db)
    _open(page, base, dataset="kb", reviewer="kim")
    card = page.locator("[data-testid='rv-card']")
    first = card.get_attribute("data-review-id")
    caption = page.get_by_text("in the queue").first.inner_text()
    shot(page, "reviews-queue-before")

    page.locator("h1").first.click()  # focus the page, not an input
    page.keyboard.press("m")
    page.wait_for_function(
        "id => { const c = document.querySelector(\"[data-testid='rv-card']\");"
        " return c && c.getAttribute('data-review-id') !== id; }", arg=first, timeout=60_000)
    wait_idle(page)
    no_exception(page)
    second = card.get_attribute("data-review-id")
    assert second != first
    assert page.get_by_text(f"Labelled {first} as meaningless.").count() == 1
    hist = label_history(store, "kb")
    last = hist.iloc[-1]
    assert (last["review_id"], last["label"], last["reviewer"]) == (first, "meaningless", "kim")
    # the unlabelled queue shrank by one
    n_before = int(caption.split(" of ")[1].split()[0].replace(",", ""))
    assert page.get_by_text(f"Review 1 of {n_before - 1:,} in the queue").count() == 1
    shot(page, "reviews-queue-after-m")

    # f labels the next one fine; u undoes it and brings it back
    page.locator("h1").first.click()
    page.keyboard.press("f")
    page.wait_for_function(
        "id => { const c = document.querySelector(\"[data-testid='rv-card']\");"
        " return c && c.getAttribute('data-review-id') !== id; }", arg=second, timeout=60_000)
    wait_idle(page)
    assert label_history(store, "kb").iloc[-1][["review_id", "label"]].tolist() == [second, "fine"]
    page.locator("h1").first.click()
    page.keyboard.press("u")
    page.wait_for_function(
        "id => { const c = document.querySelector(\"[data-testid='rv-card']\");"
        " return c && c.getAttribute('data-review-id') === id; }", arg=second, timeout=60_000)
    wait_idle(page)
    hist = label_history(store, "kb")
    assert hist["label"].tolist()[-3:] == ["meaningless", "fine", "undo"]
    assert hist.iloc[-1]["review_id"] == second
    shot(page, "reviews-queue-after-undo")


@pytest.fixture(scope="module")
def deceptive_db(tmp_path_factory):
    from engine.data.dataset import normalise_reviews
    from engine.reviews.model import ModelParams
    from engine.services.reviews import train_dataset
    from engine.store import Store
    from engine.store.datasets import save_reviews
    from tests.fixtures.reviews import make_reviews

    path = tmp_path_factory.mktemp("reviews_deceptive") / "reviews.duckdb"
    store = Store(path)
    save_reviews(store, "hotels", normalise_reviews(make_reviews(60)), positive_name="deceptive")
    train_dataset(store, "hotels", ModelParams(cv_folds=3))
    return path


def test_positive_name_on_the_page_and_its_key(serve, page, deceptive_db):
    """A dataset whose positive class is 'deceptive': the page says so everywhere, never
    'meaningless', and the button's key is its first letter, d."""
    from engine.store import Store
    from engine.store.reviews import label_history

    base = serve(deceptive_db)
    _open(page, base, dataset="hotels", reviewer="kim")
    card = page.locator("[data-testid='rv-card']")
    first = card.get_attribute("data-review-id")
    body = page.locator("body").inner_text()
    assert "thinks are deceptive" in body
    assert "meaningless" not in body.lower()
    assert page.get_by_role("button", name="Deceptive").count() == 1
    page.locator("h1").first.click()
    page.keyboard.press("d")
    page.wait_for_function(
        "id => { const c = document.querySelector(\"[data-testid='rv-card']\");"
        " return c && c.getAttribute('data-review-id') !== id; }", arg=first, timeout=60_000)
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text(f"Labelled {first} as deceptive.").count() == 1
    last = label_history(Store(deceptive_db), "hotels").iloc[-1]
    assert (last["review_id"], last["label"], last["reviewer"]) == (first, "meaningless", "kim")
    assert "meaningless" not in page.locator("body").inner_text().lower()
    shot(page, "reviews-deceptive")
