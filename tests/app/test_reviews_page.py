"""Flagged-reviews page logic without a browser (streamlit.testing AppTest)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine.store import Store
from engine.store import reviews as rdb
from tests.conftest import ROOT



@pytest.fixture(scope="module")
def _trained(tmp_path_factory):
    from engine.data.dataset import normalise_reviews
    from engine.reviews.model import ModelParams
    from engine.services.reviews import train_dataset
    from engine.store.datasets import save_reviews
    from tests.fixtures.reviews import make_reviews

    path = tmp_path_factory.mktemp("reviews_app") / "r.duckdb"
    store = Store(path)
    save_reviews(store, "toy", normalise_reviews(make_reviews(80)))
    train_dataset(store, "toy", ModelParams(cv_folds=3))
    return path


@pytest.fixture
def db(_trained, tmp_path):
    dest = tmp_path / "copy.duckdb"
    shutil.copy(_trained, dest)
    return dest


def _run(db, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("RECSCOPE_DB", str(db))
    at = AppTest.from_file(str(ROOT / "pages" / "reviews.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_empty_store_says_how_to_start(tmp_path, monkeypatch):
    at = _run(tmp_path / "e.duckdb", monkeypatch)
    assert any("recscope demo" in i.value for i in at.info)


def test_untrained_dataset_offers_training(tmp_path, monkeypatch):
    from engine.data.dataset import normalise_reviews
    from engine.store.datasets import save_reviews
    from tests.fixtures.reviews import make_reviews

    path = tmp_path / "u.duckdb"
    save_reviews(Store(path), "fresh", normalise_reviews(make_reviews(40)))
    at = _run(path, monkeypatch)
    assert any("No classifier has been trained" in i.value for i in at.info)
    _button(at, "rv_train").click()
    at.run()
    assert not at.exception, at.exception
    assert rdb.latest_model_id(Store(path), "fresh") == 1


def test_label_button_writes_a_row_and_moves_on(db, monkeypatch):
    at = _run(db, monkeypatch, reviewer="ann")
    first = at.session_state["rv_current"]
    scored = rdb.scored_reviews(Store(db), "toy", 1)
    # highest score first: the current review is the top-scored one
    assert first == scored.sort_values(["score", "review_id"], ascending=[False, True])["review_id"].iloc[0]
    _button(at, "rv_btn_fine").click()
    at.run()
    assert not at.exception, at.exception
    hist = rdb.label_history(Store(db), "toy")
    assert hist[["review_id", "label", "reviewer"]].values.tolist() == [[first, "fine", "ann"]]
    assert at.session_state["rv_current"] != first
    # undo appends, never deletes
    _button(at, "rv_btn_undo").click()
    at.run()
    hist = rdb.label_history(Store(db), "toy")
    assert hist["label"].tolist() == ["fine", "undo"]
    assert at.session_state["rv_current"] == first


def test_labelling_needs_a_name(db, monkeypatch):
    at = _run(db, monkeypatch)
    assert _button(at, "rv_btn_meaningless").disabled
    assert any("Type your name" in w.value for w in at.warning)


def test_bulk_label_asks_first_then_labels_the_filtered_selection(db, monkeypatch):
    at = _run(db, monkeypatch, reviewer="bob", q="https")
    frame = rdb.scored_reviews(Store(db), "toy", 1)
    expected = sorted(frame[frame["text"].str.contains("https")]["review_id"])
    _button(at, "rv_bulk_ask").click()
    at.run()
    assert rdb.label_history(Store(db), "toy").empty  # nothing written before confirmation
    assert any(f"Label {len(expected)} reviews" in w.value for w in at.warning)
    _button(at, "rv_bulk_yes").click()
    at.run()
    assert not at.exception, at.exception
    hist = rdb.label_history(Store(db), "toy")
    assert sorted(hist["review_id"]) == expected
    assert set(hist["label"]) == {"meaningless"} and hist["batch_id"].nunique() == 1


def test_threshold_view_figures_match_hand_count(db, monkeypatch):
    at = _run(db, monkeypatch, view="threshold")
    thr = float(rdb.get_model(Store(db), 1)["threshold"])
    scored = rdb.scored_reviews(Store(db), "toy", 1)
    flagged = scored["score"] >= thr
    tp = int((flagged & (scored["truth"] == 1)).sum())
    fp = int((flagged & (scored["truth"] == 0)).sum())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Precision"] == f"{tp / (tp + fp):.3f}"
    assert metrics["Reviews flagged"] == f"{int(flagged.sum()):,} of {len(scored):,}"
    # moving the slider to 1.0 flags only reviews scored exactly 1
    at.slider(key="rv_thr").set_value(1.0).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Reviews flagged"] == f"{int((scored['score'] >= 1.0).sum()):,} of {len(scored):,}"
    _button(at, "rv_set_thr").click()
    at.run()
    assert rdb.get_model(Store(db), 1)["threshold"] == 1.0


def test_retrain_with_labels_shows_both_models(db, monkeypatch):
    store = Store(db)
    rdb.append_labels(store, "toy", ["R0001", "R0002"], "meaningless", "ann")
    at = _run(db, monkeypatch, view="models")
    _button(at, "rv_train").click()
    at.run()
    assert not at.exception, at.exception
    m2 = rdb.get_model(store, 2)
    assert m2["n_human_labels"] == 2 and m2["parent_model_id"] == 1
    assert at.selectbox(key="rv_cmp_old").value == 1 and at.selectbox(key="rv_cmp_new").value == 2
    assert any("newly flagged" in md.value for md in at.markdown)


def test_export_offers_csv(db, monkeypatch):
    rdb.append_labels(Store(db), "toy", ["R0003"], "skip", "ann")
    at = _run(db, monkeypatch, view="export")
    assert any(md.value == "1 rows." for md in at.markdown)
    df = at.dataframe[0].value
    assert df[["review_id", "label", "reviewer"]].values.tolist() == [["R0003", "skip", "ann"]]
    assert isinstance(df, pd.DataFrame)


def test_a_model_near_chance_is_flagged_and_an_unknown_model_is_named(db, monkeypatch):
    from engine.services import reviews as service

    at = _run(db, monkeypatch, dataset="toy")
    assert "little better than chance" not in "\n".join(str(w.value) for w in at.warning)
    monkeypatch.setattr(service, "CHANCE_AUC", 1.01)  # every model is "weak" now
    at = _run(db, monkeypatch, dataset="toy", model="999")
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert "ranks reviews little better than chance" in warnings
    assert "There is no review model #999 for “toy”; showing the newest." in warnings
