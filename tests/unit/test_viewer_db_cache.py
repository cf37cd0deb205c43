"""viewer.db: reads cached by store version; a viewer write seen only by the readers it
affects (write_only); figures kept per store version (figure)."""

from __future__ import annotations

import pytest

from engine.store import Store
from viewer import db

CALLS: list[str] = []


def count_visits(store: Store) -> int:
    CALLS.append("visits")
    return int(store.scalar("SELECT count(*) FROM review_visits"))


def count_datasets(store: Store) -> int:
    CALLS.append("datasets")
    return int(store.scalar("SELECT count(*) FROM datasets"))


def stamp(store: Store) -> None:
    with store.transaction() as con:
        con.execute("INSERT INTO review_visits VALUES ('d', 'kim', current_timestamp)")


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    s = Store(path)
    s.scalar("SELECT 1")          # creates the schema
    db.invalidate()
    CALLS.clear()
    yield s
    db.invalidate()


def test_write_only_refreshes_the_affected_reader_and_keeps_the_others(store):
    assert db.read(count_visits) == 0 and db.read(count_datasets) == 0
    assert CALLS == ["visits", "datasets"]
    db.write_only(stamp, affects=(count_visits,))
    assert db.read(count_visits) == 1                 # fresh: it sees the write
    assert db.read(count_datasets) == 0
    assert CALLS == ["visits", "datasets", "visits"]  # datasets came from the cache
    # a write by anyone else is a new version for every reader
    with store.transaction() as con:
        con.execute("INSERT INTO datasets (name, source) VALUES ('x', 'test')")
    assert db.read(count_datasets) == 1
    assert CALLS[-1] == "datasets"


def test_figure_is_kept_until_the_store_changes(store):
    built = []

    def build(n):
        built.append(n)
        return {"n": n}

    a = db.figure("t.fig", ("k",), build, 1)
    assert db.figure("t.fig", ("k",), build, 1) is a and built == [1]
    db.figure("t.fig", ("other",), build, 2)        # another key is another figure
    assert built == [1, 2]
    stamp(store)
    assert db.figure("t.fig", ("k",), build, 3) == {"n": 3} and built == [1, 2, 3]
