"""The review queue as a daily loop (issue 17): appending batches scored by the current
model, scoring with a stored model (also another dataset's), drift, cold start, reviewer
agreement and likely label errors, against temporary stores."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.reviews import agreement as A
from engine.reviews import drift as D
from engine.reviews import model as M
from engine.reviews import queue as Q
from engine.reviews.coldstart import diverse_order, refusal
from engine.reviews.labels import current_labels
from engine.services import reviews as S
from engine.store import Store
from engine.store import reviews as db
from engine.store.datasets import list_datasets, save_reviews
from tests.fixtures.reviews import make_reviews


def _save(store, name, rv):
    from engine.data.dataset import normalise_reviews

    save_reviews(store, name, normalise_reviews(rv))


@pytest.fixture(scope="module")
def _toy_once(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("loop") / "toy.duckdb")
    _save(store, "toy", make_reviews(80))
    row = S.train_dataset(store, "toy", M.ModelParams(cv_folds=3))
    return store, row


@pytest.fixture
def toy(_toy_once, tmp_path):
    src, row = _toy_once
    dest = tmp_path / "copy.duckdb"
    shutil.copy(src.path, dest)
    return Store(dest), dict(row)


def _cli(*args) -> int:
    from engine.cli import main

    return main([str(a) for a in args])


def _batch_file(tmp_path) -> tuple:
    """20 new reviews (R0080-R0099, every 4th spam) and 5 already in the toy set."""
    rv = make_reviews(100)
    new = pd.concat([rv.iloc[80:], rv.iloc[:5]])
    path = tmp_path / "batch.csv"
    new[["review_id", "text", "company"]].to_csv(path, index=False)
    return path, rv.iloc[80:]


def test_append_scores_new_reviews_with_the_current_model_and_queues_them(toy, tmp_path, capsys):
    store, row = toy
    path, fresh = _batch_file(tmp_path)
    base = ["import", "reviews", path, "--name", "toy", "--append", "--id-col", "review_id",
            "--text-col", "text", "--db", store.path]
    assert _cli(*base) == 0
    out = capsys.readouterr()
    assert "appended 20 reviews to 'toy' as batch 1" in out.out
    assert "skipped 5 review(s) already in 'toy'" in out.err
    assert db.list_models(store, "toy")["model_id"].tolist() == [row["model_id"]]  # no new version
    scored = db.scored_reviews(store, "toy", row["model_id"])
    assert len(scored) == 100 and scored["review_id"].is_unique
    new = scored[scored["review_id"].isin(fresh["review_id"])].set_index("review_id")
    assert new["score"].notna().all() and not new["out_of_fold"].any()
    # the model separates the synthetic spam: every new spam scores above every new fine review
    truth = fresh.set_index("review_id")["label"].reindex(new.index)
    assert new["score"][truth == 1].min() > 0.5 > new["score"][truth == 0].max()
    queue = Q.apply_filter(Q.with_labels(scored, current_labels(db.label_history(store, "toy")),
                                         row["threshold"]), Q.QueueFilter())
    assert set(fresh["review_id"]) <= set(queue["review_id"])
    assert int(list_datasets(store).set_index("name").loc["toy", "n_reviews"]) == 100

    # the same file again adds nothing
    assert _cli(*base) == 0
    out = capsys.readouterr()
    assert "appended nothing to 'toy': every review of the file is already there" in out.out
    assert "skipped 25 review(s)" in out.err
    assert len(db.load_reviews(store, "toy")) == 100
    assert int(list_datasets(store).set_index("name").loc["toy", "n_reviews"]) == 100
    assert len(db.model_scores(store, row["model_id"])) == 100
    # --on-duplicate error refuses the whole file in one sentence, store unchanged
    assert _cli(*base, "--on-duplicate", "error") == 2
    assert "25 review id(s) of the file are already in 'toy'" in capsys.readouterr().err
    assert db.list_batches(store, "toy")["n_added"].tolist() == [20]  # the repeat wrote no batch


def test_append_needs_id_col_and_an_existing_dataset(toy, tmp_path, capsys):
    store, _ = toy
    path, _ = _batch_file(tmp_path)
    assert _cli("import", "reviews", path, "--name", "toy", "--append", "--text-col", "text",
                "--db", store.path) == 2
    assert "--append needs --id-col" in capsys.readouterr().err
    assert _cli("import", "reviews", path, "--name", "nope", "--append", "--id-col", "review_id",
                "--text-col", "text", "--db", store.path) == 2
    assert len(db.load_reviews(store, "toy")) == 80


def test_append_without_a_model_queues_unscored(store, tmp_path):
    rv = make_reviews(100)
    _save(store, "raw", rv.iloc[:40].drop(columns=["label"]))
    new = rv.iloc[40:60].drop(columns=["label"])
    from engine.data.dataset import normalise_reviews

    out = S.append_reviews(store, "raw", normalise_reviews(new))
    assert out["n_added"] == 20 and out["model_id"] is None and out["n_scored"] == 0
    assert len(db.load_reviews(store, "raw")) == 60


def test_a_model_of_one_dataset_scores_another(toy, capsys):
    store, row = toy
    # the same ids (R0000...) as the toy set, other texts: scores must not mix
    other = make_reviews(40, seed=7)
    other["text"] = other["text"].str.replace(" #", " no.", regex=False)
    _save(store, "other", other.drop(columns=["label"]))
    before = db.scored_reviews(store, "toy", row["model_id"])
    assert _cli("reviews", "score", "--dataset", "other", "--model", row["model_id"], "--json",
                "--db", store.path) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"model_id", "n_scored", "n_flagged", "threshold"}
    assert out["model_id"] == row["model_id"] and out["n_scored"] == 40
    assert out["threshold"] == pytest.approx(row["threshold"])
    sc = db.scored_reviews(store, "other", row["model_id"])
    assert len(sc) == 40 and sc["score"].notna().all()
    assert out["n_flagged"] == int((sc["score"] >= row["threshold"]).sum()) > 0
    spam = other["label"].to_numpy() == 1
    assert sc["score"][spam].min() > 0.5 > sc["score"][~spam].max()
    after = db.scored_reviews(store, "toy", row["model_id"])
    pd.testing.assert_frame_equal(before, after)  # the toy set's own scores are untouched
    # nothing left to score the second time
    assert S.score_dataset(store, "other", row["model_id"])["n_scored"] == 0
    assert len(db.list_models(store, "toy")) == 1 and db.latest_model_id(store, "other") is None


def test_score_refuses_models_without_a_stored_fit(toy, capsys):
    store, row = toy
    with store.connect() as con:
        con.execute("DELETE FROM review_model_artifacts")
    assert _cli("reviews", "score", "--dataset", "toy", "--db", store.path) == 2
    assert "trained before fitted models were kept" in capsys.readouterr().err


def test_psi_hand_computed():
    # two bins split at the median of expected (0.25): e = (1/2, 1/2), a = (1/4, 3/4)
    expected = [0.1, 0.2, 0.3, 0.4]
    actual = [0.1, 0.3, 0.35, 0.4]
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)  # = ln(3)/4
    assert D.psi(expected, actual, bins=2) == pytest.approx(want) == pytest.approx(math.log(3) / 4)
    # an empty bin is floored at 1e-4
    floor = (1 - 0.5) * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert D.psi(expected, [0.1, 0.2], bins=2) == pytest.approx(floor)
    assert D.psi(expected, expected, bins=2) == 0.0
    # deciles of 0..99: a batch all in the top decile
    e = np.arange(100) / 100
    top = (1 - 0.1) * math.log(1 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert D.psi(e, [0.995] * 7) == pytest.approx(top)


def test_share_flagged_alarm():
    assert D.alarm(0.2, 0.29) is None and D.alarm(0.2, 0.11) is None
    assert "rose from 20.0% on the training reviews to 35.0% in batch 3" in D.alarm(0.2, 0.35, "batch 3")
    assert "fell" in D.alarm(0.2, 0.05)


def test_drift_report_per_batch(toy, tmp_path):
    from engine.data.dataset import normalise_reviews

    store, row = toy
    rv = make_reviews(120)
    spammy = rv.iloc[80:120]
    spammy = spammy[spammy["label"] == 1]  # a batch of only spam: the share flagged jumps
    S.append_reviews(store, "toy", normalise_reviews(spammy.drop(columns=["label"])))
    rep = S.drift_report(store, "toy", db.get_model(store, row["model_id"]))
    assert len(rep) == 1 and rep.loc[0, "n"] == 10 and rep.loc[0, "share_flagged"] == 1.0
    train = db.training_scores(store, row["model_id"])["score"]
    assert rep.loc[0, "base_share"] == pytest.approx((train >= row["threshold"]).mean())
    assert rep.loc[0, "psi"] == pytest.approx(D.psi(train, db.batch_scores(store, "toy", row["model_id"])["score"]))
    assert rep.loc[0, "psi"] > 0.25 and "rose" in rep.loc[0, "alarm"]


def test_cold_start_refuses_with_the_count_needed_then_trains(store):
    rv = make_reviews(40)
    _save(store, "cold", rv.drop(columns=["label"]))
    with pytest.raises(DataError, match="so 5 more meaningless and 5 more fine label"):
        S.train_dataset(store, "cold")
    spam = rv.loc[rv["label"] == 1, "review_id"].tolist()
    fine = rv.loc[rv["label"] == 0, "review_id"].tolist()
    db.append_labels(store, "cold", spam[:5], "meaningless", "ann")
    db.append_labels(store, "cold", fine[:3], "fine", "ann")
    with pytest.raises(DataError, match=r"5 meaningless and 3 fine review\(s\); training needs at least 5 "
                                        r"of each, so 2 more fine label"):
        S.train_dataset(store, "cold")
    assert S.label_progress(store, "cold") == {"n_positive": 5, "n_negative": 3, "need_positive": 0,
                                               "need_negative": 2, "minimum": 5}
    db.append_labels(store, "cold", fine[3:5], "fine", "bob")
    row = S.train_dataset(store, "cold", M.ModelParams(cv_folds=3))
    assert row["n_train"] == 10 and row["n_human_labels"] == 10
    assert refusal("x", 5, 5) is None


def test_diverse_order_deals_round_robin():
    # 5 reviews with a URL (strength = number of reasons), 2 with a phone number
    url = [{"code": "url", "text": ""}]
    phone = [{"code": "phone", "text": ""}]
    reasons = [url, url + phone, url, phone, url, url, phone + url]
    # groups by first reason: url = rows 0,1,2,4,5 (row 1 strongest), phone = rows 3,6 (row 6 strongest)
    X = pd.DataFrame({"norm": ["a"] * 7})
    rank = diverse_order(X, reasons)
    order = np.argsort(rank).tolist()
    assert order == [1, 6, 0, 3, 2, 4, 5]


def test_signal_ranks_cover_every_group_first(store):
    rv = make_reviews(80)
    _save(store, "cold", rv.drop(columns=["label"]))
    ranks = S.signal_ranks(store, "cold")
    assert sorted(ranks["signal_rank"]) == list(range(80))
    first = rv.set_index("review_id").loc[ranks.sort_values("signal_rank")["review_id"].head(8), "text"]
    # the first screen is not one pattern: spam with a URL, repeated characters and fine reviews
    kinds = {("url" if "http" in t else "repeat" if ("ああ" in t or "ｓｄｆ" in t) else "fine") for t in first}
    assert kinds == {"url", "repeat", "fine"}


def _hand_history() -> pd.DataFrame:
    """Three reviewers on six reviews; ann's undo on r6 removes her 'fine'."""
    rows = [("r1", "meaningless", "ann"), ("r1", "meaningless", "bob"), ("r1", "meaningless", "cat"),
            ("r2", "fine", "ann"), ("r2", "fine", "bob"), ("r2", "meaningless", "cat"),
            ("r3", "meaningless", "ann"), ("r3", "fine", "bob"), ("r3", "fine", "cat"),
            ("r4", "fine", "ann"), ("r4", "fine", "bob"), ("r4", "fine", "cat"),
            ("r5", "fine", "ann"), ("r5", "meaningless", "bob"), ("r5", "skip", "cat"),
            ("r6", "fine", "ann"), ("r6", "undo", "ann"), ("r6", "meaningless", "bob")]
    return pd.DataFrame([{"label_id": i, "review_id": r, "label": lab, "reviewer": who}
                         for i, (r, lab, who) in enumerate(rows)])


