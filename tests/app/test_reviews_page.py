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
    # issue 17 made "most informative" the default order once a model exists; this test
    # asks for the score order explicitly
    at = _run(db, monkeypatch, reviewer="ann", order="score")
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


def _page_text(at: AppTest) -> str:
    """Every piece of text the page shows: captions, markdown, buttons and their widgets'
    shown options, alerts, HTML cards and table cells."""
    parts = [str(x.value) for x in [*at.title, *at.caption, *at.markdown, *at.info, *at.warning,
                                    *at.success]]
    parts += [b.label for b in at.button]
    for sb in at.selectbox:
        parts += [sb.label, *[str(o) for o in sb.options]]
    for node in at.get("html"):
        parts.append(str(node.proto))
    for df in at.dataframe:
        parts.append(df.value.to_csv(index=False))
    return "\n".join(parts)


@pytest.fixture
def deceptive_db(tmp_path):
    """A reviews dataset imported through the CLI with --positive-name deceptive, trained,
    with one human label of the positive class."""
    from engine.cli import main
    from tests.fixtures.reviews import make_reviews

    csv = tmp_path / "hotel.csv"
    make_reviews(80).assign(deceptive=lambda d: d["label"]).drop(columns=["label"]).to_csv(csv, index=False)
    path = tmp_path / "d.duckdb"
    assert main(["import", "reviews", str(csv), "--name", "hotels", "--text-col", "text",
                 "--label-col", "deceptive", "--id-col", "review_id",
                 "--positive-name", "deceptive", "--db", str(path)]) == 0
    assert main(["reviews", "train", "--dataset", "hotels", "--folds", "3", "--db", str(path)]) == 0
    rdb.append_labels(Store(path), "hotels", ["R0000"], "meaningless", "ann")
    return path


def test_positive_name_deceptive_everywhere_and_never_meaningless(deceptive_db, monkeypatch):
    at = _run(deceptive_db, monkeypatch, reviewer="ann", status="any", q="#0")
    text = _page_text(at)
    assert "thinks are deceptive" in text
    button = _button(at, "rv_btn_meaningless")
    assert button.label == "Deceptive"
    # the status filter offers the dataset's name; its URL value stays 'meaningless'
    assert "deceptive" in at.selectbox(key="rv_status").options
    # only R0000 contains "#0": shipped label 1, labelled by ann
    assert at.session_state["rv_current"] == "R0000"
    assert "label in the data: 1 (deceptive)" in text and "labelled deceptive by ann" in text
    assert "Label 1 reviews as deceptive" in text
    assert "meaningless" not in text.lower()
    # the button still writes the stored key, and says what it did in the dataset's words
    button.click()
    at.run()
    assert rdb.label_history(Store(deceptive_db), "hotels")["label"].tolist() == ["meaningless"] * 2
    assert any("as deceptive." in s.value for s in at.success)
    for view in ("threshold", "models", "export"):
        at = _run(deceptive_db, monkeypatch, view=view)
        assert "meaningless" not in _page_text(at).lower(), view
    at = _run(deceptive_db, monkeypatch, view="export")
    assert at.dataframe[0].value["label"].tolist() == ["deceptive"]


def test_demo_style_dataset_keeps_meaningless(db, monkeypatch):
    at = _run(db, monkeypatch, reviewer="ann")
    assert _button(at, "rv_btn_meaningless").label == "Meaningless"
    assert any("thinks are meaningless" in c.value for c in at.caption)


def test_bad_link_values_get_one_warning_each_and_the_defaults(db, monkeypatch):
    """Like the other pages, a bad value in a link is named, not silently ignored."""
    at = _run(db, monkeypatch, dataset="toy", view="nonsense", order="loudest",
              status="maybe", smin="2", lmax="abc", company="NoSuchCo")
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert "view=“nonsense” in the link is not a view here" in warnings
    assert "order=“loudest” in the link is not an order here" in warnings
    assert "status=“maybe” in the link is not a label status here" in warnings
    assert "smin=2 in the link is outside 0.0 to 1.0" in warnings
    assert "lmax=“abc” in the link is not a whole number" in warnings
    assert "company=“NoSuchCo”" in warnings
    # the defaults are shown: the queue, most informative first (issue 17; it was by
    # score before), unlabelled, the whole score range
    assert at.selectbox(key="rv_order").value == "uncertainty"
    assert at.selectbox(key="rv_status").value == "unlabelled"
    assert at.slider(key="rv_score").value == (0.0, 1.0)
    assert at.multiselect(key="rv_company").value == []
    params = {k: at.query_params[k] for k in at.query_params}
    assert "view" not in params and "order" not in params and "smin" not in params


