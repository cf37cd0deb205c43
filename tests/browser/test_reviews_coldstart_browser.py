"""Labelling from zero in headless Chromium (issue 17): a dataset imported without labels
gets a varied queue; training is refused with the count still needed; after labelling
enough by keyboard, training works."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cold_db(tmp_path_factory):
    from engine.data.dataset import normalise_reviews
    from engine.store import Store
    from engine.store.datasets import save_reviews
    from tests.fixtures.reviews import make_reviews

    path = tmp_path_factory.mktemp("reviews_cold") / "cold.duckdb"
    rv = make_reviews(40)
    save_reviews(Store(path), "fresh", normalise_reviews(rv.drop(columns=["label"])))
    return path, rv.set_index("review_id")["label"].to_dict()


def test_label_from_zero_then_train(serve, page, cold_db):
    from engine.store import Store
    from engine.store.reviews import latest_model_id

    path, truth = cold_db
    base = serve(path)
    page.goto(f"{base}/reviews?{urllib.parse.urlencode({'dataset': 'fresh', 'reviewer': 'ann'})}")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("Towards the first model: 0 meaningless and 0 fine labels").count() == 1
    train = page.get_by_role("button", name="Train the classifier")
    train.click()
    wait_idle(page)
    assert page.get_by_text("so 5 more meaningless and 5 more fine label(s) are needed").count() == 1
    shot(page, "reviews-coldstart-refused")

    card = page.locator("[data-testid='rv-card']")
    counts = {0: 0, 1: 0}
    for _ in range(40):
        if min(counts.values()) >= 5:
            break
        rid = card.get_attribute("data-review-id")
        label = truth[rid]
        page.locator("h1").first.click()  # focus the page, not an input
        page.keyboard.press("m" if label == 1 else "f")
        page.wait_for_function(
            "id => { const c = document.querySelector(\"[data-testid='rv-card']\");"
            " return c && c.getAttribute('data-review-id') !== id; }", arg=rid, timeout=60_000)
        wait_idle(page)
        counts[label] += 1
    assert min(counts.values()) >= 5, counts
    # a varied queue: both kinds reached within the first screens
    assert sum(counts.values()) <= 20, counts
    no_exception(page)
    assert page.get_by_text("training needs 5 of each (0 more meaningless, 0 more fine)").count() == 1
    shot(page, "reviews-coldstart-ready")

    page.get_by_role("button", name="Train the classifier").click()
    page.wait_for_selector("text=No classifier has been trained", state="detached", timeout=120_000)
    wait_idle(page)
    no_exception(page)
    assert latest_model_id(Store(path), "fresh") == 1
    shot(page, "reviews-coldstart-trained")
    # with a model, the queue is most informative first: the unlabelled review nearest the threshold
    from engine.reviews.labels import current_labels
    from engine.store.reviews import get_model, label_history, scored_reviews

    thr = get_model(Store(path), 1)["threshold"]
    sc = scored_reviews(Store(path), "fresh", 1)
    sc = sc[~sc["review_id"].isin(current_labels(label_history(Store(path), "fresh"))["review_id"])]
    sc = sc.assign(u=(sc["score"] - thr).abs()).sort_values(["u", "review_id"])
    assert card.get_attribute("data-review-id") == sc["review_id"].iloc[0]
    assert "order=" not in page.url

    # the next day's reviews arrive: scored by that model at once, shown as new, with drift
    from engine.data.dataset import normalise_reviews
    from engine.services.reviews import append_reviews
    from tests.fixtures.reviews import make_reviews

    day2 = make_reviews(60).iloc[40:].drop(columns=["label"])
    assert append_reviews(Store(path), "fresh", normalise_reviews(day2))["n_scored"] == 20
    page.goto(f"{base}/reviews?{urllib.parse.urlencode({'dataset': 'fresh', 'reviewer': 'ann', 'view': 'batches'})}")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("20 reviews are new since your last visit").count() == 1
    assert page.get_by_text("Population stability index over ten decile bins").count() == 1
    shot(page, "reviews-new-batches")
    page.goto(f"{base}/reviews?{urllib.parse.urlencode({'dataset': 'fresh', 'reviewer': 'ann', 'view': 'checks'})}")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("Likely label errors").count() == 1
    shot(page, "reviews-label-checks")
