"""The store: schema creation, transactions, and coexistence of two processes."""

import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import pytest

from engine.data import Dataset
from engine.errors import DataError, StoreBusy
from engine.store import Store
from engine.store.datasets import list_datasets, load_dataset, save_dataset
from engine.store.schema import SCHEMA_VERSION
from engine.store.sql import empty, ph, run_ids, sample_threshold


def _tiny(name="tiny"):
    inter = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["i1", "i2", "i1"],
                          "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
                          "event": ["view", "apply", "view"]})
    items = pd.DataFrame({"item_id": ["i1", "i2"], "title": ["カフェスタッフ", "倉庫内軽作業"],
                          "category": ["飲食", "物流"], "hourly_wage": [1200, 1100]})
    return Dataset(name, inter, None, items, source="test")


def test_schema_is_created_and_versioned(store):
    with store.connect() as con:
        assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"datasets", "users", "items", "interactions", "splits", "runs", "recommendations",
            "metrics", "user_metrics", "reviews"} <= tables


def test_round_trip_keeps_ids_text_metadata_and_weights(store):
    save_dataset(store, _tiny())
    ds = load_dataset(store, "tiny")
    assert ds.n_users == 2 and ds.n_items == 2 and ds.n_interactions == 3
    items = ds.items.set_index("item_id")
    assert items.loc["i1", "title"] == "カフェスタッフ"
    assert items.loc["i2", "hourly_wage"] == 1100
    w = ds.interactions.set_index(["user_id", "item_id"])["weight"]
    assert w[("u1", "i2")] == 5.0 and w[("u1", "i1")] == 1.0  # apply=5, view=1 by default
    row = list_datasets(store).iloc[0]
    assert (row["n_users"], row["n_items"], row["n_interactions"]) == (2, 2, 3)


def test_existing_name_is_refused_and_store_unchanged(store):
    save_dataset(store, _tiny())
    with pytest.raises(DataError, match="already in the store"):
        save_dataset(store, _tiny())
    assert store.scalar("SELECT count(*) FROM interactions") == 3


def test_failed_write_rolls_back(store):
    save_dataset(store, _tiny("a"))
    with pytest.raises(RuntimeError):
        with store.transaction() as con:
            con.execute("DELETE FROM interactions")
            raise RuntimeError("boom")
    assert store.scalar("SELECT count(*) FROM interactions") == 3


def test_replace_swaps_the_dataset(store):
    save_dataset(store, _tiny())
    ds = _tiny()
    ds.interactions = ds.interactions.iloc[:1]
    save_dataset(store, ds, replace=True)
    assert store.scalar("SELECT count(*) FROM interactions WHERE dataset='tiny'") == 1
    assert store.scalar("SELECT count(*) FROM datasets") == 1


_HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE IF NOT EXISTS held (x INT)")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
""")


def _hold_lock(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_reader_waits_for_another_process_instead_of_failing(tmp_path):
    path = tmp_path / "s.duckdb"
    save_dataset(Store(path), _tiny())
    proc = _hold_lock(path, 1.5)
    try:
        # without the store's retry, a second process cannot open the file at all
        with pytest.raises(duckdb.IOException):
            duckdb.connect(str(path))
        got = Store(path, lock_timeout=60).scalar("SELECT count(*) FROM interactions")
    finally:
        proc.wait()
    assert got == 3


def test_lock_held_too_long_gives_one_sentence(tmp_path):
    path = tmp_path / "s.duckdb"
    Store(path).scalar("SELECT 1")
    proc = _hold_lock(path, 5)
    try:
        with pytest.raises(StoreBusy, match="stayed locked by another recscope process"):
            Store(path, lock_timeout=0.3).scalar("SELECT 1")
    finally:
        proc.kill()
        proc.wait()


def test_a_session_shares_one_connection_between_reads(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.session() as s:
        s.df("CREATE TEMP TABLE t AS SELECT 42 AS x")      # a temp table lives per connection
        assert s.scalar("SELECT x FROM t") == 42
        with s.connect() as con:
            assert con.execute("SELECT x FROM t").fetchone()[0] == 42
        with s.session() as inner:                          # a reader's own session nests
            assert inner is s
    with pytest.raises(duckdb.CatalogException):            # gone with the session's connection
        store.scalar("SELECT x FROM t")


def test_the_sql_helpers():
    assert ph([1, 2, 3]) == "?, ?, ?"
    assert run_ids(["3", 1, 3.0, 2]) == [3, 1, 2]            # ints, first occurrence kept
    frame = empty({"run_id": "int64", "user_id": "object"})
    assert frame.empty and frame.dtypes.astype(str).tolist() == ["int64", "object"]
    assert sample_threshold(1, 2) == 1000003 // 2            # keep about half of the hash range

