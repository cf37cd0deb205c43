"""Train/test splits: hand-built cases per method, determinism and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.evaluate import Split, make_split


def events(rows) -> pd.DataFrame:
    """rows of (user, item, day or None, weight)."""
    df = pd.DataFrame(rows, columns=["user_id", "item_id", "day", "weight"])
    df["timestamp"] = pd.to_datetime("2024-01-01") + pd.to_timedelta(df["day"], unit="D")
    return df.drop(columns="day")[["user_id", "item_id", "timestamp", "weight"]]


def pairs(df: pd.DataFrame) -> set:
    return set(zip(df["user_id"], df["item_id"]))


def test_leave_last_n_hand_built():
    df = events([
        ("a", "i1", 1, 1.0), ("a", "i2", 2, 1.0), ("a", "i3", 3, 2.0), ("a", "i1", 4, 1.0),
        ("a", "i3", 5, 5.0),                        # a repeat of a test item
        ("b", "i1", 1, 1.0), ("b", "i2", 2, 1.0),
        ("c", "i9", 1, 1.0),                        # one item: below min_history
    ])
    s = make_split(df, "leave_last_n", n=1)
    assert isinstance(s, Split) and s.method == "leave_last_n"
    # a: the most recently first-seen item is i3 (i1 at day 4 is a repeat of an old item)
    assert pairs(s.test) == {("a", "i3"), ("b", "i2")}
    a_i3 = s.test[s.test.item_id == "i3"].iloc[0]
    assert a_i3["weight"] == 5.0                                     # max over its events
    assert a_i3["timestamp"] == pd.Timestamp("2024-01-04")          # its first event
    # train keeps repeats of train items, never a test pair; c stays whole in train
    assert sorted(s.train.loc[s.train.user_id == "a", "item_id"]) == ["i1", "i1", "i2"]
    assert pairs(s.train) == {("a", "i1"), ("a", "i2"), ("b", "i1"), ("c", "i9")}
    assert s.info == {"n_train": 5, "n_test": 2, "n_test_users": 2, "n_users": 3,
                      "users_train_only": 1, "test_repeat_events_collapsed": 1,
                      "test_dropped_seen_in_train": 0}


def test_leave_last_n_keeps_one_train_item_and_respects_min_history():
    df = events([("a", f"i{k}", k, 1.0) for k in range(3)] + [("b", "x", 1, 1.0), ("b", "y", 2, 1.0)])
    s = make_split(df, "leave_last_n", n=5)
    assert s.test.groupby("user_id").size().to_dict() == {"a": 2, "b": 1}
    s3 = make_split(df, "leave_last_n", n=5, min_history=3)
    assert set(s3.test.user_id) == {"a"} and s3.info["users_train_only"] == 1


def test_leave_last_n_ties_follow_the_seed_not_the_row_order():
    df = events([("u", "i1", 1, 1.0), ("u", "i2", 2, 1.0), ("u", "i3", 2, 1.0)])
    chosen = {make_split(df, "leave_last_n", seed=s).test["item_id"].iloc[0] for s in range(20)}
    assert chosen == {"i2", "i3"}                   # both tied items get picked by some seed
    for seed in range(5):
        s1 = make_split(df, "leave_last_n", seed=seed).test
        s2 = make_split(df.iloc[::-1], "leave_last_n", seed=seed).test
        assert pairs(s1) == pairs(s2)


def test_random_sizes_and_determinism():
    df = events([("a", f"i{k}", None, 1.0) for k in range(10)]
                + [("b", "x", None, 1.0), ("b", "y", None, 1.0)]
                + [("c", "z", None, 1.0)])
    s = make_split(df, "auto", fraction=0.2, seed=3)
    assert s.method == "random"                      # no timestamps
    assert s.test.groupby("user_id").size().to_dict() == {"a": 2, "b": 1}
    assert s.info["users_train_only"] == 1 and s.info["n_test_users"] == 2
    again = make_split(df.sample(frac=1, random_state=1), "random", fraction=0.2, seed=3)
    assert pairs(again.test) == pairs(s.test)
    others = {frozenset(pairs(make_split(df, "random", seed=k).test)) for k in range(10)}
    assert len(others) > 1
    assert not pairs(s.test) & pairs(s.train)


def test_time_cut_with_timestamp_and_quantile():
    df = events([
        ("a", "i1", 1, 1.0), ("a", "i2", 2, 1.0), ("a", "i3", 10, 1.0),
        ("a", "i1", 11, 1.0),                       # seen before the cut: dropped
        ("b", "i1", 12, 1.0),                       # b has nothing before the cut
        ("c", "i1", 1, 1.0), ("c", "i4", 12, 1.0),  # c: one item before the cut (< 2)
    ])
    s = make_split(df, "time_cut", cut="2024-01-09")
    assert pairs(s.test) == {("a", "i3")}
    assert pairs(s.train) == {("a", "i1"), ("a", "i2"), ("c", "i1")}
    assert (s.train["timestamp"] < pd.Timestamp("2024-01-09")).all()
    assert s.info["test_dropped_seen_in_train"] == 1
    assert s.info["test_users_without_train"] == 1
    assert s.info["users_below_min_history_dropped"] == 1
    assert s.info["events_dropped_after_cut"] == 3
    assert s.info["users_train_only"] == 1           # c
    q = make_split(df, "time_cut", cut=0.5)          # median of the 7 event days: day 10
    assert q.info["cut"] == str(pd.Timestamp("2024-01-11"))
    assert pairs(q.test) == {("a", "i3")}            # i3 is AT the cut: test
    assert (q.train["timestamp"] < pd.Timestamp("2024-01-11")).all()


def test_auto_uses_leave_last_n_with_timestamps():
    df = events([("a", "i1", 1, 1.0), ("a", "i2", 2, 1.0)])
    assert make_split(df).method == "leave_last_n"


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "bogus"}, "Unknown split method"),
    ({"method": "time_cut"}, "time_cut needs cut"),
    ({"method": "time_cut", "cut": 1.5}, "between 0 and 1"),
    ({"method": "random", "fraction": 0.0}, "fraction must be"),
    ({"method": "leave_last_n", "n": 0}, "n must be a positive integer"),
    ({"min_history": 0}, "min_history"),
])
def test_bad_parameters_are_refused(kwargs, message):
    df = events([("a", "i1", 1, 1.0), ("a", "i2", 2, 1.0)])
    with pytest.raises(DataError, match=message):
        make_split(df, **kwargs)


def test_leave_last_n_without_timestamps_is_refused():
    df = events([("a", "i1", None, 1.0), ("a", "i2", None, 1.0)])
    with pytest.raises(DataError, match="needs timestamps"):
        make_split(df, "leave_last_n")


@pytest.mark.parametrize("method", ["leave_last_n", "random", "time_cut"])
def test_invariants_on_random_interactions(method):
    rng = np.random.default_rng(42)
    n = 3000
    df = pd.DataFrame({
        "user_id": [f"u{k}" for k in rng.integers(0, 150, n)],
        "item_id": [f"i{k}" for k in rng.integers(0, 80, n)],
        "timestamp": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "weight": rng.integers(1, 6, n).astype(float),
    })
    s = make_split(df, method, n=2, fraction=0.3, cut=0.7, min_history=3)
    assert not pairs(s.test) & pairs(s.train)                       # no leakage
    assert set(s.test.user_id) <= set(s.train.user_id)              # test users have history
    assert not s.test.duplicated(["user_id", "item_id"]).any()
    hist = s.train.groupby("user_id")["item_id"].nunique()
    assert (hist[s.test.user_id.unique()] >= (3 if method == "time_cut" else 1)).all()
    accounted = (s.info["n_train"] + s.info["n_test"] + s.info["test_repeat_events_collapsed"]
                 + s.info.get("events_dropped_after_cut", 0))
    assert accounted == n
    assert s.info["n_test_users"] + s.info["users_train_only"] == s.train.user_id.nunique()
