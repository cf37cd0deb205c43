"""`recscope experiment run FILE.toml` (engine/services/experiment.py): reruns reuse the
dataset and runs, --force trains anew, --only runs one algorithm, bad input exits 2 with
one sentence and leaves the store unchanged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.cli import main
from engine.store import Store
from engine.store.datasets import list_datasets
from engine.store.runs import list_runs

TOML = """
[data.import]
kind = "csv"
path = "events.csv"
name = "shop"
user_col = "user"
item_col = "item"
time_col = "ts"

[split]
method = "leave_last_n"
k = 5

[algorithms.popularity]
[algorithms.itemknn]
K = [5, 10]

[[reports]]
out = "shop.html"
k = 5
"""


@pytest.fixture()
def folder(tmp_path):
    rng = np.random.default_rng(0)
    rows = [(f"u{u}", f"i{int(i)}", f"2026-01-{d + 1:02d}") for u in range(30)
            for d, i in enumerate(rng.choice(12, size=6, replace=False))]
    pd.DataFrame(rows, columns=["user", "item", "ts"]).to_csv(tmp_path / "events.csv", index=False)
    (tmp_path / "exp.toml").write_text(TOML, encoding="utf-8")
    return tmp_path


def _run(capsys, *argv):
    code = main(["experiment", "run", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rerun_reuses_force_retrains_only_runs_one(folder, capsys):
    db = str(folder / "s.duckdb")
    code, out, err = _run(capsys, str(folder / "exp.toml"), "--db", db, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["dataset_reused"] is False
    assert [(r["algorithm"], r["params"], r["reused"]) for r in first["runs"]] == [
        ("popularity", {}, False), ("itemknn", {"K": 5}, False), ("itemknn", {"K": 10}, False)]
    assert first["reports"] == [str((folder / "shop.html").resolve())]
    assert (folder / "shop.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    ids = [r["run_id"] for r in first["runs"]]

    code, out, err = _run(capsys, str(folder / "exp.toml"), "--db", db, "--json")
    again = json.loads(out)
    assert code == 0 and again["dataset_reused"] is True
    assert [r["run_id"] for r in again["runs"]] == ids and all(r["reused"] for r in again["runs"])
    assert len(list_runs(Store(db))) == 3

    code, out, err = _run(capsys, str(folder / "exp.toml"), "--db", db, "--json", "--force")
    forced = json.loads(out)
    assert code == 0 and forced["dataset_reused"] is True
    assert not any(r["reused"] for r in forced["runs"])
    assert set(r["run_id"] for r in forced["runs"]).isdisjoint(ids)
    assert len(list_runs(Store(db))) == 6

    code, out, err = _run(capsys, str(folder / "exp.toml"), "--db", db, "--json", "--only",
                          "popularity", "--force")
    one = json.loads(out)
    assert code == 0 and [r["algorithm"] for r in one["runs"]] == ["popularity"]
    assert one["reports"] == [] and "without --only" in one["skipped"][0]


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace('k = 5\n\n[algorithms', 'k = 5\n\n[algorithms\n'), "line"),
    (lambda t: t.replace("method =", "methd ="), "did you mean 'method'"),
    (lambda t: t.replace("[algorithms.itemknn]", "[algorithms.itemknm]"), "did you mean 'itemknn'"),
    (lambda t: t.replace("K = [5, 10]", "KK = 3"), "did you mean 'K'"),
    (lambda t: t.replace('item_col = "item"', 'item_col = "article"'), "article"),
    (lambda t: t.replace('path = "events.csv"', 'path = "absent.csv"'), "does not exist"),
    (lambda t: t + '\n[tuning]\nalgorithm = "itemknn"\ntrials = 5\nmetric = "nosuch@10"\n',
     "nosuch"),
    (lambda t: t + '\n[tuning]\nalgorithm = "itemknn"\ntrials = 0\n', "--trials must be at least 1"),
    (lambda t: t.replace('method = "leave_last_n"', 'method = "leave_last_n"\ntest_fraction = 0.2'),
     "test_fraction applies to method random"),
])
def test_bad_input_exits_2_with_one_sentence_and_store_unchanged(folder, capsys, edit, words):
    path = folder / "bad.toml"
    path.write_text(edit(TOML), encoding="utf-8")
    db = folder / "s.duckdb"
    code, out, err = _run(capsys, str(path), "--db", str(db))
    assert code == 2, err
    assert words in err and err.count("\n") == 1, err
    assert not db.exists() or list_datasets(Store(db)).empty


def test_a_tuning_block_runs_a_study_once_and_its_final_run_joins_the_runs(folder, capsys):
    db = str(folder / "s.duckdb")
    path = folder / "tune.toml"
    path.write_text(TOML + '\n[tuning]\nalgorithm = "itemknn"\ntrials = 3\nmetric = "ndcg@5"\n',
                    encoding="utf-8")
    code, out, err = _run(capsys, str(path), "--db", db, "--json")
    first = json.loads(out)
    assert code == 0, err
    study = first["study"]
    assert study["reused"] is False and study["n_trials"] == 3
    tuned = [r for r in first["runs"] if r.get("study_id") == study["study_id"]]
    assert len(tuned) == 1 and tuned[0]["run_id"] == study["run_id"]
    # the same file again: the study (and every run) is reused, no new trial is made
    code, out, err = _run(capsys, str(path), "--db", db, "--json")
    again = json.loads(out)
    assert code == 0 and again["study"]["reused"] is True
    assert again["study"]["study_id"] == study["study_id"]
    assert again["study"]["run_id"] == study["run_id"]


def test_existing_dataset_and_a_name_holding_other_data(folder, capsys):
    db = str(folder / "s.duckdb")
    assert _run(capsys, str(folder / "exp.toml"), "--db", db, "--only", "popularity")[0] == 0
    (folder / "named.toml").write_text('[data]\ndataset = "shop"\n[split]\nmethod = '
                                       '"leave_last_n"\nk = 5\n[algorithms.popularity]\n',
                                       encoding="utf-8")
    code, out, err = _run(capsys, str(folder / "named.toml"), "--db", db, "--json")
    assert code == 0 and all(r["reused"] for r in json.loads(out)["runs"])
    df = pd.read_csv(folder / "events.csv")
    df.iloc[:5].to_csv(folder / "events.csv", index=False)      # other content, same name
    code, out, err = _run(capsys, str(folder / "exp.toml"), "--db", db)
    assert code == 2 and "other content" in err


def test_the_example_files_are_valid(monkeypatch):
    from engine.services import experiment as E
    from tests.conftest import ROOT

    demo = E.load(ROOT / "examples" / "jobboard_demo.toml")
    assert demo.dataset == "jobboard" and demo.import_spec is None
    assert demo.algorithms["als"] == [{"factors": 32}, {"factors": 64}]
    ml = ROOT.parent.parent / "shared" / "datasets" / "movielens" / "ml-100k"
    shared = ROOT.parent / "shared" / "datasets" / "movielens" / "ml-100k"
    folder = next((p for p in (shared, ml) if p.is_dir()), None)
    if folder is None:
        pytest.skip("MovieLens 100K is not under ../shared/datasets (see its README)")
    monkeypatch.setenv("RECSCOPE_ML100K", str(folder))
    spec = E.load(ROOT / "examples" / "ml100k.toml")
    from engine.recommend import registry
    assert set(spec.algorithms) == set(registry.available())
    assert spec.import_spec["path"] == str(folder)
