"""The pieces behind issue 15's CLI and store fixes: engine.validate, the --db check,
engine.textsafe, labels tied to their text, run ownership (engine.liveness) and the
demo's --replace."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest

from engine.errors import DataError


# --------------------------------------------------------------------------- validate

def test_numbers_are_finite_whole_and_bounded():
    from engine.validate import check_float, check_int, check_param

    assert check_int("1e3", "n") == 1000 and check_int(7.0, "n") == 7
    assert check_float("-2.5", "x") == -2.5
    for bad, sentence in [("true", "n must be a whole number, not 'true'."),
                          (True, "n must be a whole number, not True."),
                          ("nan", "n must be a finite number; got 'nan'."),
                          ("1e400", "n must be a finite number; got '1e400'."),
                          ("2.5", "n must be a whole number; got '2.5'."),
                          ("many", "n must be a whole number; got 'many'.")]:
        with pytest.raises(DataError) as e:
            check_int(bad, "n")
        assert str(e.value) == sentence
    with pytest.raises(DataError, match=r"^k must be between 1 and 1,000; got '1001'\.$"):
        check_int("1001", "k", bound="k")
    with pytest.raises(DataError, match="must be at most 1024"):
        check_param("als", "factors", 64, "1e9")
    with pytest.raises(DataError, match="must be a number, not True"):
        check_param("als", "regularization", 0.05, True)
    assert check_param("als", "factors", 64, 32) == 32


def test_registry_refuses_what_the_issue_found():
    from engine.recommend.registry import make

    for params, words in [({"factors": 1e9}, "at most 1024"),
                          ({"regularization": float("inf")}, "finite"),
                          ({"factors": True}, "whole number, not True")]:
        with pytest.raises(DataError, match=words):
            make("als", **params)
    with pytest.raises(DataError, match="at most 10000"):
        make("bpr", iterations=10**9)


def test_names_with_control_characters_are_refused():
    from engine.validate import check_name, has_control

    assert check_name("データ set", "name") == "データ set"
    for bad in ["line1\nline2", "\x1b[31mred", "bell\x07", "rtl\u202eevil", "tab\tname"]:
        assert has_control(bad)
        with pytest.raises(DataError, match="control characters"):
            check_name(bad, "A dataset name")
    with pytest.raises(DataError, match="must not be empty"):
        check_name("  ", "A dataset name")


def test_printable_keeps_one_line():
    from engine.textsafe import printable

    assert printable("a\nb\x1b[31mc") == "a\\nb\\x1b[31mc"
    assert printable("日本語 ok") == "日本語 ok"


# --------------------------------------------------------------------------- --db

def test_db_must_be_a_duckdb_file_or_a_new_path(tmp_path):
    from engine.store.dbfile import check_db_path

    real = tmp_path / "real.duckdb"
    duckdb.connect(str(real)).close()
    assert check_db_path(real) == real
    assert check_db_path(tmp_path / "new" / "deeper.duckdb")  # may be created
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "x.csv").write_text("user,item\nu,i\n")
    (tmp_path / "folder").mkdir()
    for p, words in [(tmp_path / "folder", "is a folder"), (tmp_path / "empty", "an empty file"),
                     ("/dev/null", "not a regular file"), (tmp_path / "x.csv", "not a DuckDB file"),
                     (tmp_path / "x.csv" / "s.duckdb", "is a file, not a folder")]:
        with pytest.raises(DataError) as e:
            check_db_path(p)
        assert words in str(e.value) and "a --db must be a DuckDB file or a new path" in str(e.value)


# --------------------------------------------------------------------------- exports

def _reviews(ids, texts) -> pd.DataFrame:
    return pd.DataFrame({"review_id": ids, "text": texts, "label": [None] * len(ids),
                         "company": "c", "user_id": "u", "created_at": pd.NaT})


def test_every_text_cell_of_the_labels_export_is_defused(store):
    from engine.reviews.labels import export_frame
    from engine.store.datasets import save_reviews
    from engine.store.reviews import append_labels, label_history, load_reviews

    reviews = _reviews(["=1+1", "r2"], ["@SUM(A1)", "fine text"])
    save_reviews(store, "rv", reviews)
    append_labels(store, "rv", ["=1+1"], "fine", reviewer="=cmd|' /C calc'!A0")
    append_labels(store, "rv", ["r2"], "meaningless", reviewer="-ann")
    df = export_frame(label_history(store, "rv"), load_reviews(store, "rv"))
    by_id = df.set_index("review_id")
    assert list(by_id.index) == ["'=1+1", "r2"]
    assert by_id.loc["'=1+1", "reviewer"] == "'=cmd|' /C calc'!A0"
    assert by_id.loc["'=1+1", "text"] == "'@SUM(A1)"
    assert by_id.loc["r2", "reviewer"] == "'-ann" and by_id.loc["r2", "text"] == "fine text"
    with pytest.raises(DataError, match="control characters"):
        append_labels(store, "rv", ["r2"], "fine", reviewer="eve\x1b[2J")


def test_defuse_frame_leaves_numbers_alone():
    from engine.textsafe import defuse_frame

    df = pd.DataFrame({"n": [-1, 2], "s": [" =x", "ok"]})
    out = defuse_frame(df)
    assert out["n"].tolist() == [-1, 2] and out["s"].tolist() == ["' =x", "ok"]


# --------------------------------------------------------------------------- labels

def test_a_label_stays_with_the_text_it_was_given_for(store):
    from engine.reviews.labels import current_labels
    from engine.store.datasets import save_reviews
    from engine.store.reviews import append_labels, label_history

    save_reviews(store, "rv", _reviews(["r1", "r2"], ["old one", "same"]))
    append_labels(store, "rv", ["r1", "r2"], "meaningless", reviewer="ann")
    # the reviews are replaced; r1 now holds another text, r2 the same
    save_reviews(store, "rv", _reviews(["r1", "r2"], ["new one", "same"]), replace=True)
    hist = label_history(store, "rv")
    assert hist.set_index("review_id")["earlier_text"].to_dict() == {"r1": True, "r2": False}
    assert current_labels(hist)["review_id"].tolist() == ["r2"]
    # a new label on the new text applies
    append_labels(store, "rv", ["r1"], "fine", reviewer="bob")
    cur = current_labels(label_history(store, "rv")).set_index("review_id")
    assert cur.loc["r1", "label"] == "fine" and cur.loc["r1", "reviewer"] == "bob"


# --------------------------------------------------------------------------- liveness

def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_owner_gone_rules():
    from engine.liveness import HEARTBEAT_TIMEOUT, owner_gone, process_started

    now = time.time()
    me = {"owner_host": "h", "owner_pid": os.getpid(), "owner_started": process_started(os.getpid())}
    assert not owner_gone(me, now, "h")
    parent = os.getppid()
    alive = {"owner_host": "h", "owner_pid": parent, "owner_started": process_started(parent)}
    assert not owner_gone(alive, now, "h")
    assert owner_gone({**alive, "owner_started": "1"}, now, "h")  # pid reused by another process
    assert owner_gone({"owner_host": "h", "owner_pid": _dead_pid(), "owner_started": "5"}, now, "h")
    other = {"owner_host": "elsewhere", "owner_pid": 1, "owner_started": "5"}
    assert not owner_gone({**other, "heartbeat_unix": now - 10}, now, "h")
    assert owner_gone({**other, "heartbeat_unix": now - HEARTBEAT_TIMEOUT - 1}, now, "h")
    assert owner_gone({"owner_pid": None, "created_unix": now - HEARTBEAT_TIMEOUT - 1}, now, "h")
    assert not owner_gone({"owner_pid": None, "created_unix": now - 5}, now, "h")


def test_sweep_marks_a_run_of_a_dead_process_interrupted(store):
    from engine import liveness
    from engine.store.runs import create_run, get_run

    mine = create_run(store, dataset="d", split_id=None, algorithm="als")
    orphan = create_run(store, dataset="d", split_id=None, algorithm="bpr")
    for r in (mine, orphan):
        liveness.stop_heartbeat(r)
    with store.transaction() as con:
        con.execute("UPDATE runs SET owner_pid = ? WHERE run_id = ?", [_dead_pid(), orphan])
    assert liveness.sweep(store) == [orphan]
    assert get_run(store, mine)["status"] == "running"
    run = get_run(store, orphan)
    assert run["status"] == "failed" and run["error"].startswith("interrupted")


def test_a_training_run_beats_and_stops_beating_when_it_ends(store):
    from engine import liveness
    from engine.store.runs import create_run, fail_run

    run_id = create_run(store, dataset="d", split_id=None, algorithm="als")
    first = store.scalar("SELECT heartbeat_unix FROM runs WHERE run_id = ?", [run_id])
    time.sleep(0.05)
    liveness._wake.set()  # beat now rather than in HEARTBEAT_SECONDS
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        beat = store.scalar("SELECT heartbeat_unix FROM runs WHERE run_id = ?", [run_id])
        if beat > first:
            break
        time.sleep(0.05)
    assert beat > first
    fail_run(store, run_id, "stopped")
    assert run_id not in liveness._beating


def test_an_older_store_gains_the_owner_columns(tmp_path):
    import engine.store.core as core
    from engine.liveness import HEARTBEAT_TIMEOUT, sweep
    from engine.store import Store
    from engine.store.runs import get_run

    path = tmp_path / "old.duckdb"
    Store(path).scalar("SELECT 1")
    con = duckdb.connect(str(path))
    for c in ("owner_host", "owner_pid", "owner_started", "heartbeat_unix"):
        con.execute(f"ALTER TABLE runs DROP COLUMN {c}")
    old = pd.Timestamp.now() - pd.Timedelta(seconds=HEARTBEAT_TIMEOUT + 3600)
    con.execute("INSERT INTO runs (run_id, dataset, algorithm, status, created_at) VALUES "
                "(1, 'd', 'als', 'running', ?), (2, 'd', 'bpr', 'running', current_timestamp)",
                [old.to_pydatetime()])
    con.close()
    core._initialised.discard(str(path.resolve()))
    store = Store(path)
    assert sweep(store) == [1]
    assert get_run(store, 1)["status"] == "failed" and get_run(store, 2)["status"] == "running"


# --------------------------------------------------------------------------- demo

def test_demo_replace_says_what_it_drops(store):
    from engine.services.bandit_experiments import new_experiment
    from engine.demo import replace_note
    from engine.pipeline import train_runs
    from engine.data.synthetic import make_job_board
    from engine.store.datasets import save_dataset

    assert replace_note(store, "jobboard") is None  # nothing there yet
    save_dataset(store, make_job_board(seed=0, name="jobboard", n_users=60, n_items=30, days=30,
                                       n_reviews=20))
    assert replace_note(store, "jobboard") is None  # a bare dataset: nothing of a person's
    res = train_runs(store, "jobboard", ["popularity", "random"], neighbours=0)
    exp = new_experiment(store, name="mine", run_ids=[r["run_id"] for r in res], k=10)
    with pytest.raises(DataError, match="2 run\\(s\\) and 0 review model\\(s\\) of 'jobboard'"):
        replace_note(store, "jobboard")
    note = replace_note(store, "jobboard", replace=True)
    assert f"bandit experiment(s) {exp}" in note and "dropping 2 run(s)" in note