def test_bad_label_source_in_a_link_is_named(db, monkeypatch):
    at = _run(db, monkeypatch, view="threshold", source="oracle")
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert "source=“oracle” in the link is not a label source here" in warnings
    # no human labels yet: the default is the labels shipped with the data
    assert at.radio(key="rv_source").value == "truth"


# --------------------------------------------------------------------------- issue 17: the daily loop


def _cold(tmp_path, n=40):
    from engine.data.dataset import normalise_reviews
    from engine.store.datasets import save_reviews
    from tests.fixtures.reviews import make_reviews

    path = tmp_path / "cold.duckdb"
    rv = make_reviews(n)
    save_reviews(Store(path), "cold", normalise_reviews(rv.drop(columns=["label"])))
    return path, rv


def test_cold_start_queue_progress_and_refusal(tmp_path, monkeypatch):
    from engine.services.reviews import signal_ranks

    path, rv = _cold(tmp_path)
    at = _run(path, monkeypatch, reviewer="ann")
    assert at.selectbox(key="rv_order").value == "signals"
    first = signal_ranks(Store(path), "cold").sort_values("signal_rank")["review_id"].iloc[0]
    assert at.session_state["rv_current"] == first
    assert "0 meaningless and 0 fine labels; training needs 5 of each (5 more meaningless, 5 more fine)" \
        in at.get("progress")[0].proto.text
    _button(at, "rv_train").click()
    at.run()
    assert any("so 5 more meaningless and 5 more fine label(s) are needed" in e.value for e in at.error)
    assert rdb.latest_model_id(Store(path), "cold") is None


def test_new_since_last_visit_and_drift(db, monkeypatch):
    from engine.data.dataset import normalise_reviews
    from engine.services.reviews import append_reviews
    from tests.fixtures.reviews import make_reviews

    at = _run(db, monkeypatch, reviewer="ann")       # first visit: recorded
    assert rdb.last_visit(Store(db), "toy", "ann") is not None
    spam = make_reviews(120).iloc[80:]
    spam = spam[spam["label"] == 1].drop(columns=["label"])
    append_reviews(Store(db), "toy", normalise_reviews(spam))
    at = _run(db, monkeypatch, reviewer="ann", view="batches")
    assert any("10 reviews are new since your last visit" in i.value for i in at.info)
    assert any("The share flagged rose from" in w.value for w in at.warning)
    table = at.dataframe[0].value
    assert table["added reviews"].tolist() == [10] and table["share flagged"].tolist() == ["100.0%"]
    assert float(table["PSI"].iloc[0]) > 0.25
    assert not table.astype(str).isin(["None", "nan", "NaT"]).any().any()
    at = _run(db, monkeypatch, reviewer="ann", order="batch")
    assert at.session_state["rv_current"] in set(spam["review_id"])


def test_label_checks_view(db, monkeypatch):
    store = Store(db)
    rdb.append_labels(store, "toy", ["R0001", "R0002", "R0003"], "fine", "ann")
    rdb.append_labels(store, "toy", ["R0001", "R0002"], "fine", "bob")
    rdb.append_labels(store, "toy", ["R0003"], "meaningless", "bob")
    at = _run(db, monkeypatch, view="checks")
    assert not at.exception
    assert at.metric[0].label == "Fleiss' kappa"
    pairs = at.dataframe[0].value
    assert pairs[["reviewer_a", "reviewer_b", "n_common"]].values.tolist() == [["ann", "bob", 3]]
    assert any("1 reviews with disagreeing labels" in c.value for c in at.caption)
    at = _run(db, monkeypatch, order="disagreement")
    assert at.session_state["rv_current"] == "R0003"