def test_cohen_kappa_per_pair_equals_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    rl = A.reviewer_labels(_hand_history())
    assert len(rl) == 15 and "r6" not in set(rl.loc[rl["reviewer"] == "ann", "review_id"])
    pairs = A.cohen_pairs(rl).set_index(["reviewer_a", "reviewer_b"])
    ann = ["meaningless", "fine", "meaningless", "fine", "fine"]          # r1..r5
    bob = ["meaningless", "fine", "fine", "fine", "meaningless"]          # r1..r5 (r6 with no partner)
    assert pairs.loc[("ann", "bob"), "n_common"] == 5
    assert pairs.loc[("ann", "bob"), "kappa"] == pytest.approx(cohen_kappa_score(ann, bob))
    # by hand: agreement 3/5; ann 2/5 meaningless, bob 2/5 -> p_e = .16 + .36 = .52
    assert pairs.loc[("ann", "bob"), "kappa"] == pytest.approx((0.6 - 0.52) / 0.48)
    cat = ["meaningless", "meaningless", "fine", "fine"]                  # r1..r4 (r5 skipped)
    assert pairs.loc[("ann", "cat"), "kappa"] == pytest.approx(cohen_kappa_score(ann[:4], cat))
    assert pairs.loc[("bob", "cat"), "kappa"] == pytest.approx(cohen_kappa_score(bob[:4], cat))


