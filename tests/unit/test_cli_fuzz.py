"""Hostile command lines against every command (issue 15, "every failure is one sentence").

Each case runs in-process through ``engine.cli.main`` on one small shared store and
asserts: exit 0 or 2 (1 only for the injected internal error), no "Traceback" in the
output, exactly one line on stderr for exit 2, and every table's checksum unchanged
after exit 2. Each in-process case runs under a SIGALRM timeout (a bound, not a speed
claim): a value that would run without end fails the case instead of hanging the suite.
The store-level cases that need a real process (``kill -9`` during training) run as
subprocesses with a subprocess timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
CASE_TIMEOUT = 60  # seconds per in-process case


# --------------------------------------------------------------------------- helpers

def table_checksums(path) -> dict[str, tuple]:
    """(rows, sum of row hashes) per table of the DuckDB file: equal iff (almost surely)
    the tables hold the same rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        return {n: tuple(con.execute(f'SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) '
                                     f'FROM "{n}" AS t').fetchone()) for n in names}
    finally:
        con.close()


class CaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CaseTimeout()


def run_cli(capsys, argv) -> tuple[int, str, str]:
    capsys.readouterr()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_TIMEOUT)
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    except CaseTimeout:
        pytest.fail(f"recscope {' '.join(map(str, argv))} ran for over {CASE_TIMEOUT} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out, err = capsys.readouterr()
    return rc, out, err


# --------------------------------------------------------------------------- the store

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small store (dataset 'jb' with two runs, reviews with a model, two bandit
    experiments) and the input files the cases use."""
    from engine.data.synthetic import make_job_board
    from engine.store import Store
    from engine.store.datasets import save_dataset

    d = tmp_path_factory.mktemp("fuzz")
    db = d / "store.duckdb"
    save_dataset(Store(db), make_job_board(seed=0, name="jb", n_users=80, n_items=40, days=30,
                                           n_reviews=60))
    for argv in (["train", "--dataset", "jb", "--algos", "popularity,random", "--neighbours", "0"],
                 ["reviews", "train", "--dataset", "jb", "--folds", "2"],
                 ["bandit", "simulate", "--arms", "0.1,0.2", "--steps", "300", "--name", "sim"],
                 ["bandit", "create", "--arms", "0.1,0.2", "--name", "stepper", "--start"]):
        assert main([*argv, "--db", str(db)]) == 0, argv
    f = {}
    f["folder"] = d / "a_folder"
    f["folder"].mkdir()
    f["empty"] = d / "empty.duckdb"
    f["empty"].write_bytes(b"")
    f["text"] = d / "notes.txt"
    f["text"].write_text("hello\nworld\n")
    f["csv"] = d / "data.csv"
    f["csv"].write_text("user,item\nu1,i1\nu2,i2\nu1,i2\n")
    f["under_file"] = f["text"] / "x.duckdb"
    f["multiline"] = d / "multiline.csv"
    f["multiline"].write_text('user,item\n"u1\nu2\nu3",i1\nu4,i2\n')
    f["reviews"] = d / "reviews.csv"
    f["reviews"].write_text("id,text,label\nr1,good place,0\nr2,=cmd|' /C calc'!A0,1\n")
    f["run"] = d / "run.csv"
    f["run"].write_text("user_id,item_id,rank\nnobody,nothing,1\n")
    f["log"] = d / "log.csv"
    f["log"].write_text("timestamp,arm,reward,propensity\n" + "".join(
        f"2026-01-01T00:00:{i:02d},a{i % 2},{i % 3 == 0:d},0.5\n" for i in range(40)))
    f["log_many_arms"] = d / "log_many.csv"
    pd.DataFrame({"timestamp": range(1_700_000_000, 1_700_000_000 + 40_000),
                  "arm": [f"arm{i}" for i in range(40_000)], "reward": 0,
                  "propensity": 0.5}).to_csv(f["log_many_arms"], index=False)
    f["rewards"] = d / "rewards.csv"
    f["rewards"].write_text("decision_id,reward\n999999,1\n")
    for name, item, pos in (("ope_neg", -1, 0), ("ope_frac", 1.5, 0), ("ope_pos", 1, -2)):
        f[name] = d / f"{name}.csv"
        f[name].write_text(",item_id,position,click,propensity_score\n"
                           f"0,{item},{pos},1,0.5\n1,0,0,0,0.5\n")
    ml = d / "ml"
    ml.mkdir()
    (ml / "u.data").write_text("1\t1\t5\t881250949\n2\t1\t3\t881250950\n")
    (ml / "u.genre").write_text("Action|x\nComedy|1\n")
    (ml / "u.item").write_text("1|Toy|01-Jan-1995||http://x|0|1\n")
    f["ml"] = ml
    return db, f


NAN_LIKE = ["nan", "inf", "-inf", "1e400", "true", "", "0x10", "1,5", "ninety"]
EVIL_NAMES = ["line1\nline2\x1b[31m", "\x1b]0;pwned\x07", "tab\there", "nul\x00", " "]


def hostile_cases(f) -> list[tuple[list, int | None]]:
    """(argv without --db, expected exit or None for 0-or-2)."""
    C: list[tuple[list, int | None]] = []
    train = ["train", "--dataset", "jb", "--algos", "popularity", "--neighbours", "0"]
    # the issue's own cases: each refused (exit 2)
    for p in ("als.factors=1e9", "als.regularization=1e400", "als.factors=true",
              "bpr.iterations=1e9", "als.factors=nan", "als.alpha=inf", "als.factors=-1",
              "als.factors=2.5", "bpr.learning_rate=true", "ease.max_items=1e9",
              "itemknn.K=1e12", "als.nope=1", "als.factors", "=3"):
        algo = p.split(".")[0] if "." in p else "als"
        C.append((["train", "--dataset", "jb", "--algos", algo, "--param", p], 2))
    C += [([*train, "--k", "1e9"], 2), ([*train, "--model-seed", "-1"], 2),
          ([*train, "--seed", "1e20"], 2), ([*train, "--seed", "-5"], 2),
          (["train", "--dataset", "jb", "--algos", "popularity,popularity"], 2),
          (["train", "--dataset", "jb", "--algos", ""], 2),
          (["train", "--dataset", "jb", "--algos", "popularity,\x1b[31m"], 2),
          (["train", "--dataset", "nope", "--algos", "popularity"], 2),
          (["train", "--dataset", "jb\n", "--algos", "popularity"], 2),
          ([*train, "--neighbours", "1e9"], 2), ([*train, "--test-n", "1e9"], 2),
          ([*train, "--time-cut", "nan", "--split", "time_cut"], 2),
          ([*train, "--min-history", "1e12"], 2)]
    for v in NAN_LIKE:
        for flag in ("--k", "--test-fraction", "--min-weight", "--model-seed"):
            C.append(([*train, flag, v], 2))
    C += [(["reviews", "train", "--dataset", "jb", "--C", v], 2) for v in
          ("nan", "inf", "0", "-1", "1e400", "true")]
    C += [(["reviews", "train", "--dataset", "jb", "--folds", v], 2) for v in
          ("1", "1e9", "nan", "2.5")]
    C += [(["reviews", "train", "--dataset", "nope"], 2), (["reviews", "models", "--dataset", "nope"], 2),
          (["reviews", "export-labels", "--dataset", "jb", "--out", "/no/such/folder/x.csv"], 2)]
    sim = ["bandit", "simulate"]
    C += [([*sim, "--arms", v], 2) for v in
          ("nan,0.5", "inf,0.5", "0.5", "", ",", "0.1,,0.2", "2,0.5", "-0.1,0.5", "true,0.5",
           ",".join(["0.1"] * 1001))]
    C += [([*sim, "--arms", "0.1,0.2", "--prior", v], 2) for v in
          ("nan,1", "1", "1,2,3", "0,1", "inf,1", "1e9,1")]
    C += [([*sim, "--arms", "0.1,0.2", "--steps", v], 2) for v in ("1e12", "0", "-1", "nan", "2.5")]
    C += [([*sim, "--arms", "0.1,0.2", flag, v], 2) for flag, v in
          (("--batch", "1e9"), ("--batch", "0"), ("--epsilon", "nan"), ("--epsilon", "2"),
           ("--delay", "-1"), ("--delay", "1e9"), ("--seed", "-1"), ("--drift", "nan,0"),
           ("--names", "a\nb,c"), ("--name", EVIL_NAMES[0]), ("--policy", "greedy"))]
    C += [(["bandit", "create", "--runs", v, "--name", "x"], 2) for v in
          ("1.5,2", "-1,2", "999999,999998", "a,b", "")]
    C += [(["bandit", "create", "--arms", "0.1,0.2", "--max-steps", v], 2) for v in ("0", "1e12", "nan")]
    for action in ("start", "pause", "step", "show"):
        C += [(["bandit", action, v], 2) for v in ("424242", "-1", "1.5", "nan", "x")]
    C += [(["bandit", "step", "2", "--batches", v], 2) for v in ("0", "1e9", "nan")]
    C += [(["bandit", "run", "2", "--for", v], 2) for v in ("nan", "inf", "-1", "1e12")]
    C += [(["bandit", "run", "2", "--every", v, "--for", "0"], 2) for v in ("nan", "0", "-3", "1e9")]
    C += [(["bandit", "run", "424242", "--for", "0"], 2)]
    C += [(["bandit", "ope", "--logs", str(f[n])], 2) for n in ("ope_neg", "ope_frac", "ope_pos")]
    C += [(["bandit", "ope", "--logs", str(f["text"])], 2), (["bandit", "ope", "--logs", "/no/such.csv"], 2)]
    bimp = ["bandit", "import", str(f["log"])]
    C += [([*bimp, "--name", n], 2) for n in EVIL_NAMES]
    C += [(["bandit", "import", str(f["log_many_arms"]), "--name", "many"], 2),
          ([*bimp, "--name", "x", "--batch-size", "1e9"], 2),
          ([*bimp, "--name", "x", "--batch-size", "0"], 2),
          ([*bimp, "--name", "x", "--prior", "nan,1"], 2),
          ([*bimp, "--name", "x", "--arm-col", "nope"], 2),
          (["bandit", "import", "/no/such.csv", "--name", "x"], 2),
          (["bandit", "rewards", "1", str(f["rewards"])], 2),
          (["bandit", "rewards", "424242", str(f["rewards"])], 2)]
    # imports
    C += [(["import", "csv", str(f["csv"]), "--name", n, "--user-col", "user", "--item-col", "item"], 2)
          for n in EVIL_NAMES]
    C += [(["import", "csv", str(f["csv"]), "--name", "c", "--user-col", "user", "--item-col", "item",
            "--sep", s], 2) for s in ("\n", "\\n", "\r", '"', "ab", "")]
    C += [(["import", "csv", str(f["multiline"]), "--name", "m", "--user-col", "user",
            "--item-col", "item"], 2),
          (["import", "csv", "/no/such.csv", "--name", "c", "--user-col", "u", "--item-col", "i"], 2),
          (["import", "csv", str(f["csv"]), "--name", "jb", "--user-col", "user", "--item-col", "item"], 2),
          (["import", "csv", str(f["csv"]), "--name", "c", "--user-col", "nope", "--item-col", "item"], 2),
          (["import", "movielens", str(f["ml"]), "--name", "ml"], 2),
          (["import", "movielens", "/no/such/folder", "--name", "ml"], 2),
          (["import", "reviews", str(f["reviews"]), "--name", EVIL_NAMES[1], "--text-col", "text"], 2),
          (["import", "reviews", str(f["reviews"]), "--name", "rv", "--text-col", "nope"], 2),
          (["import", "reviews", str(f["reviews"]), "--name", "rv", "--text-col", "text",
            "--sep", "\n"], 2)]
    irun = ["import", "run", str(f["run"]), "--dataset", "jb"]
    C += [([*irun, "--name", "r", "--k", v], 2) for v in ("100000", "0", "nan", "1e9", "-1")]
    C += [([*irun, "--name", n], 2) for n in EVIL_NAMES]
    C += [([*irun, "--name", "r", "--split-id", v], 2) for v in ("424242", "-1", "1.5")]
    C += [(["import", "run", "/no/such.csv", "--dataset", "jb", "--name", "r"], 2)]
    # readers: unknown ids and names, wrong types
    C += [(["metrics", v], 2) for v in ("424242", "-1", "1.5", "x", "")]
    C += [(["compare", "1", v], 2) for v in ("424242", "x")]
    C += [(["compare", "1", "2", "--k", v], 2) for v in ("nan", "1e9", "0")]
    C += [(["compare", "1", "2", "--metric", "\x1b[31mndcg"], 2)]
    C += [(["runs", "--dataset", v], 2) for v in ("nope", "jb\n", "データ")]
    C += [(["demo", "--seed", v], 2) for v in ("nan", "-1", "1e20")]
    # the commands added with tuning, prediction, reports and the review loop
    tune = ["tune", "--dataset", "jb", "--algo", "itemknn"]
    C += [([*tune, "--trials", v], 2) for v in ("0", "1e9", "100000", "nan", "-1")]
    C += [([*tune, "--timeout", v], 2) for v in ("nan", "inf", "-5", "1e12")]
    C += [([*tune, "--space", v], 2) for v in ("itemknn.K=10..1", "itemknn.K=0..10:log",
                                               "itemknn.nope=1..2", "als.factors=1..2", "x")]
    C += [([*tune, "--study", v], 2) for v in ("424242", "-1", "1.5")]
    C += [([*train, "--folds", v], 2) for v in ("1", "1e9", "1000", "nan")]
    C += [(["predict", "train", "--dataset", "jb", "--target", v], 2)
          for v in ("nosuch", "rating>=4", "")]
    C += [(["predict", "train", "--dataset", "jb", "--target", "apply", "--horizon", v], 2)
          for v in ("nan", "inf", "-1")]
    C += [(["predict", "rerank", "1", "--model", v], 2) for v in ("424242", "-1", "x")]
    C += [(["predict", "rerank", "1", "--model", "1", "--candidates", v], 2)
          for v in ("0", "1e9", "100000", "nan")]
    C += [(["reviews", "label-issues", "--dataset", "jb", "--top", v], 2)
          for v in ("0", "1e12", "nan")]
    C += [(["reviews", "score", "--dataset", "jb", "--model", v], 2) for v in ("424242", "-1", "x")]
    C += [(["report", "--dataset", "jb", "--runs", v, "--out", "/tmp/x.html"], 2)
          for v in ("424242", "x", "")]
    C += [(["experiment", "run", "/no/such.toml"], 2)]
    # harmless commands that must simply work (exit 0)
    C += [(["datasets"], 0), (["datasets", "--json"], 0), (["runs"], 0), (["runs", "--json"], 0),
          (["metrics", "1"], 0), (["bandit", "list"], 0), (["bandit", "show", "1"], 0),
          (["reviews", "models", "--dataset", "jb"], 0)]
    return C


DB_COMMANDS = [["datasets"], ["runs"], ["metrics", "1"], ["compare", "1", "2"],
               ["train", "--dataset", "jb", "--algos", "popularity"], ["demo"],
               ["reviews", "models", "--dataset", "jb"], ["reviews", "export-labels", "--dataset", "jb"],
               ["bandit", "list"], ["bandit", "show", "1"], ["bandit", "step", "2"],
               ["bandit", "simulate", "--arms", "0.1,0.2", "--steps", "10"]]


def test_hostile_command_lines(world, capsys, tmp_path, monkeypatch):
    db, f = world
    monkeypatch.setenv("RECSCOPE_LOG_DIR", str(tmp_path / "logs"))
    cases = hostile_cases(f)
    # --db that is not a DuckDB file or a new path: one sentence for every command
    bad_dbs = [f["folder"], f["empty"], "/dev/null", f["text"], f["csv"], f["under_file"]]
    db_cases = [(cmd, bad) for cmd in DB_COMMANDS for bad in bad_dbs]
    assert len(cases) + len(db_cases) >= 200
    csv_before = f["csv"].read_bytes()
    for cmd, bad in db_cases:
        rc, out, err = run_cli(capsys, [*cmd, "--db", bad])
        assert rc == 2, (cmd, bad, rc, out, err)
        assert "Traceback" not in out + err and len(err.splitlines()) == 1, (cmd, bad, err)
        assert "a --db must be a DuckDB file or a new path" in err
    assert f["csv"].read_bytes() == csv_before  # never opened as a store
    assert f["empty"].read_bytes() == b""

    failures = []
    for argv, expected in cases:
        before = table_checksums(db)
        db_arg = [] if argv[:2] == ["bandit", "ope"] else ["--db", db]  # ope reads no store
        rc, out, err = run_cli(capsys, [*argv, *db_arg])
        problem = None
        if rc not in (0, 2):
            problem = f"exit {rc}"
        elif expected is not None and rc != expected:
            problem = f"exit {rc}, expected {expected}"
        elif "Traceback" in out + err:
            problem = "traceback"
        elif "\x1b" in out + err or "\x00" in err:
            problem = "a control character reached the terminal"
        elif rc == 2 and len(err.splitlines()) != 1:
            problem = f"{len(err.splitlines())} lines on stderr"
        elif rc == 2 and table_checksums(db) != before:
            changed = [t for t, v in table_checksums(db).items() if before.get(t) != v]
            problem = f"tables changed: {changed}"
        if problem:
            failures.append(f"{argv!r}: {problem}: {err.strip()[:300]}")
    assert not failures, "\n".join(failures)


def test_an_unexpected_error_is_one_sentence_with_a_log_file(world, capsys, tmp_path, monkeypatch):
    import engine.commands.data as data_commands

    db, _ = world
    monkeypatch.setenv("RECSCOPE_LOG_DIR", str(tmp_path / "logs"))

    def boom(store):
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(data_commands, "list_datasets", boom)  # what `datasets` calls
    before = table_checksums(db)
    rc, out, err = run_cli(capsys, ["datasets", "--db", db])
    assert rc == 1 and "Traceback" not in out + err and len(err.splitlines()) == 1
    assert "ZeroDivisionError" in err
    logs = list((tmp_path / "logs").glob("recscope-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    text = logs[0].read_text()
    assert "Traceback" in text and "injected" in text
    assert table_checksums(db) == before


def test_new_path_db_is_created_and_demo_keeps_user_work(world, capsys, tmp_path):
    """A new path is a store; `demo` on a store whose demo dataset holds runs refuses
    without --replace and changes nothing."""
    from engine.store import Store
    from engine.store.datasets import save_dataset
    from engine.data.synthetic import make_job_board

    rc, out, err = run_cli(capsys, ["datasets", "--db", tmp_path / "new" / "s.duckdb"])
    assert rc == 0 and "no datasets" in out
    db = tmp_path / "demo.duckdb"
    save_dataset(Store(db), make_job_board(seed=0, name="jobboard", n_users=60, n_items=30,
                                           days=30, n_reviews=30))
    assert main(["train", "--dataset", "jobboard", "--algos", "popularity", "--neighbours", "0",
                 "--db", str(db)]) == 0
    before = table_checksums(db)
    rc, out, err = run_cli(capsys, ["demo", "--db", db])
    assert rc == 2 and len(err.splitlines()) == 1
    assert "1 run(s) and 0 review model(s) of 'jobboard'" in err and "--replace" in err
    assert table_checksums(db) == before


def _wait_for(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_kill_9_during_train_marks_the_run_interrupted(tmp_path):
    from engine.data.synthetic import make_job_board
    from engine.store import Store
    from engine.store.datasets import save_dataset
    from engine.store.runs import list_runs

    db = tmp_path / "k.duckdb"
    save_dataset(Store(db), make_job_board(seed=0, name="jb", n_users=300, n_items=100, days=30,
                                           n_reviews=10))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # BPR with many iterations trains long enough to be killed in the middle
    proc = subprocess.Popen([sys.executable, "-m", "engine", "train", "--dataset", "jb",
                             "--algos", "bpr", "--param", "bpr.iterations=10000",
                             "--neighbours", "0", "--db", str(db)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def running():
            try:
                runs = list_runs(Store(db, lock_timeout=5))
            except Exception:
                return False
            return (runs["status"] == "running").any()
        assert _wait_for(running, 120), "the run never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    runs = list_runs(Store(db))
    assert runs["status"].tolist() == ["running"]  # nobody has looked yet
    res = subprocess.run([sys.executable, "-m", "engine", "runs", "--db", str(db)], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    runs = list_runs(Store(db))
    assert runs["status"].tolist() == ["failed"]
    assert runs["error"].iloc[0].startswith("interrupted")
