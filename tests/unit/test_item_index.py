"""The per (run, item) summaries the Item page reads (engine/store/item_index.py): written
with a run's lists, equal to a direct aggregate over them (pandas, and by hand), built by
the schema migration for a store written before they existed, dropped with the run."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.store import Store, core
from engine.store import items as I
from engine.store import runs as R

# four users' top-3 lists; the test part of the split holds (u1, a) and (u2, b)
LISTS = {"u1": ["a", "b", "c"], "u2": ["b", "a", "d"], "u3": ["a", "c", "b"],
         "u4": ["c", "a", "b"]}
TEST = [("u1", "a"), ("u2", "b")]


def _recs() -> pd.DataFrame:
    return pd.DataFrame([(u, r, i, 1.0 / r) for u, items in LISTS.items()
                         for r, i in enumerate(items, 1)],
                        columns=["user_id", "rank", "item_id", "score"])


def _store(tmp_path) -> tuple[Store, int]:
    store = Store(tmp_path / "s.duckdb")
    with store.transaction() as con:
        con.execute("INSERT INTO split_defs (split_id, dataset, method) VALUES (1, 'd', 'hand')")
        for u, i in TEST:
            con.execute("INSERT INTO splits (split_id, user_id, item_id, part) "
                        "VALUES (1, ?, ?, 'test')", [u, i])
        # a train row of the same pair must not count as a hit
        con.execute("INSERT INTO splits (split_id, user_id, item_id, part) VALUES (1, 'u3', 'a', 'train')")
    rid = R.create_run(store, dataset="d", split_id=1, algorithm="popularity", k=3)
    R.finish_run(store, rid, recs=_recs(),
                 metrics=pd.DataFrame({"metric": ["ndcg"], "k": [3], "value": [0.5]}))
    return store, rid


def _ranks(store, rid) -> pd.DataFrame:
    return store.df("SELECT item_id, CAST(rank AS INTEGER) AS rank, n_users, n_hits "
                    "FROM run_item_ranks WHERE run_id = ? ORDER BY item_id, rank", [rid])


def _direct_ranks() -> pd.DataFrame:
    """The same summary computed by pandas from the lists (independent of the SQL)."""
    recs = _recs()
    recs["hit"] = [(u, i) in TEST for u, i in zip(recs["user_id"], recs["item_id"])]
    g = recs.groupby(["item_id", "rank"]).agg(n_users=("user_id", "size"), n_hits=("hit", "sum"))
    return g.reset_index().sort_values(["item_id", "rank"]).reset_index(drop=True)


def test_item_ranks_equal_a_direct_aggregate_and_the_hand_count(tmp_path):
    store, rid = _store(tmp_path)
    got = _ranks(store, rid)
    pd.testing.assert_frame_equal(got, _direct_ranks(), check_dtype=False)
    # by hand: a at rank 1 for u1 (a hit) and u3 (train only: no hit), rank 2 for u2, u4
    a = got[got["item_id"] == "a"][["rank", "n_users", "n_hits"]].values.tolist()
    assert a == [[1, 2, 1], [2, 2, 0]]


def test_audience_rank_counts_and_recipients_read_from_the_summaries(tmp_path):
    store, rid = _store(tmp_path)
    aud = I.item_audience(store, "d", "b").set_index("run_id").loc[rid]
    # b: u2@1 (hit), u1@2, u3@3, u4@3 -> best 1, median (2+3)/2, mean 9/4
    assert (aud["n_users"], aud["n_eval_users"]) == (4, 4)
    assert (aud["best_rank"], aud["median_rank"], aud["n_hits"]) == (1, 2.5, 1)
    assert aud["mean_rank"] == pytest.approx(2.25)
    # the same figures as pandas' on the lists, for every item
    recs = _recs()
    for item, rows in recs.groupby("item_id"):
        row = I.item_audience(store, "d", item).iloc[0]
        assert row["n_users"] == len(rows)
        assert row["best_rank"] == rows["rank"].min()
        assert row["median_rank"] == rows["rank"].median()
        assert row["mean_rank"] == pytest.approx(rows["rank"].mean())
    nobody = I.item_audience(store, "d", "zz").iloc[0]
    assert nobody["n_users"] == 0 and nobody["n_hits"] == 0 and pd.isna(nobody["best_rank"])
    rc = I.item_rank_counts(store, "c", [rid])
    assert rc[["rank", "n_users"]].values.tolist() == [[1, 1], [2, 1], [3, 1]]
    rec = I.item_recipients(store, rid, "b", n=2)
    assert rec["user_id"].tolist() == ["u2", "u1"] and rec["hit"].tolist() == [True, False]
    # beyond the two: u3 and u4 tie at rank 3, ordered by the hash of the id as the scan does
    kept = I.item_recipients(store, rid, "b", n=4)
    scanned = I.item_recipients(store, rid, "b", n=50)      # above RECIPIENTS_KEPT: the scan
    pd.testing.assert_frame_equal(kept, scanned, check_dtype=False)
    assert sorted(kept["user_id"].tolist()[2:]) == ["u3", "u4"]


def test_deleting_the_run_drops_its_summaries(tmp_path):
    store, rid = _store(tmp_path)
    R.delete_run(store, rid)
    for table in ("run_item_ranks", "run_item_recipients"):
        assert store.scalar(f"SELECT count(*) FROM {table}") == 0


def test_the_migration_to_version_5_builds_the_summaries(tmp_path):
    store, rid = _store(tmp_path)
    # make the file look like version 4: the tables empty, the recorded version 4
    with store.transaction() as con:
        con.execute("DELETE FROM run_item_ranks")
        con.execute("DELETE FROM run_item_recipients")
        con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    core._initialised.discard(str(store.path.resolve()))     # as a new process opens it
    got = _ranks(store, rid)
    pd.testing.assert_frame_equal(got, _direct_ranks(), check_dtype=False)
    assert store.scalar("SELECT count(*) FROM run_item_recipients") == len(_recs())
    assert store.scalar("SELECT value FROM meta WHERE key = 'schema_version'") == "5"


def test_item_popularity_gives_item_stats_rank(tmp_path):
    from tests.fixtures.runs_store import build_tiny_store

    tiny = build_tiny_store(tmp_path / "tiny.duckdb")
    pop = I.item_popularity(tiny, "tiny").set_index("item_id")["n_users"]
    for item in pop.index:
        full = I.item_stats(tiny, "tiny", item)
        short = I.item_stats(tiny, "tiny", item, with_rank=False)
        assert short["n_users"] == full["n_users"] == pop[item]
        assert full["popularity_rank"] == 1 + int((pop > pop[item]).sum())
        assert full["n_items"] == len(pop)
        assert "popularity_rank" not in short


@pytest.mark.parametrize("item,k", [("i2", None), ("i2", 1), ("i1", 2), ("i9", None)])
def test_co_recommended_reads_the_kept_lists_as_the_scan_does(tmp_path, monkeypatch, item, k):
    """An item in few lists: its lists' users come from run_item_recipients; the result
    equals the scan of the run's lists (forced by keeping no recipients)."""
    from tests.fixtures.runs_store import build_tiny_store

    tiny = build_tiny_store(tmp_path / "tiny.duckdb")
    fast = I.co_recommended(tiny, 2, item, n=5, k=k)
    monkeypatch.setattr(I, "RECIPIENTS_KEPT", 0)
    scanned = I.co_recommended(tiny, 2, item, n=5, k=k)
    pd.testing.assert_frame_equal(fast, scanned)