def test_fleiss_kappa_equals_statsmodels():
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    ratings = np.array([[0, 0, 0], [1, 1, 0], [0, 1, 1], [1, 1, 1], [0, 1, 0], [1, 1, 1], [0, 0, 1]])
    table, _ = aggregate_raters(ratings)
    assert A.fleiss_kappa(table) == pytest.approx(fleiss_kappa(table, method="fleiss"))
    # the rating table of the hand history: r1..r4 have three raters each
    rl = A.reviewer_labels(_hand_history())
    t = A.rating_table(rl)
    three = t[t.sum(axis=1) == 3]
    assert list(three.index) == ["r1", "r2", "r3", "r4"]
    assert A.fleiss_kappa(three.to_numpy()) == pytest.approx(fleiss_kappa(three.to_numpy(), method="fleiss"))
    summary = A.summary(_hand_history())
    assert summary["n_reviewers"] == 3 and summary["n_multi"] == 5
    assert summary["disagreements"]["review_id"].tolist() == ["r5", "r2", "r3"]


def test_label_issues_find_flipped_labels(toy, capsys):
    store, _ = toy
    rv = make_reviews(80)
    rng = np.random.default_rng(3)
    flipped = rng.choice(80, 6, replace=False)
    for i in flipped:
        r = rv.iloc[i]
        db.append_labels(store, "toy", [r["review_id"]], "fine" if r["label"] == 1 else "meaningless", "zed")
    S.train_dataset(store, "toy", M.ModelParams(cv_folds=3))
    assert _cli("reviews", "label-issues", "--dataset", "toy", "--top", "10", "--json", "--db", store.path) == 0
    out = json.loads(capsys.readouterr().out)
    assert out and set(out[0]) == {"review_id", "label", "score", "self_confidence"}
    conf = [o["self_confidence"] for o in out]
    assert conf == sorted(conf)  # most doubtful first
    for o in out:
        assert o["self_confidence"] == pytest.approx(o["score"] if o["label"] == "meaningless" else 1 - o["score"])
    found = {o["review_id"] for o in out} & set(rv.iloc[flipped]["review_id"])
    assert len(found) >= 5, (found, rv.iloc[flipped]["review_id"].tolist())


