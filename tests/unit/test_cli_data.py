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


# --------------------------------------------------------------------------- real exports (issue 10)


def test_import_export_with_zones_item_and_user_cols(tmp_path, store, capsys):
    import gzip

    text = ("閲覧者,job.id,Job Title,Company,閲覧者 地域,viewed at\n"
            "u1,j1,Chef,Ritz,Kanto,2014-12-12 20:12:35 UTC\n"
            "u1,j1,Chef,Ritz,Kanto,2014-12-13 08:00:00 UTC\n"       # a repeat view: kept
            "u2,j1,Chef,Ritz,Kansai,2014-12-12 21:00:00 UTC\n"
            "u2,j2,Pilot,,Kansai,2014-12-14 09:00:00 UTC\n"
            "u3,j2,Pilot,Air Co,Tohoku,2014-12-15 10:00:00 UTC\n")
    gz = tmp_path / "views.csv.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    base = ["import", "csv", gz, "--user-col", "閲覧者", "--item-col", "job.id",
            "--time-col", "viewed at", "--items", gz, "--title-col", "Job Title", "--db", store.path]
    rc, out, err = run(capsys, *base, "--name", "named", "--item-cols", "Company",
                       "--user-cols", "閲覧者 地域")
    assert rc == 0, err
    assert out.strip() == "imported 'named': 3 users, 2 items, 5 interactions; no duplicate events."
    ds = load_dataset(store, "named")
    items = ds.items.set_index("item_id")
    assert sorted(items.columns) == ["Company", "category", "title"]
    assert items.loc["j2", "Company"] == "Air Co"
    assert ds.users.set_index("user_id").loc["u3", "閲覧者 地域"] == "Tohoku"
    assert ds.interactions["timestamp"].notna().all()
    # without --item-cols: the user columns and the view time vary within j1, so they go,
    # and one line on stderr says so; Company is constant where given, so it stays
    rc, out, err = run(capsys, *base, "--name", "auto")
    assert rc == 0, err
    assert err.strip() == ("item metadata: left out '閲覧者' (2 items), '閲覧者 地域' (2 items), "
                           "'viewed at' (2 items): their value varies within an item's rows; name "
                           "the columns to keep with --item-cols.")
    assert sorted(load_dataset(store, "auto").items.columns) == ["Company", "category", "item_id",
                                                                 "title"]


def test_time_format_flag_settles_an_ambiguous_column(tmp_path, store, capsys):
    p = write(tmp_path / "t.csv", "u,i,t\na,x,5/1/2024 12:30 PM\nb,y,6/3/2024 1:00 AM\n")
    args = ["import", "csv", p, "--name", "t", "--user-col", "u", "--item-col", "i",
            "--time-col", "t", "--db", store.path]
    before = snapshot(store)
    rc, out, err = run(capsys, *args)
    assert rc == 2 and "day and month are ambiguous" in err and "--time-format" in err
    assert snapshot(store) == before
    rc, out, err = run(capsys, *args, "--time-format", "%d/%m/%Y %I:%M %p")
    assert rc == 0, err
    ts = sorted(load_dataset(store, "t").interactions["timestamp"])
    assert ts == [pd.Timestamp("2024-01-05 12:30"), pd.Timestamp("2024-03-06 01:00")]


def test_positive_name_in_import_train_and_export(tmp_path, store, capsys):
    from engine.store import reviews as rdb
    from engine.store.datasets import positive_name
    from tests.fixtures.reviews import make_reviews

    csv = tmp_path / "hotel.csv"
    make_reviews(60).rename(columns={"label": "deceptive"}).to_csv(csv, index=False)
    rc, out, err = run(capsys, "import", "reviews", csv, "--name", "hotels", "--text-col", "text",
                       "--label-col", "deceptive", "--id-col", "review_id",
                       "--positive-name", "deceptive", "--db", store.path)
    assert rc == 0, err
    assert out.strip() == "imported 'hotels': 60 reviews, 15 labelled 1 (deceptive) of 60 labelled."
    assert positive_name(store, "hotels") == "deceptive"
    assert datasets_json(capsys, store.path)["hotels"]["positive_name"] == "deceptive"
    rc, out, err = run(capsys, "reviews", "train", "--dataset", "hotels", "--folds", "3",
                       "--db", store.path)
    assert rc == 0, err
    assert "(15 deceptive, 0 human labels)" in out and "meaningless" not in out + err
    rdb.append_labels(store, "hotels", ["R0001"], "meaningless", "ann")
    rc, out, err = run(capsys, "reviews", "export-labels", "--dataset", "hotels", "--db", store.path)
    assert rc == 0, err
    assert out.splitlines()[1].startswith("R0001,deceptive,ann,")
    assert "meaningless" not in out
    # a name that collides with another label is refused, store unchanged
    before = snapshot(store)
    rc, out, err = run(capsys, "import", "reviews", csv, "--name", "h2", "--text-col", "text",
                       "--positive-name", "fine", "--db", store.path)
    assert rc == 2 and "--positive-name 'fine'" in err
    assert snapshot(store) == before


def test_store_without_positive_name_column_still_opens(tmp_path):
    """A file written before the column existed gets it on opening; its datasets read as
    'meaningless'."""
    import duckdb

    from engine.store import Store, core
    from engine.store.datasets import positive_name, save_reviews
    from engine.data.dataset import normalise_reviews
    from tests.fixtures.reviews import make_reviews

    path = tmp_path / "old.duckdb"
    store = Store(path)
    save_reviews(store, "old", normalise_reviews(make_reviews(8)))
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE datasets DROP COLUMN positive_name")
    con.close()
    core._initialised.discard(str(path.resolve()))
    store = Store(path)
    assert positive_name(store, "old") == "meaningless"
    save_reviews(store, "new", normalise_reviews(make_reviews(8)), positive_name="spam")
    assert positive_name(store, "new") == "spam"
