"""How much two ranked lists agree: Jaccard, Kendall's tau and rank-biased overlap (RBO).

``rbo`` implements RBO^w of Corsi & Urbano, "The Treatment of Ties in Rank-Biased Overlap"
(SIGIR 2024): tied items (a set/frozenset/tuple/list inside a ranking) are all considered
seen at the depth where their group starts, and the agreement at depth d is
``2 * X_d / (|S_:d| + |L_:d|)``. For rankings without ties it equals the RBO of Webber,
Moffat & Zobel (2010, "A similarity measure for indefinite rankings"), including the
uneven-length (truncated) case with its extrapolated point estimate ``ext``, the bounds
``min``/``max`` and the residual ``res = max - min``.

Written by hand (with numpy) because no maintained library on our dependency list has
tie-aware RBO with min/max/res. The formulas were checked against the authors' published
reference values (tests/unit/test_overlap.py checks all 10,000 rows).

``user_overlap`` compares two runs' lists for every user both cover. Recommendation lists
have no ties (ranks are distinct), so it uses a vectorised no-tie path grouped by list
lengths instead of calling ``rbo`` per user; the tests check it equals ``rbo`` per user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.stats

from engine.errors import DataError
from engine.evaluate._codes import _arrow_str, _index_in

_GROUP_TYPES = (set, frozenset, tuple, list)


@dataclass(frozen=True)
class RBO:
    """Rank-biased overlap of two (possibly truncated) rankings.

    ext: point estimate, extrapolating the agreement seen to the unseen tail.
    min / max: the lowest / highest RBO any continuation of the lists could give.
    res: the residual uncertainty, ``max - min``.
    """

    ext: float
    min: float
    max: float
    res: float


def jaccard(a: Iterable, b: Iterable) -> float:
    """|a ∩ b| / |a ∪ b| of the two collections as sets; nan when both are empty."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return float(len(sa & sb) / union) if union else float("nan")


def kendall_tau(a: Sequence, b: Sequence) -> float:
    """Kendall's tau-b (scipy) between the positions of the items shared by two lists.

    ``a`` and ``b`` are ranked lists (best first, no ties). Items in only one list are
    ignored. nan when fewer than 2 items are shared.
    """
    pos_b = {item: i for i, item in enumerate(b)}
    ra, rb = [], []
    for i, item in enumerate(a):
        if item in pos_b:
            ra.append(i)
            rb.append(pos_b[item])
    if len(ra) < 2:
        return float("nan")
    return float(scipy.stats.kendalltau(ra, rb).statistic)


def _flatten(ranking, name: str) -> tuple[list, np.ndarray]:
    """Items of a ranking and, per item, the 0-based rank where its tie group starts."""
    if isinstance(ranking, (str, bytes)) or not hasattr(ranking, "__iter__"):
        raise DataError(f"rbo: {name} must be a list of items or of tie groups, "
                        f"got {type(ranking).__name__}.")
    items: list = []
    tops: list[int] = []
    for element in ranking:
        group = list(element) if isinstance(element, _GROUP_TYPES) else [element]
        if not group:
            raise DataError(f"rbo: {name} has an empty tie group at position {len(items) + 1}.")
        start = len(items)
        items.extend(group)
        tops.extend([start] * len(group))
    if len(set(items)) != len(items):
        dup = pd.Series(items)[pd.Series(items).duplicated()].iloc[0]
        raise DataError(f"rbo: {name} lists the item {dup!r} more than once.")
    return items, np.asarray(tops, dtype=np.int64)