@pytest.mark.slow
def test_demo_day_two_append_is_scored_by_the_current_model(tmp_path, capsys):
    """Done means: appending a file of new reviews to the demo dataset scores every new
    review with the current model (no new model version) and puts them in the queue;
    appending the same file twice adds nothing the second time."""
    from engine.data.synthetic import make_job_board
    from engine.demo import DEMO_NAME, _build_dataset, train_review_classifier
    from engine.progress import null_progress

    store = Store(tmp_path / "demo.duckdb")
    # the demo's dataset and review classifier (its recommender and bandit steps are not needed)
    _build_dataset(store, DEMO_NAME, 0, null_progress)
    train_review_classifier(store, DEMO_NAME, 0, null_progress)
    model_id = db.latest_model_id(store, DEMO_NAME)
    # "the next day": reviews of another synthetic job board, with ids of their own
    day2 = make_job_board(seed=1, name="day2").reviews.head(300).copy()
    day2["review_id"] = "day2-" + day2["review_id"].astype(str)
    path = tmp_path / "day2.csv"
    day2[["review_id", "text", "company", "created_at"]].to_csv(path, index=False)
    args = ["import", "reviews", path, "--name", DEMO_NAME, "--append", "--id-col", "review_id",
            "--text-col", "text", "--time-col", "created_at", "--db", store.path]
    assert _cli(*args) == 0
    assert f"appended 300 reviews to '{DEMO_NAME}' as batch 1; model {model_id} scored them" in \
        capsys.readouterr().out
    assert db.list_models(store, DEMO_NAME)["model_id"].tolist() == [model_id]
    scored = db.scored_reviews(store, DEMO_NAME, model_id)
    new = scored[scored["review_id"].str.startswith("day2-")]
    assert len(new) == 300 and new["score"].notna().all()
    # the model works on the new day: its spam mostly scores above its genuine reviews
    # (ROC-AUC 0.896 measured; rows scored out of line would give about 0.5)
    from sklearn.metrics import roc_auc_score

    truth = day2.set_index("review_id")["label"].reindex(new["review_id"]).astype(int)
    assert roc_auc_score(truth, new["score"]) > 0.85
    frame = Q.with_labels(scored, current_labels(db.label_history(store, DEMO_NAME)),
                          db.get_model(store, model_id)["threshold"])
    frame = frame.merge(S.queue_ranks(store, DEMO_NAME, "batch"), on="review_id", how="left")
    queue = Q.apply_filter(frame, Q.QueueFilter(order="batch"))
    assert set(queue["review_id"]) == set(new["review_id"])  # newest batch: exactly the new reviews
    everything = Q.apply_filter(frame, Q.QueueFilter())  # and in the default (unlabelled) queue
    assert set(new["review_id"]) <= set(everything["review_id"])
    assert _cli(*args) == 0
    assert "appended nothing" in capsys.readouterr().out
    assert len(db.load_reviews(store, DEMO_NAME)) == len(scored)


