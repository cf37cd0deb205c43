"""The dataset picker tells "has no reviews / no interactions" from "no such dataset"."""

import pandas as pd

from engine.data import Dataset
from engine.store import Store
from engine.store.datasets import save_dataset, save_reviews
from tests.app.conftest import run_page


def _store(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    inter = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["x", "y", "x"]})
    save_dataset(Store(db), Dataset("events", inter, None, None))
    save_reviews(Store(db), "spam", pd.DataFrame({"review_id": ["1"], "text": ["hello"],
                                                  "label": [0], "company": [None],
                                                  "user_id": [None],
                                                  "created_at": [pd.NaT]}))
    monkeypatch.setenv("RECSCOPE_DB", str(db))


def _run(page, **params):
    return run_page(page, **params)


def test_reviews_only_dataset_on_the_runs_page(tmp_path, monkeypatch):
    _store(tmp_path, monkeypatch)
    at = _run("runs.py", dataset="spam")
    msgs = [w.value for w in at.warning]
    assert any("Dataset “spam” has no interactions to recommend from; showing “events”" in m
               for m in msgs), msgs
    assert at.selectbox[0].value == "events"


def test_dataset_without_reviews_on_the_reviews_page(tmp_path, monkeypatch):
    _store(tmp_path, monkeypatch)
    at = _run("reviews.py", dataset="events")
    msgs = [w.value for w in at.warning]
    assert any("Dataset “events” has no reviews; showing “spam”" in m for m in msgs), msgs


def test_unknown_dataset_is_named(tmp_path, monkeypatch):
    _store(tmp_path, monkeypatch)
    at = _run("reviews.py", dataset="nosuch")
    assert any("no dataset named “nosuch”" in w.value for w in at.warning)