def rbo(x, y, p: float = 0.9) -> RBO:
    """RBO^w (Corsi & Urbano 2024) of rankings ``x`` and ``y`` with persistence ``p``.

    A ranking is a list whose elements are items or tie groups (set, frozenset, tuple or
    list of items), best first, e.g. ``["a", {"b", "c"}, "d"]``. The rankings may have
    different lengths; each is read as the top of a longer, unseen ranking.
    """
    if not (isinstance(p, (int, float, np.floating)) and 0 < p < 1):
        raise DataError(f"rbo: p must be a number strictly between 0 and 1, got {p!r}.")
    p = float(p)
    ix, tx = _flatten(x, "x")
    iy, ty = _flatten(y, "y")
    if not ix or not iy:
        raise DataError("rbo: both rankings must contain at least one item.")
    # S is the shorter ranking (by number of items), L the longer one.
    if len(ix) >= len(iy):
        (iS, tS), (iL, tL) = (iy, ty), (ix, tx)
    else:
        (iS, tS), (iL, tL) = (ix, tx), (iy, ty)
    s, l = len(iS), len(iL)

    pos_L = {item: k for k, item in enumerate(iL)}
    # depth (0-based) from which each shared item is seen in both rankings
    both_from = np.asarray([max(t, tL[pos_L[item]]) for item, t in zip(iS, tS) if item in pos_L],
                           dtype=np.int64)
    in_S = set(iS)
    tops_L_only = np.sort(np.asarray([t for item, t in zip(iL, tL) if item not in in_S],
                                     dtype=np.int64))

    d = np.arange(1, l + 1)                      # depths 1..l
    # X_d: items seen in both rankings by depth d; n_S(d), n_L(d): items seen in each.
    X = np.searchsorted(np.sort(both_from), d - 1, side="right").astype(float)
    nS = np.searchsorted(np.sort(tS), d - 1, side="right").astype(float)
    nL = np.searchsorted(np.sort(tL), d - 1, side="right").astype(float)
    w = p ** d.astype(float)

    # Section 1 (d <= s): both rankings observed.
    A1 = 2 * X[:s] / (nS[:s] + nL[:s])
    A_s = A1[s - 1]
    # Section 2 (s < d <= l): only L observed; S is assumed to continue one new item per
    # depth, so S contributes d items to the denominator.
    d2 = d[s:]
    den2 = d2 + nL[s:]
    X2 = X[s:]
    A2_min = 2 * X2 / den2
    # max: S's unseen items s+1..d are the first (d - s) L-only items (in L order), each
    # counting once it is seen in L.
    j = np.arange(d2.size)
    X2_max = X2 + np.array([np.count_nonzero(tops_L_only[: jj + 1] <= dd - 1)
                            for jj, dd in zip(j, d2)], dtype=float)
    A2_max = 2 * X2_max / den2
    # ext: the agreement at depth s extends to S's unseen items.
    A2_ext = 2 * (X2 + (d2 - s) * A_s) / den2

    # Section 3 (d > l): both unseen, closed forms of the infinite tails.
    X_l = X[l - 1]
    head = np.concatenate([A1, A2_min])
    sec3_min = X_l * (np.log(1 / (1 - p)) - np.sum(w / d))
    f = int(round(l + s - X_l))
    d3 = np.arange(l + 1, f + 1, dtype=float)
    sec3_max = np.sum((2 * d3 - l - s + X_l) / d3 * p ** d3) + p ** (f + 1) / (1 - p)
    sec3_ext = (X_l + (l - s) * A_s) / l * p ** (l + 1) / (1 - p)

    scale = (1 - p) / p
    r_min = scale * (np.sum(head * w) + sec3_min)
    r_max = scale * (np.sum(np.concatenate([A1, A2_max]) * w) + sec3_max)
    r_ext = scale * (np.sum(np.concatenate([A1, A2_ext]) * w) + sec3_ext)
    return RBO(ext=float(r_ext), min=float(r_min), max=float(r_max), res=float(r_max - r_min))


def _rank_matrix(recs: pd.DataFrame, k: int, name: str, users: pa.Array,
                 item_set: pa.Array) -> np.ndarray:
    """users x k matrix of item codes in rank order, left-aligned, padded with -1.

    Ranks beyond k are dropped; gaps in the ranks close up; an item listed twice for a user
    counts once, at its best rank; two items at one rank is an error.
    """
    r = recs.loc[recs["rank"] <= k]
    u = _index_in(_arrow_str(r["user_id"]), users)
    keep = u >= 0
    u = u[keep]
    rank = r["rank"].to_numpy(dtype=np.int64)[keep]
    if rank.size and rank.min() < 1:
        raise DataError(f"user_overlap: {name} has rank {rank.min()}; ranks start at 1.")
    it = _index_in(_arrow_str(r["item_id"]), item_set)[keep]
    slot = u * k + rank - 1
    if np.bincount(slot, minlength=len(users) * k).max(initial=0) > 1:
        bad = int(np.argmax(np.bincount(slot, minlength=len(users) * k) > 1))
        raise DataError(f"user_overlap: {name} has two items at rank {bad % k + 1} for user "
                        f"{users[bad // k].as_py()!r}.")
    m = np.full((len(users), k), -1, dtype=np.int64)
    m[u, rank - 1] = it
    ms = np.sort(m, axis=1)
    dup_rows = np.flatnonzero(((ms[:, 1:] == ms[:, :-1]) & (ms[:, 1:] >= 0)).any(axis=1))
    for row in dup_rows:                         # rare: blank later copies of an item
        seen = set()
        for j in range(k):
            v = m[row, j]
            if v in seen:
                m[row, j] = -1
            elif v >= 0:
                seen.add(v)
    # close gaps left by missing ranks or removed copies (stable: keeps rank order)
    order = np.argsort(m < 0, axis=1, kind="stable")
    return np.take_along_axis(m, order, axis=1)