def test_a_store_from_before_the_daily_loop_still_works(toy, capsys):
    """Older files lack review_scores.dataset, the artifact, batch and visit tables: opening
    one adds them; its scores (dataset NULL) still read as the model's own dataset."""
    import duckdb

    from engine.store import core

    store, row = toy
    con = duckdb.connect(str(store.path))
    for t in ("review_model_artifacts", "review_batches", "review_batch_members", "review_visits"):
        con.execute(f"DROP TABLE {t}")
    con.execute("ALTER TABLE review_scores DROP COLUMN dataset")
    con.close()
    core._initialised.discard(str(store.path.resolve()))
    old = Store(store.path)
    sc = db.scored_reviews(old, "toy", row["model_id"])
    assert len(sc) == 80 and sc["score"].notna().all()
    assert old.scalar("SELECT count(*) FROM review_scores WHERE dataset IS NULL") == 80
    assert db.list_batches(old, "toy").empty and db.last_visit(old, "toy", "ann") is None
    assert _cli("reviews", "score", "--dataset", "toy", "--db", old.path) == 2
    assert "trained before fitted models were kept in the store" in capsys.readouterr().err


def test_ranked_queue_orders():
    df = pd.DataFrame({"review_id": ["a", "b", "c", "d"], "text": "x", "company": None, "length": 1,
                       "created_at": pd.NaT, "score": [0.9, 0.2, 0.6, 0.4],
                       "human": [None, "fine", None, "meaningless"], "flagged": False, "truth": pd.NA,
                       "uncertainty": [0.4, 0.3, 0.1, 0.1],
                       "signal_rank": [2, 3, 0, 1], "issue_rank": [np.nan, 1, np.nan, 0]})
    ids = lambda f: Q.apply_filter(df, f)["review_id"].tolist()  # noqa: E731
    assert ids(Q.QueueFilter(order="signals")) == ["c", "a"]            # unlabelled, by rank
    assert ids(Q.QueueFilter(order="signals", status="any")) == ["c", "d", "a", "b"]
    assert ids(Q.QueueFilter(order="mislabelled")) == ["d", "b"]        # labelled ones, despite the default status
    assert ids(Q.QueueFilter(order="disagreement")) == []               # its rank was not merged in
    assert ids(Q.QueueFilter(order="uncertainty")) == ["c", "a"]
    assert Q.default_order(True) == "uncertainty" and Q.default_order(False) == "signals"
