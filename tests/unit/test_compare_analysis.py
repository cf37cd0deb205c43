"""engine/evaluate/compare.py and the slice helpers of engine/evaluate/slices.py as pure
functions of DataFrames (no store), on cases small enough to compute by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from engine.evaluate import compare as A
from engine.evaluate import slices as S


def _lists(rows):
    return pd.DataFrame(rows, columns=["user_id", "rank", "item_id"])


def test_disagreement_table_sorts_by_rbo_and_takes_b_minus_a():
    a = _lists([("u1", 1, "a"), ("u1", 2, "b"), ("u2", 1, "c")])
    b = _lists([("u1", 1, "b"), ("u1", 2, "a"), ("u2", 1, "c")])
    ma = pd.DataFrame({"user_id": ["u1", "u2"], "value": [0.5, 1.0]})
    mb = pd.DataFrame({"user_id": ["u1"], "value": [1.0]})
    out = A.disagreement_table(a, b, ma, mb, k=2, p=0.9)
    assert out["user_id"].tolist() == ["u1", "u2"]           # least agreement first
    u1 = out.iloc[0]
    # u1: X_1 = 0, X_2 = 2 -> RBO_ext = (X_2/2) p^2 + (1-p)/p * (X_2/2) p^2 = p^2 + (1-p) p = p
    assert u1["rbo"] == pytest.approx(0.9)
    assert u1["jaccard"] == 1.0 and u1["kendall_tau"] == pytest.approx(-1.0)
    assert u1["metric_diff"] == pytest.approx(1.0 - 0.5)     # B - A
    u2 = out.iloc[1]
    assert u2["rbo"] == pytest.approx(1.0) and math.isnan(u2["metric_b"])
    assert math.isnan(u2["metric_diff"])


def test_exposure_table_counts_and_shares_per_run():
    counts = pd.DataFrame({"run_id": [1, 1, 2], "item_id": ["a", "b", "b"], "n": [2, 1, 3]})
    out = A.exposure_table(counts, {1: 2, 2: 3}, [1, 2])
    # b: 1 + 3 = 4 slots, a: 2 + 0 = 2 -> b first
    assert out["item_id"].tolist() == ["b", "a"]
    assert out["n_1"].tolist() == [1, 2] and out["n_2"].tolist() == [3, 0]
    assert out["share_1"].tolist() == [0.5, 1.0] and out["share_2"].tolist() == [1.0, 0.0]
    meta = pd.DataFrame({"item_id": ["a", "b"], "title": ["Alpha", ""], "category": ["x", "y"],
                         "attrs": [None, None]})
    titled = A.with_titles(out, meta)
    assert titled.columns.tolist()[:3] == ["item_id", "title", "category"]
    assert titled["title"].tolist() == ["b", "Alpha"]        # no title: the id stands in
    empty = A.exposure_table(counts.iloc[:0], {}, [1])
    assert empty.empty and empty.columns.tolist() == ["item_id", "n_1", "share_1"]


def test_label_slices_cuts_every_run_alike():
    values = pd.DataFrame({"run_id": [1, 1, 2, 2], "split_id": [1, 1, 1, 1],
                           "user_id": ["u1", "u2", "u1", "u2"], "value": [1.0, 0.0, 0.5, 0.5],
                           "n_train": [1, 3, 1, 3]})
    out = S.label_slices(values, "coldwarm", cold_max=1)
    first, second = out["slice"].cat.categories
    assert (first, second) == ("cold (≤ 1 items)", "warm (> 1 items)")
    assert out.loc[out["user_id"] == "u1", "slice"].eq(first).all()     # 1 train item: cold
    assert out.loc[out["user_id"] == "u2", "slice"].eq(second).all()
    with pytest.raises(ValueError):
        S.label_slices(values, "weekday")


def test_tests_on_same_split_skips_pairs_across_splits():
    values = pd.DataFrame({"run_id": [1, 1, 2, 2, 3, 3], "user_id": ["u1", "u2"] * 3,
                           "value": [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]})
    out = S.tests_on_same_split(values, {1: 1, 2: 1, 3: 2, 4: 1}, [1, 2, 3, 4], n_boot=50)
    assert out[["run_a", "run_b"]].values.tolist() == [[1, 2]]
    assert out.attrs["skipped"] == [(1, 3), (2, 3)] and out.attrs["missing"] == [4]
    assert out.iloc[0]["mean_diff"] == pytest.approx(0.5)     # B - A: (1 - 0 + 1 - 1) / 2