def _rbo_ext_no_ties(X: np.ndarray, s: int, p: float) -> np.ndarray:
    """RBO_ext (Webber 2010 = RBO^w without ties) for rows of X_d, d = 1..l, shorter length s."""
    l = X.shape[1]
    d = np.arange(1, l + 1, dtype=float)
    A = X / d                                   # section 1 agreement (d <= s)
    A_s = A[:, s - 1:s]
    if l > s:
        A[:, s:] = (X[:, s:] + (d[s:] - s) * A_s) / d[s:]
    tail = (X[:, l - 1] + (l - s) * A_s[:, 0]) / l * p ** (l + 1) / (1 - p)
    return (1 - p) / p * ((A * p ** d).sum(axis=1) + tail)


def user_overlap(recs_a: pd.DataFrame, recs_b: pd.DataFrame, k: int = 10,
                 p: float = 0.9) -> pd.DataFrame:
    """Per user in both runs: Jaccard, RBO (ext) and Kendall's tau of their top-``k`` lists.

    Returns DataFrame[user_id, jaccard, rbo, kendall_tau]; kendall_tau is nan when fewer
    than 2 items are shared. Users are matched by id; users in only one run are left out.
    """
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise DataError(f"user_overlap: k must be a positive integer, got {k!r}.")
    if not (0 < p < 1):
        raise DataError(f"user_overlap: p must be strictly between 0 and 1, got {p!r}.")
    for name, recs in (("recs_a", recs_a), ("recs_b", recs_b)):
        missing = [c for c in ("user_id", "rank", "item_id") if c not in recs.columns]
        if missing:
            raise DataError(f"user_overlap: {name} lacks the column(s) {', '.join(missing)}.")
    ua = pc.unique(_arrow_str(recs_a["user_id"]))
    ub = pc.unique(_arrow_str(recs_b["user_id"]))
    users = ua.filter(pc.is_in(ua, value_set=ub))
    users = users.take(pc.sort_indices(users))
    cols = ["user_id", "jaccard", "rbo", "kendall_tau"]
    if len(users) == 0:
        return pd.DataFrame({c: pd.Series(dtype="str" if c == "user_id" else "float64")
                             for c in cols})
    item_set = pc.unique(pa.concat_arrays([_arrow_str(recs_a["item_id"]),
                                           _arrow_str(recs_b["item_id"])]))
    ma = _rank_matrix(recs_a, k, "recs_a", users, item_set)
    mb = _rank_matrix(recs_b, k, "recs_b", users, item_set)
    n_users = len(users)
    la = (ma >= 0).sum(axis=1)
    lb = (mb >= 0).sum(axis=1)
    out_j = np.empty(n_users)
    out_r = np.empty(n_users)
    out_t = np.empty(n_users)
    # Vectorised per (len_a, len_b) group: within a group every list has the same lengths,
    # so X_d for all users is one array operation.
    keys = la * (k + 1) + lb
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        na, nb = int(key // (k + 1)), int(key % (k + 1))
        for start in range(0, rows.size, 50_000):   # bound memory: rows x na x nb booleans
            rr = rows[start:start + 50_000]
            A, B = ma[rr, :na], mb[rr, :nb]
            eq = A[:, :, None] == B[:, None, :]
            found = eq.any(axis=2)
            pos_b = np.where(found, eq.argmax(axis=2), np.iinfo(np.int64).max // 2)
            inter = found.sum(axis=1)
            out_j[rr] = inter / (na + nb - inter)
            both_from = np.maximum(np.arange(na), pos_b)      # 0-based depth seen in both
            l, s = max(na, nb), min(na, nb)
            X = (both_from[:, :, None] <= np.arange(l)[None, None, :]).sum(axis=1)
            out_r[rr] = _rbo_ext_no_ties(X.astype(float), s, p)
            # Kendall's tau among shared items: no ties within a list, so tau-b = tau-a
            # = (concordant - discordant) / (n choose 2); i < j in A, compare order in B.
            both = found[:, :, None] & found[:, None, :]
            upper = np.triu(np.ones((na, na), dtype=bool), 1)
            pair = both & upper
            conc = (pair & (pos_b[:, :, None] < pos_b[:, None, :])).sum(axis=(1, 2))
            npairs = pair.sum(axis=(1, 2))
            with np.errstate(invalid="ignore", divide="ignore"):
                tau = (2 * conc - npairs) / npairs
            out_t[rr] = np.where(inter >= 2, tau, np.nan)
    return pd.DataFrame({"user_id": pd.array(users, dtype="str"),
                         "jaccard": out_j, "rbo": out_r, "kendall_tau": out_t})
