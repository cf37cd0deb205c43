"""Overlap measures: Jaccard, Kendall's tau, RBO (with ties) and the per-user comparison."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import engine.evaluate
from engine.errors import DataError
from engine.evaluate import RBO, jaccard, kendall_tau, rbo
from engine.evaluate.overlap import user_overlap

SHARED = Path(os.environ.get("RECSCOPE_SHARED",
                             Path(__file__).resolve().parents[2].parent / "shared"))
RBO_REFERENCE = SHARED / "datasets" / "rankings" / "rbo_reference_ties.csv"


def parse_ranking(text: str) -> list:
    """'a (b c) d' -> ['a', {'b', 'c'}, 'd'] (the reference file's notation)."""
    out, group = [], None
    for tok in text.split():
        if tok.startswith("("):
            group = [tok[1:]]
            if tok.endswith(")"):
                group[-1] = group[-1][:-1]
                out.append(set(group))
                group = None
        elif tok.endswith(")"):
            group.append(tok[:-1])
            out.append(set(group))
            group = None
        elif group is not None:
            group.append(tok)
        else:
            out.append(tok)
    return out


def test_parse_ranking_helper():
    assert parse_ranking("a (b c) d (e f g)") == ["a", {"b", "c"}, "d", {"e", "f", "g"}]


# --- Jaccard and Kendall's tau --------------------------------------------------------

def test_jaccard_hand_computed():
    assert jaccard(["a", "b", "c"], ["b", "c", "d", "e"]) == pytest.approx(2 / 5)
    assert jaccard(["a"], ["b"]) == 0.0
    assert jaccard(["a", "b"], ["b", "a"]) == 1.0
    assert math.isnan(jaccard([], []))


def test_kendall_tau_on_shared_items():
    # shared: b, c, d; positions in a: 1, 2, 3; in b: d=0, b=2, c=3 -> pairs (b,c) conc,
    # (b,d) disc, (c,d) disc -> (1 - 2) / 3
    assert kendall_tau(["a", "b", "c", "d"], ["d", "x", "b", "c"]) == pytest.approx(-1 / 3)
    assert kendall_tau(["a", "b"], ["a", "b", "c"]) == pytest.approx(1.0)
    assert math.isnan(kendall_tau(["a", "b"], ["a", "c"]))


# --- RBO --------------------------------------------------------------------------------

def test_rbo_identical_lists_hand_computed():
    # identical lists of length 2, p=0.5: A_1 = A_2 = 1, X_l = 2
    # min = (1-p)/p * (p + p^2 + 2*(ln 2 - p - p^2/2)) = 0.75 + 2 ln 2 - 1.25
    r = rbo(["a", "b"], ["a", "b"], p=0.5)
    assert r.min == pytest.approx(2 * math.log(2) - 0.5)
    assert r.max == pytest.approx(1.0)
    assert r.ext == pytest.approx(1.0)
    assert r.res == pytest.approx(1.5 - 2 * math.log(2))


def test_rbo_disjoint_singletons_hand_computed():
    # x=[a], y=[b], p=0.5: X=0 everywhere seen; max: f = 2, tail sum over d=2:
    # (2*2-1-1+0)/2 * p^2 = 0.25, plus p^3/(1-p) = 0.25 -> max = (1-p)/p * 0.5 = 0.5
    r = rbo(["a"], ["b"], p=0.5)
    assert r == RBO(ext=0.0, min=0.0, max=pytest.approx(0.5), res=pytest.approx(0.5))


def test_rbo_accepts_sets_tuples_and_lists_as_tie_groups():
    a = rbo(["a", {"b", "c"}, "d"], ["c", ("a", "d"), "b"], p=0.8)
    b = rbo(["a", frozenset({"c", "b"}), "d"], ["c", ["d", "a"], "b"], p=0.8)
    assert a == b
    # a tie group of one item is the same as the untied item
    assert rbo(["a", {"b"}], ["b", "a"]) == rbo(["a", "b"], ["b", "a"])


def test_package_level_call_works_as_written():
    r = engine.evaluate.rbo(["a", "b", "c"], ["a", "c", "b"], p=0.9)
    assert isinstance(r, RBO) and 0 < r.min <= r.ext <= r.max <= 1


def test_rbo_rejects_bad_input():
    with pytest.raises(DataError, match="p must be"):
        rbo(["a"], ["a"], p=1.0)
    with pytest.raises(DataError, match="more than once"):
        rbo(["a", {"b", "a"}], ["a"])
    with pytest.raises(DataError, match="at least one item"):
        rbo([], ["a"])
    with pytest.raises(DataError, match="empty tie group"):
        rbo(["a", set()], ["a"])


def _webber_reference(S: list, L: list, p: float, depth: int = 3000) -> RBO:
    """Independent no-tie RBO: Webber et al. 2010 eq. (32) for ext; min and max by summing
    the agreement series of explicit worst/best continuations to a large depth."""
    if len(S) > len(L):
        S, L = L, S
    s, l = len(S), len(L)

    def X(a, b, d):
        return len(set(a[:d]) & set(b[:d]))

    Xs, Xl = X(S, L, s), X(S, L, l)
    # eq. (32): RBO_ext for uneven lists
    ext = ((1 - p) / p * (sum(X(S, L, d) / d * p ** d for d in range(1, l + 1))
                          + sum(Xs * (d - s) / (s * d) * p ** d for d in range(s + 1, l + 1)))
           + ((Xl - Xs) / l + Xs / s) * p ** l)

    def series(a, b):
        sa, sb, inter, total = set(), set(), 0, 0.0
        for d in range(1, depth + 1):
            for lst, mine, other in ((a, sa, sb), (b, sb, sa)):
                it = lst[d - 1]
                mine.add(it)
                inter += it in other
            total += inter / d * p ** d
        return (1 - p) / p * total

    # worst case: both continue with brand-new, never-shared items
    S_lo = S + [f"_s{i}" for i in range(depth)]
    L_lo = L + [f"_l{i}" for i in range(depth)]
    # best case: S continues with L's items it lacks (in L's order), L with S's items it
    # lacks, then both continue with the same new items in the same order
    S_hi = S + [i for i in L if i not in S]
    L_hi = L + [i for i in S if i not in L]      # both now hold the same items (f = l+s-X_l)
    fresh = [f"_n{i}" for i in range(depth)]
    S_hi, L_hi = (S_hi + fresh)[:depth], (L_hi + fresh)[:depth]
    lo, hi = series(S_lo, L_lo), series(S_hi, L_hi)
    return RBO(ext=ext, min=lo, max=hi, res=hi - lo)


@pytest.mark.parametrize("seed", range(6))
def test_rbo_without_ties_equals_webber(seed):
    rng = np.random.default_rng(seed)
    p = float(rng.uniform(0.5, 0.95))
    s, l = sorted(rng.integers(1, 12, size=2))
    universe = [f"i{i}" for i in range(20)]
    S = list(rng.choice(universe, size=s, replace=False))
    L = list(rng.choice(universe, size=l, replace=False))
    got, want = rbo(S, L, p), _webber_reference(S, L, p)
    assert got.ext == pytest.approx(want.ext, abs=1e-12)
    assert got.min == pytest.approx(want.min, abs=1e-9)
    assert got.max == pytest.approx(want.max, abs=1e-9)
    assert rbo(L, S, p) == got                     # symmetric


def test_rbo_matches_reference_file_on_all_rows():
    if not RBO_REFERENCE.exists():
        pytest.skip(f"reference file {RBO_REFERENCE} is absent (no ../shared/datasets)")
    ref = pd.read_csv(RBO_REFERENCE)
    assert len(ref) == 10_000
    got = np.array([[*vars(rbo(parse_ranking(x), parse_ranking(y), p)).values()]
                    for x, y, p in zip(ref["x"], ref["y"], ref["p"])])
    want = ref[["w.ext", "w.min", "w.max", "w.res"]].to_numpy()
    bad = np.argwhere(np.abs(got - want) > 1e-9)
    assert bad.size == 0, f"{len(bad)} values differ, first at row {bad[0][0]}: {got[bad[0][0]]} vs {want[bad[0][0]]}"


# --- user_overlap -------------------------------------------------------------------------

def _recs(lists: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(u, r + 1, it, 1.0 / (r + 1)) for u, items in lists.items()
            for r, it in enumerate(items)]
    return pd.DataFrame(rows, columns=["user_id", "rank", "item_id", "score"])


def test_user_overlap_hand_computed():
    a = _recs({"u1": ["a", "b", "c"], "u2": ["x", "y"], "only_a": ["a"]})
    b = _recs({"u1": ["c", "b", "d"], "u2": ["z"], "only_b": ["a"]})
    out = user_overlap(a, b, k=10, p=0.9).set_index("user_id")
    assert list(out.index) == ["u1", "u2"]
    assert out.loc["u1", "jaccard"] == pytest.approx(2 / 4)
    assert out.loc["u2", "jaccard"] == 0.0
    # u1: b, c shared; order in a: b<c, in b: c<b -> one discordant pair
    assert out.loc["u1", "kendall_tau"] == pytest.approx(-1.0)
    assert math.isnan(out.loc["u2", "kendall_tau"])
    assert out.loc["u1", "rbo"] == pytest.approx(rbo(["a", "b", "c"], ["c", "b", "d"]).ext)
    assert out.loc["u2", "rbo"] == 0.0


def test_user_overlap_equals_per_pair_functions_on_random_lists():
    rng = np.random.default_rng(7)
    la, lb = {}, {}
    for u in range(400):
        la[f"u{u}"] = [f"i{i}" for i in rng.choice(25, size=rng.integers(1, 14), replace=False)]
        lb[f"u{u}"] = [f"i{i}" for i in rng.choice(25, size=rng.integers(1, 14), replace=False)]
    k = 10
    out = user_overlap(_recs(la), _recs(lb), k=k, p=0.8)
    assert len(out) == 400
    for row in out.itertuples():
        x, y = la[row.user_id][:k], lb[row.user_id][:k]
        assert row.jaccard == pytest.approx(jaccard(x, y), abs=1e-12)
        assert row.rbo == pytest.approx(rbo(x, y, 0.8).ext, abs=1e-12)
        kt = kendall_tau(x, y)
        if math.isnan(kt):
            assert math.isnan(row.kendall_tau)
        else:
            assert row.kendall_tau == pytest.approx(kt, abs=1e-12)
    # and scipy directly, for one user with many shared items
    assert isinstance(scipy.stats.kendalltau([0, 1], [1, 0]).statistic, float)


def test_user_overlap_empty_intersection_of_users():
    out = user_overlap(_recs({"a": ["x"]}), _recs({"b": ["x"]}))
    assert list(out.columns) == ["user_id", "jaccard", "rbo", "kendall_tau"]
    assert out.empty


def test_user_overlap_rank_gaps_duplicates_and_bad_ranks():
    a = pd.DataFrame({"user_id": ["u"] * 4, "rank": [1, 2, 4, 7], "item_id": ["x", "y", "x", "z"],
                      "score": 1.0})
    b = _recs({"u": ["y", "x", "z"]})
    row = user_overlap(a, b, k=10).iloc[0]
    # a reads as [x, y, z] (the second x dropped, gaps closed)
    assert row["rbo"] == pytest.approx(rbo(["x", "y", "z"], ["y", "x", "z"]).ext)
    assert row["jaccard"] == 1.0
    assert row["kendall_tau"] == pytest.approx(1 / 3)
    # k cuts by rank: only ranks 1..2 of a count
    assert user_overlap(a, b, k=2).iloc[0]["jaccard"] == pytest.approx(2 / 2)
    bad = pd.DataFrame({"user_id": ["u", "u"], "rank": [1, 1], "item_id": ["x", "y"], "score": 1.0})
    with pytest.raises(DataError, match="two items at rank 1"):
        user_overlap(bad, b)
