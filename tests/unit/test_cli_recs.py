"""`recscope train | runs | metrics | compare | import run` (engine/commands/recs.py)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from engine.cli import main
from engine.commands.recs import parse_params
from engine.errors import DataError
from engine.store import Store
from engine.store import runs as R
from engine.store.datasets import save_dataset
from tests.fixtures.datasets import tiny_dataset


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "cli.duckdb"
    save_dataset(Store(path), tiny_dataset())
    return str(path)


def _json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_train_runs_metrics_compare(db, capsys):
    trained = _json(capsys, ["train", "--db", db, "--dataset", "tiny", "--algos", "popularity,als",
                             "--split", "leave_last_n", "--param", "als.factors=4",
                             "--param", "als.iterations=2", "--json"])
    assert [sorted(r) for r in trained] == [["algorithm", "run_id", "split_id"]] * 2
    assert [r["algorithm"] for r in trained] == ["popularity", "als"]
    assert trained[0]["split_id"] == trained[1]["split_id"]
    pop, als = trained[0]["run_id"], trained[1]["run_id"]
    assert R.get_run(Store(db), als)["params"]["factors"] == 4

    runs = _json(capsys, ["runs", "--db", db, "--dataset", "tiny", "--json"])
    assert [r["run_id"] for r in runs] == [pop, als]
    assert runs[0]["status"] == "done" and runs[0]["params"] == {}
    assert runs[0]["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3)) / 4)

    m = _json(capsys, ["metrics", str(pop), "--db", db, "--json"])
    assert m["run_id"] == pop
    vals = {(r["metric"], r["k"]): r["value"] for r in m["metrics"]}
    assert vals[("precision", 10)] == pytest.approx(0.05)
    assert vals[("hit_rate", 20)] == pytest.approx(0.5)
    assert {"precision", "recall", "ndcg", "map", "mrr", "hit_rate", "coverage"} <= \
        {r["metric"] for r in m["metrics"]}

    c = _json(capsys, ["compare", str(pop), str(pop), "--db", db, "--json"])
    for key in ("mean_a", "mean_b", "p_value_t", "p_value_wilcoxon", "ci_low", "ci_high", "wins",
                "ties", "losses", "mean_jaccard", "mean_rbo", "mean_kendall_tau"):
        assert key in c, key
    assert c["mean_a"] == c["mean_b"] and c["ties"] == 4 and c["wins"] == c["losses"] == 0
    assert c["mean_jaccard"] == pytest.approx(1.0)

    # the plain-text forms print without error
    for argv in (["runs", "--db", db], ["metrics", str(als), "--db", db],
                 ["compare", str(pop), str(als), "--db", db]):
        assert main(argv) == 0
    text = capsys.readouterr().out
    assert "popularity" in text and "Wilcoxon" in text


def test_failed_algorithm_exits_non_zero_with_its_sentence(db, capsys):
    code = main(["train", "--db", db, "--dataset", "tiny", "--algos", "ease,popularity",
                 "--param", "ease.max_items=2", "--split", "leave_last_n"])
    out = capsys.readouterr()
    assert code == 1
    assert "error: run 1 (ease) failed: EASE needs" in out.err
    statuses = R.list_runs(Store(db)).set_index("algorithm")["status"].to_dict()
    assert statuses == {"ease": "failed", "popularity": "done"}


def test_bad_input_is_one_sentence_exit_2(db, capsys):
    assert main(["metrics", "99", "--db", db]) == 2
    assert "no run with id 99" in capsys.readouterr().err
    assert main(["train", "--db", db, "--dataset", "nope", "--algos", "als"]) == 2
    assert "no dataset named 'nope'" in capsys.readouterr().err
    assert main(["train", "--db", db, "--dataset", "tiny", "--algos", "als",
                 "--param", "factors=3"]) == 2
    assert "ALGO.NAME=VALUE" in capsys.readouterr().err
    assert R.list_runs(Store(db)).empty


def test_import_run_command(db, tmp_path, capsys):
    _json(capsys, ["train", "--db", db, "--dataset", "tiny", "--algos", "popularity",
                   "--split", "leave_last_n", "--json"])
    f = tmp_path / "prod.csv"
    pd.DataFrame({"user_id": ["u1", "u4"], "item_id": ["c", "c"], "rank": [1, 1]}).to_csv(f, index=False)
    assert main(["import", "run", str(f), "--dataset", "tiny", "--name", "prod", "--db", db]) == 0
    assert "imported run 2: 'prod'" in capsys.readouterr().out
    run = R.get_run(Store(db), 2)
    assert (run["source"], run["split_id"]) == ("imported", 1)
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"user_id": ["zz"], "item_id": ["c"], "rank": [1]}).to_csv(bad, index=False)
    assert main(["import", "run", str(bad), "--dataset", "tiny", "--name", "x", "--db", db]) == 2
    assert "1 user(s)" in capsys.readouterr().err


def test_parse_params():
    assert parse_params(["als.factors=64", "bpr.learning_rate=0.05", "als.x=true", "als.s=abc"]) == \
        {"als": {"factors": 64, "x": True, "s": "abc"}, "bpr": {"learning_rate": 0.05}}
    with pytest.raises(DataError):
        parse_params(["als.factors"])


def test_runs_of_an_unknown_dataset_is_an_error(db, capsys):
    """A misspelt --dataset used to print 'no runs for dataset ...' and exit 0."""
    assert main(["runs", "--db", db, "--dataset", "tinny"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no dataset named 'tinny'") and "tiny" in err
    assert main(["runs", "--db", db, "--dataset", "tiny"]) == 0
    assert "no runs for dataset 'tiny'" in capsys.readouterr().out


@pytest.mark.parametrize("argv, expected", [
    # options the chosen split ignored: a run on a split the user did not ask for
    (["--split", "leave_last_n", "--time-cut", "0.8"],
     "--time-cut applies to --split time_cut, not --split leave_last_n"),
    (["--split", "random", "--test-n", "3"], "--test-n applies to --split leave_last_n, not --split random"),
    (["--split", "time_cut", "--time-cut", "0.5", "--test-fraction", "0.3"],
     "--test-fraction applies to --split random, not --split time_cut"),
    # out of range: named by the flag the user typed (was 'n must be a positive integer')
    (["--split", "leave_last_n", "--test-n", "0"], "--test-n must be at least 1, not 0."),
    (["--split", "random", "--test-fraction", "1.5"], "--test-fraction must be between 0 and 1"),
    (["--min-history", "0"], "--min-history must be at least 1, not 0."),
])
def test_train_split_options_are_checked_against_the_split(db, capsys, argv, expected):
    before = R.list_runs(Store(db))
    assert main(["train", "--db", db, "--dataset", "tiny", "--algos", "popularity", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: " + expected) and len(err.splitlines()) == 1
    assert len(R.list_runs(Store(db))) == len(before)


def test_train_on_a_reviews_only_dataset_says_so(db, capsys):
    """Used to say 'The auto split of dataset ... left no test interactions'."""
    from engine.data.dataset import normalise_reviews
    from engine.store.datasets import save_reviews

    save_reviews(Store(db), "rv", normalise_reviews(pd.DataFrame({"review_id": ["a", "b"],
                                                                  "text": ["ok", "spam"]})))
    assert main(["train", "--db", db, "--dataset", "rv", "--algos", "popularity"]) == 2
    err = capsys.readouterr().err
    assert "Dataset 'rv' holds reviews but no interactions" in err
    assert "recscope reviews train --dataset rv" in err


def test_auto_split_follows_the_option_given(tmp_path, capsys):
    """--test-fraction with the default --split auto means a random split (it used to be
    ignored in favour of leave-last-n on timestamped data); a number outside (0, 1) as
    --time-cut is refused instead of read as a date."""
    import json

    import pandas as pd

    from engine.cli import main
    from engine.data import Dataset
    from engine.store import Store
    from engine.store.datasets import save_dataset
    from engine.store.runs import list_splits

    db = tmp_path / "s.duckdb"
    rows = [(f"u{u}", f"i{(u + j) % 12}", pd.Timestamp("2026-01-01") + pd.Timedelta(days=j))
            for u in range(20) for j in range(6)]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    save_dataset(Store(db), Dataset("t", inter, None, None))
    assert main(["train", "--db", str(db), "--dataset", "t", "--algos", "popularity",
                 "--test-fraction", "0.5", "--json"]) == 0
    split_id = json.loads(capsys.readouterr().out)[0]["split_id"]
    splits = list_splits(Store(db), "t").set_index("split_id")
    assert splits.loc[split_id, "method"] == "random"
    assert main(["train", "--db", str(db), "--dataset", "t", "--algos", "popularity",
                 "--split", "time_cut", "--time-cut", "-0.2"]) == 2
    assert "is a number outside (0, 1)" in capsys.readouterr().err
    assert main(["train", "--db", str(db), "--dataset", "t", "--algos", "popularity",
                 "--test-n", "1", "--test-fraction", "0.3"]) == 2
    assert "ask for different splits" in capsys.readouterr().err


def test_neighbours_can_be_turned_off(tmp_path, capsys):
    import json

    import pandas as pd

    from engine.cli import main
    from engine.data import Dataset
    from engine.store import Store
    from engine.store.datasets import save_dataset

    db = tmp_path / "s.duckdb"
    rows = [(f"u{u}", f"i{(u * 3 + j) % 15}") for u in range(30) for j in range(5)]
    save_dataset(Store(db), Dataset("t", pd.DataFrame(rows, columns=["user_id", "item_id"]), None, None))
    count = "SELECT count(*) FROM item_neighbours WHERE run_id = ?"
    assert main(["train", "--db", str(db), "--dataset", "t", "--algos", "itemknn", "--json"]) == 0
    kept = json.loads(capsys.readouterr().out)[0]["run_id"]
    assert Store(db).scalar(count, [kept]) > 0
    assert main(["train", "--db", str(db), "--dataset", "t", "--algos", "itemknn",
                 "--neighbours", "0", "--json"]) == 0
    none = json.loads(capsys.readouterr().out)[0]["run_id"]
    assert Store(db).scalar(count, [none]) == 0
    assert main(["train", "--db", str(db), "--dataset", "t", "--algos", "itemknn",
                 "--neighbours", "-1"]) == 2
    assert "--neighbours must be 0 or more" in capsys.readouterr().err


def test_model_seed_keeps_the_split_and_changes_the_model(tmp_path, capsys):
    import json

    import pandas as pd

    from engine.cli import main
    from engine.data import Dataset
    from engine.store import Store
    from engine.store.datasets import save_dataset
    from engine.store.runs import list_runs, recommendations

    db = tmp_path / "s.duckdb"
    rows = [(f"u{u}", f"i{(u * 7 + j * 3) % 40}") for u in range(60) for j in range(8)]
    save_dataset(Store(db), Dataset("t", pd.DataFrame(rows, columns=["user_id", "item_id"]), None, None))
    out = []
    for extra in ([], ["--model-seed", "5"]):
        assert main(["train", "--db", str(db), "--dataset", "t", "--algos", "als",
                     "--param", "als.iterations=2", "--json"] + extra) == 0
        out.append(json.loads(capsys.readouterr().out)[0])
    assert out[0]["split_id"] == out[1]["split_id"]            # the split stays
    runs = list_runs(Store(db), "t").set_index("run_id")
    seeds = [json.loads(runs.loc[o["run_id"], "params"])["seed"] for o in out]  # JSON text
    assert seeds == [0, 5]
    a, b = (recommendations(Store(db), o["run_id"]) for o in out)
    assert not a["score"].round(6).equals(b["score"].round(6))  # other random starts
