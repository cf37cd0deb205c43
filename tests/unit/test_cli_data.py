"""`recscope demo`, `recscope import ...` and `recscope datasets` through engine.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engine.cli import main
from engine.store.datasets import list_datasets, load_dataset


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def datasets_json(capsys, db) -> dict[str, dict]:
    rc, out, _ = run(capsys, "datasets", "--db", db, "--json")
    assert rc == 0
    return {r["name"]: r for r in json.loads(out)}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(store) -> list[tuple]:
    df = list_datasets(store)
    return [tuple(r) for r in df.drop(columns=["created_at"]).itertuples(index=False)]


@pytest.fixture
def seeded(tmp_path, store, capsys):
    """A store holding one small interactions dataset named 'small'."""
    p = write(tmp_path / "small.csv", "u,i,t\na,x,100\nb,y,200\n")
    rc, out, err = run(capsys, "import", "csv", p, "--name", "small", "--user-col", "u",
                       "--item-col", "i", "--time-col", "t", "--db", store.path)
    assert rc == 0, err
    return store


# --------------------------------------------------------------------------- real datasets


def test_import_ml100k_then_datasets_json(shared, store, capsys):
    folder = shared("movielens", "ml-100k")
    rc, out, err = run(capsys, "import", "movielens", folder, "--name", "ml100k", "--db", store.path)
    assert rc == 0, err
    assert out.strip() == ("imported 'ml100k': 943 users, 1,682 items, 100,000 interactions; "
                           "no duplicate events.")
    row = datasets_json(capsys, store.path)["ml100k"]
    assert (row["n_users"], row["n_items"], row["n_interactions"], row["n_reviews"]) == (943, 1682, 100000, 0)
    assert set(row) >= {"name", "n_users", "n_items", "n_interactions", "n_reviews"}


def test_import_ml_latest_small(shared, store, capsys):
    folder = shared("movielens", "ml-latest-small")
    rc, out, err = run(capsys, "import", "movielens", folder, "--name", "mls", "--db", store.path)
    assert rc == 0, err
    row = datasets_json(capsys, store.path)["mls"]
    assert (row["n_users"], row["n_items"], row["n_interactions"]) == (610, 9724, 100836)


def test_import_youtube_folder(shared, store, capsys):
    folder = shared("reviews", "youtube_spam")
    rc, out, err = run(capsys, "import", "reviews", folder, "--name", "yt", "--text-col", "CONTENT",
                       "--label-col", "CLASS", "--id-col", "COMMENT_ID", "--time-col", "DATE",
                       "--db", store.path)
    assert rc == 0, err
    assert out.strip() == ("imported 'yt': 1,956 reviews from 5 files, 1,005 labelled 1 (spam/toxic) "
                           "of 1,956 labelled; 3 repeated id(s) given a #n suffix.")
    rv = load_dataset(store, "yt").reviews
    assert len(rv) == 1956 and int(rv["label"].sum()) == 1005
    assert rv["review_id"].is_unique
    assert rv["review_id"].str.startswith("Youtube0").all()
    assert datasets_json(capsys, store.path)["yt"]["n_reviews"] == 1956


def test_import_sms_headerless_with_backslash_t(shared, store, capsys):
    path = shared("reviews", "sms_spam", "SMSSpamCollection")
    rc, out, err = run(capsys, "import", "reviews", path, "--name", "sms", "--sep", "\\t",
                       "--text-col", "1", "--label-col", "0", "--db", store.path)
    assert rc == 0, err
    rv = load_dataset(store, "sms").reviews
    assert len(rv) == 5574 and int(rv["label"].sum()) == 747


def test_import_japanese_votes(shared, store, capsys):
    path = shared("reviews", "japanese_toxic", "subset.csv")
    rc, out, err = run(capsys, "import", "reviews", path, "--name", "jp", "--text-col", "text",
                       "--id-col", "id", "--label-from-votes", "Toxic+Very Toxic>Not Toxic",
                       "--db", store.path)
    assert rc == 0, err
    rv = load_dataset(store, "jp").reviews
    assert len(rv) == 437 and int(rv["label"].sum()) == 49
    # independent check of the rule on the raw file
    raw = pd.read_csv(path)
    expect = set(raw.loc[raw["Toxic"] + raw["Very Toxic"] > raw["Not Toxic"], "id"].astype(str))
    assert set(rv.loc[rv["label"] == 1, "review_id"]) == expect


# --------------------------------------------------------------------------- csv, datasets, replace


def test_import_csv_with_items_and_tab(tmp_path, store, capsys):
    ev = write(tmp_path / "ev.tsv.txt", "user\titem\twhen\tkind\nu1\tj1\t2024-05-01T10:00:00\tview\n"
               "u1\tj1\t2024-05-01T10:00:00\tview\nu2\tj2\t2024-05-02\tapply\n")
    items = write(tmp_path / "items.txt", "id\ttitle\tcategory\nj1\tChef\tFood\nj2\tPilot\tAir\n")
    rc, out, err = run(capsys, "import", "csv", ev, "--name", "jobs", "--user-col", "user",
                       "--item-col", "item", "--time-col", "when", "--event-col", "kind",
                       "--items", items, "--item-id-col", "id", "--title-col", "title",
                       "--sep", "\\t", "--db", store.path)
    assert rc == 0, err
    assert out.strip() == ("imported 'jobs': 2 users, 2 items, 2 interactions; "
                           "1 duplicate event(s) collapsed.")
    ds = load_dataset(store, "jobs")
    assert ds.info["duplicates_collapsed"] == 1
    assert ds.items.set_index("item_id").loc["j2", "title"] == "Pilot"
    assert ds.items.set_index("item_id").loc["j2", "category"] == "Air"
    assert sorted(ds.interactions["weight"]) == [1.0, 5.0]  # view 1, apply 5


def test_datasets_table_and_empty_store(tmp_path, seeded, capsys):
    rc, out, _ = run(capsys, "datasets", "--db", tmp_path / "other.duckdb")
    assert rc == 0 and out.startswith("The store has no datasets yet")
    rc, out, _ = run(capsys, "datasets", "--db", seeded.path)
    lines = out.splitlines()
    assert lines[0].split() == ["name", "users", "items", "interactions", "reviews", "source"]
    assert lines[1].split()[:5] == ["small", "2", "2", "2", "0"]


def test_replace_and_name_clash(tmp_path, seeded, capsys):
    p = write(tmp_path / "more.csv", "u,i\na,x\nb,y\nc,z\n")
    args = ["import", "csv", p, "--name", "small", "--user-col", "u", "--item-col", "i",
            "--db", seeded.path]
    before = snapshot(seeded)
    rc, out, err = run(capsys, *args)
    assert rc == 2 and out == ""
    assert err == ("error: A dataset named 'small' is already in the store; choose another --name "
                   "or pass --replace.\n")
    assert snapshot(seeded) == before
    rc, out, err = run(capsys, *args, "--replace")
    assert rc == 0, err
    assert datasets_json(capsys, seeded.path)["small"]["n_users"] == 3
    # a reviews import may not silently overwrite an interactions dataset either
    r = write(tmp_path / "r.csv", "text\nhello\n")
    before = snapshot(seeded)
    rc, out, err = run(capsys, "import", "reviews", r, "--name", "small", "--text-col", "text",
                       "--db", seeded.path)
    assert rc == 2 and "already in the store" in err
    assert snapshot(seeded) == before


# --------------------------------------------------------------------------- bad input: exit 2


def _bad_inputs(tmp_path: Path) -> list[tuple[list, str]]:
    good = write(tmp_path / "good.csv", "u,i,t,w\na,x,100,1\n")
    write(tmp_path / "empty.csv", "")
    write(tmp_path / "header.csv", "u,i,t,w\n")
    write(tmp_path / "badts.csv", "u,i,t,w\na,x,100,1\nb,y,tomorrow,1\n")
    write(tmp_path / "noid.csv", "u,i,t,w\na,x,100,1\n,y,100,1\n")
    write(tmp_path / "semi.csv", "u;i;t;w\na;x;100;1\n")
    write(tmp_path / "badw.csv", "u,i,t,w\na,x,100,1\nb,y,100,heavy\n")
    write(tmp_path / "rv.csv", "text,label\nhi,1\nyo,perhaps\n")
    csv_args = ["--name", "bad", "--user-col", "u", "--item-col", "i", "--time-col", "t",
                "--weight-col", "w"]
    T = tmp_path
    return [
        (["import", "csv", T / "missing.csv", *csv_args],
         f"The file {T / 'missing.csv'} does not exist."),
        (["import", "csv", good, "--name", "bad", "--user-col", "U_", "--item-col", "i"],
         f"{good} has no column 'U_' (given as --user-col); did you mean 'u'?"),
        (["import", "csv", T / "empty.csv", *csv_args],
         f"{T / 'empty.csv'} is empty; expected a header line and at least one row."),
        (["import", "csv", T / "header.csv", *csv_args],
         f"{T / 'header.csv'} has a header but no data rows; expected at least one row."),
        (["import", "csv", T / "badts.csv", *csv_args],
         f"{T / 'badts.csv'} row 2 has the timestamp 'tomorrow' in column 't'; expected unix "
         f"seconds, unix milliseconds or an ISO date such as 2024-05-01T12:30:00."),
        (["import", "csv", T / "noid.csv", *csv_args],
         f"{T / 'noid.csv'} row 2 has an empty user id in column 'u'; every row needs one."),
        (["import", "csv", T / "semi.csv", *csv_args],
         f"{T / 'semi.csv'} seems to be separated by ';', not ','; pass --sep ';'."),
        (["import", "csv", T / "badw.csv", *csv_args],
         f"{T / 'badw.csv'} row 2 has 'heavy' in the weight column 'w'; expected a number."),
        (["import", "csv", good, *csv_args, "--sep", "::"],
         "The separator '::' is not one character; expected e.g. ',', ';', '|' or '\\t' for a tab."),
        (["import", "movielens", T / "nofolder", "--name", "bad"],
         f"The folder {T / 'nofolder'} does not exist."),
        (["import", "reviews", T / "rv.csv", "--name", "bad", "--text-col", "text", "--label-col",
          "label"],
         f"{T / 'rv.csv'} row 2 has the label 'perhaps' in column 'label'; expected 1/0, "
         f"true/false, spam/ham or yes/no."),
        (["import", "reviews", T / "rv.csv", "--name", "bad", "--text-col", "txt"],
         f"{T / 'rv.csv'} has no column 'txt' (given as --text-col); did you mean 'text'?"),
    ]


def test_bad_inputs_exit_2_with_one_sentence_and_leave_the_store_alone(tmp_path, seeded, capsys):
    before = snapshot(seeded)
    small_before = load_dataset(seeded, "small").interactions
    for argv, sentence in _bad_inputs(tmp_path):
        rc, out, err = run(capsys, *argv, "--db", seeded.path)
        assert rc == 2, argv
        assert err == f"error: {sentence}\n", argv
        assert "Traceback" not in err and out == ""
    assert snapshot(seeded) == before
    pd.testing.assert_frame_equal(load_dataset(seeded, "small").interactions, small_before)


def test_usage_errors_exit_2(tmp_path, store, capsys):
    rc, out, err = run(capsys, "import", "csv", tmp_path / "x.csv", "--name", "n", "--db", store.path)
    assert rc == 2
    assert err.splitlines() == ["error: the following arguments are required: --user-col, "
                                "--item-col (see `recscope import csv --help`)."]
    rc, out, err = run(capsys, "import", "reviews", tmp_path / "x.csv", "--name", "n", "--text-col",
                       "t", "--label-col", "l", "--label-from-votes", "a>b")
    assert rc == 2 and "not allowed with argument" in err


def test_usage_errors_are_one_line_and_say_how_to_pass_a_negative_value(store, capsys):
    """argparse used to print a dozen usage lines before the sentence, and read a value
    like -0.1,0.2 as an unknown option with no hint."""
    rc, out, err = run(capsys, "train", "--dataset", "d", "--algos", "als", "--k", "abc")
    assert rc == 2
    assert err.splitlines() == ["error: argument --k: invalid int value: 'abc' "
                                "(see `recscope train --help`)."]
    rc, out, err = run(capsys, "bandit", "simulate", "--arms", "-0.1,0.2", "--db", store.path)
    assert rc == 2 and len(err.splitlines()) == 1
    assert "--arms=-0.1" in err


# --------------------------------------------------------------------------- demo


def test_demo_calls_build_demo_and_summarises(monkeypatch, store, capsys):
    import engine.demo
    from engine.data import Dataset
    from engine.progress import TqdmProgress
    from engine.store.datasets import save_dataset

    calls = {}

    def fake_build_demo(st, seed=0, name="jobboard", progress=None):
        calls.update(seed=seed, progress=progress, path=st.path)
        inter = pd.DataFrame({"user_id": ["u1", "u2", "u2"], "item_id": ["j1", "j1", "j2"]})
        save_dataset(st, Dataset(name=name, interactions=inter, users=None, items=None,
                                 reviews=pd.DataFrame({"text": ["ok", "bad", "meh", "fine"]})),
                     replace=True)
        return name

    monkeypatch.setattr(engine.demo, "build_demo", fake_build_demo)
    rc, out, err = run(capsys, "demo", "--db", store.path, "--seed", "7")
    assert rc == 0, err
    assert calls["seed"] == 7 and calls["path"] == store.path
    assert isinstance(calls["progress"], TqdmProgress)
    assert out.splitlines() == [
        f"demo dataset 'jobboard' in {store.path}: 2 users, 2 items, 3 interactions, 4 reviews.",
        "Open the viewer with `make run` (or `streamlit run viewer/app.py`).",
    ]
