"""Home page logic without a browser (streamlit.testing AppTest)."""

import pandas as pd
from streamlit.testing.v1 import AppTest

from engine.data import Dataset
from engine.store import Store
from engine.store.datasets import save_dataset
from tests.conftest import ROOT



def _run(db, monkeypatch) -> AppTest:
    monkeypatch.setenv("RECSCOPE_DB", str(db))
    at = AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_empty_store_explains_how_to_start(tmp_path, monkeypatch):
    at = _run(tmp_path / "s.duckdb", monkeypatch)
    assert any("recscope demo" in i.value for i in at.info)
    assert len(at.dataframe) == 0


def test_lists_datasets_with_counts(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    inter = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["x", "y", "x"]})
    save_dataset(Store(db), Dataset("tiny", inter, None, None, source="test"))
    at = _run(db, monkeypatch)
    df = at.dataframe[0].value
    row = df[df["Dataset"] == "tiny"].iloc[0]
    assert (row["Users"], row["Items"], row["Interactions"], row["Reviews"]) == (2, 2, 3, 0)
