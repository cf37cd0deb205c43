"""Top-K metrics: per-user accuracy, their means, and beyond-accuracy list properties.

Frames:
    recs  DataFrame[user_id (str), rank (int, from 1), item_id (str), score (float)]
    test / train  DataFrame[user_id, item_id, timestamp, weight]; relevance is binary
                  (an item is relevant to a user when the pair is in ``test``).

Everything is vectorised over integer user/item codes with numpy (a dense users x K hit
matrix), so 1,000,000 users x top-20 take seconds, not a per-user Python loop. The
formulas are the usual ones (see ``REGISTRY`` and each kernel's docstring); they are hand-written rather than taken
from scikit-learn because sklearn's ranking metrics need a dense users x items score
matrix and differ in normalisation (e.g. its ndcg_score has no top-K-aware MAP/recall);
tests/unit/test_metrics.py cross-checks nDCG against ``sklearn.metrics.ndcg_score`` and
every metric against a slow per-user reference loop.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import DataError
from engine.evaluate._codes import _arrow_str, _index_in

# --------------------------------------------------------------------------------------
# The registry: one entry per metric, declared once. Each kernel's docstring opens with
# the one-sentence definition the viewer shows (``Metric.definition``), then its formula
# (as in ranx: one metric per unit, its formula in its docstring). ``ACCURACY``,
# ``BEYOND``, ``METRICS``, the store's hit metrics and the viewer's formats all derive
# from ``REGISTRY``: adding a metric is one ``Metric(...)`` entry plus its kernel.
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    """What the rest of recscope knows about one metric.

    name: the key stored in the metrics tables and JSON (``"ndcg"``); never renamed.
    scope: ``"user"`` (a value per evaluated user, averaged into the run's value; paired
        tests and slices work on these) or ``"catalogue"`` (one value per run and K).
    kernel: ``user`` scope: ``kernel(h: Hits, k) -> float array [n_users]``;
        ``catalogue`` scope: ``kernel(c: Lists) -> float`` (``None``: not applicable to
        these lists, no row is written).
    fmt: printf-style display format (the Runs table).
    higher_is_better: the direction a person reads the value in.
    hit: per-user only: the value is positive exactly when the user's list holds one of
        the user's held-out items ("surprise me" prefers such users).
    definition: the first paragraph of the kernel's docstring (shown as hover text).
    """

    name: str
    scope: str
    kernel: Callable
    fmt: str = "%.4f"
    higher_is_better: bool = True
    hit: bool = False

    @property
    def definition(self) -> str:
        doc = inspect.getdoc(self.kernel) or ""
        return " ".join(doc.split("\n\n", 1)[0].split())


@dataclass
class Hits:
    """What per-user kernels read: ``H[u, r]`` = the item at rank r+1 is a hit.

    cum_hits[:, k-1] = hits in the top k; dcg[:, k-1] = sum of 1/log2(rank+1) over hits
    in the top k; ap_terms[:, k-1] = sum over hits in the top k of precision at the hit's
    rank; idcg_at[m] = the best dcg with m hits; first_hit = rank of the first hit
    (kmax + 1 when none); n_rel = the user's distinct test items.
    """

    n_rel: np.ndarray
    cum_hits: np.ndarray
    dcg: np.ndarray
    ap_terms: np.ndarray
    idcg_at: np.ndarray
    first_hit: np.ndarray


@dataclass
class Lists:
    """What catalogue kernels read, for the slots of every list at one K.

    items / users: catalogue code and user code of each slot (an item once per list);
    exposure[i]: slots showing catalogue item i; size: the catalogue size; pop[i]:
    training users of item i; n_train_users; categories: category text per catalogue
    item ("" = none), or None when no item has one.
    """

    items: np.ndarray
    users: np.ndarray
    exposure: np.ndarray
    size: int
    pop: np.ndarray
    n_train_users: int
    categories: np.ndarray | None


# -- per-user kernels -------------------------------------------------------------------
def precision(h: Hits, k: int) -> np.ndarray:
    """Share of the top-K recommendations that are in the user's test set (hits / K).

    precision@K = |top-K ∩ test| / K
    """
    return h.cum_hits[:, k - 1] / k


def recall(h: Hits, k: int) -> np.ndarray:
    """Share of the user's test items that appear in the top-K recommendations (hits / test items).

    recall@K = |top-K ∩ test| / |test|
    """
    return h.cum_hits[:, k - 1] / h.n_rel


def ndcg(h: Hits, k: int) -> np.ndarray:
    """Discounted gain of hits (1 / log2(rank + 1)) in the top K, divided by the best gain possible with min(K, test items) hits.

    nDCG@K = sum_{r <= K, hit} 1/log2(r + 1)  /  sum_{r <= min(K, |test|)} 1/log2(r + 1)
    """
    return h.dcg[:, k - 1] / h.idcg_at[np.minimum(k, h.n_rel)]


def map_(h: Hits, k: int) -> np.ndarray:
    """Average of precision at each hit's rank within the top K, divided by min(K, test items).

    AP@K = sum_{r <= K, hit} precision@r / min(K, |test|)
    """
    return h.ap_terms[:, k - 1] / np.minimum(k, h.n_rel)


def mrr(h: Hits, k: int) -> np.ndarray:
    """1 / rank of the first hit in the top K, or 0 when there is none.

    RR@K = 1 / r_first if r_first <= K else 0
    """
    return np.where(h.first_hit <= k, 1.0 / h.first_hit, 0.0)


def hit_rate(h: Hits, k: int) -> np.ndarray:
    """1 when at least one of the top-K recommendations is a test item, else 0.

    HR@K = [ |top-K ∩ test| > 0 ]
    """
    return (h.cum_hits[:, k - 1] > 0).astype(np.float64)


# -- catalogue kernels ------------------------------------------------------------------
def coverage(c: Lists) -> float:
    """Share of the catalogue's items that are recommended to at least one user in the top K.

    coverage@K = |{i : exposure_i > 0}| / catalogue size
    """
    return np.count_nonzero(c.exposure) / c.size


def gini(c: Lists) -> float:
    """Gini coefficient of how often each catalogue item is recommended in the top K: 0 = every item equally often, near 1 = a few items get all exposure.

    G = sum_i (2i - n - 1) x_(i) / (n sum x), exposure x sorted ascending, i = 1..n
    """
    return _gini(c.exposure, c.size)


def avg_popularity(c: Lists) -> float:
    """Mean number of training users who interacted with a recommended item, over all top-K slots.

    avg_popularity@K = mean over slots of pop(item)
    """
    return float(c.pop[c.items].mean()) if c.items.size else float("nan")


def novelty(c: Lists) -> float:
    """Mean self-information -log2(share of training users who interacted with the item) over all top-K slots; higher = less popular items.

    novelty@K = mean over slots of -log2(max(pop(item), 1) / training users)
    """
    if not c.n_train_users or not c.items.size:
        return float("nan")
    return float(np.mean(-np.log2(np.maximum(c.pop[c.items], 1.0) / c.n_train_users)))


def ild(c: Lists) -> float | None:
    """Intra-list diversity: mean share of item pairs in a user's top K whose categories differ.

    ILD = mean over users of 1 - sum_j c_j (c_j - 1) / (n (n - 1)); None without categories
    """
    if c.categories is None:
        return None
    return _ild(c.users, c.categories[c.items])


def personalisation(c: Lists) -> float:
    """1 - mean cosine similarity between two users' top-K item sets over all user pairs (for equal-length lists, 1 - mean share of items they share); higher = more personal.

    personalisation = 1 - mean_{u<v} |L_u ∩ L_v| / sqrt(|L_u| |L_v|)   (see ``_personalisation``)
    """
    return _personalisation(c.users, c.items)


REGISTRY: dict[str, Metric] = {m.name: m for m in [
    Metric("precision", "user", precision, hit=True),
    Metric("recall", "user", recall, hit=True),
    Metric("ndcg", "user", ndcg, hit=True),
    Metric("map", "user", map_, hit=True),
    Metric("mrr", "user", mrr, hit=True),
    Metric("hit_rate", "user", hit_rate, hit=True),
    Metric("coverage", "catalogue", coverage, fmt="%.3f"),
    Metric("gini", "catalogue", gini, fmt="%.3f", higher_is_better=False),
    Metric("avg_popularity", "catalogue", avg_popularity, fmt="%.1f", higher_is_better=False),
    Metric("novelty", "catalogue", novelty, fmt="%.2f"),
    Metric("ild", "catalogue", ild, fmt="%.3f"),
    Metric("personalisation", "catalogue", personalisation, fmt="%.3f"),
]}

#: The per-user accuracy metrics, in display order.
ACCURACY = [m.name for m in REGISTRY.values() if m.scope == "user"]
#: The catalogue-level metrics computed by ``beyond_accuracy``.
BEYOND = [m.name for m in REGISTRY.values() if m.scope == "catalogue"]
#: One-sentence definition per metric name (shown as hover text in the viewer).
METRICS: dict[str, str] = {m.name: m.definition for m in REGISTRY.values()}
#: Per-user metrics that are positive exactly when the list holds a held-out item.
HIT_METRICS: tuple[str, ...] = tuple(m.name for m in REGISTRY.values() if m.hit)
#: Display format of a metric the registry does not know (e.g. from an older version).
DEFAULT_FORMAT = "%.4f"


def metric(name: str) -> Metric | None:
    """The registry entry of ``name`` (None for a name the registry does not know)."""
    return REGISTRY.get(name)


def display_format(name: str) -> str:
    """printf-style format of ``name``'s values (``DEFAULT_FORMAT`` when unknown)."""
    m = REGISTRY.get(name)
    return m.fmt if m else DEFAULT_FORMAT


def definition(name: str) -> str:
    """The one-sentence definition of ``name`` ("" when unknown)."""
    m = REGISTRY.get(name)
    return m.definition if m else ""


def _check_columns(df: pd.DataFrame, cols: list[str], name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{name} lacks the column(s) {', '.join(missing)}.")


def _check_ks(ks) -> tuple[int, ...]:
    ks = tuple(ks)
    if not ks or any(not isinstance(k, (int, np.integer)) or k < 1 for k in ks):
        raise DataError(f"ks must be positive integers, got {ks!r}.")
    return tuple(sorted(set(int(k) for k in ks)))


def _check_ranks(recs: pd.DataFrame, name: str = "recs") -> None:
    if len(recs) and not pd.api.types.is_integer_dtype(recs["rank"]):
        raise DataError(f"{name}: column rank must hold integers from 1, got {recs['rank'].dtype}.")
    if len(recs) and recs["rank"].min() < 1:
        raise DataError(f"{name}: column rank must start at 1, found {recs['rank'].min()}.")


def _str_column(uniques: pa.Array, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
    return pd.array(uniques.take(pa.array(codes)), dtype="str")


def _check_one_item_per_rank(user_code: np.ndarray, rank: np.ndarray, kmax: int,
                             users: pa.Array) -> None:
    slot_count = np.bincount(user_code * kmax + rank - 1, minlength=len(users) * kmax)
    if slot_count.max(initial=0) > 1:
        bad = int(np.argmax(slot_count > 1))
        raise DataError(f"recs: user {users[bad // kmax].as_py()!r} has two items at rank "
                        f"{bad % kmax + 1}.")


def accuracy_metrics(recs: pd.DataFrame, test: pd.DataFrame, ks=(10, 20)) -> pd.DataFrame:
    """Per-user accuracy at each K: DataFrame[user_id, metric, k, value].

    Evaluated users are those with at least one test item; a test user with no
    recommendations scores 0 on every metric. Recommended items beyond rank max(ks) are
    ignored; an item recommended twice to a user counts once, at its best rank.
    Rows are ordered by metric (``ACCURACY`` order), k, then user id.
    """
    _check_columns(recs, ["user_id", "rank", "item_id"], "recs")
    _check_columns(test, ["user_id", "item_id"], "test")
    _check_ranks(recs)
    ks = _check_ks(ks)
    kmax = ks[-1]

    # Integer codes: users = sorted distinct test users; items = distinct test items only
    # (a recommended item that is nobody's test item can never be a hit).
    t_users = _arrow_str(test["user_id"])
    t_items = _arrow_str(test["item_id"])
    users = pc.unique(t_users)
    users = users.take(pc.sort_indices(users))
    n_users = len(users)
    if n_users == 0:
        return pd.DataFrame({"user_id": pd.Series(dtype="str"), "metric": pd.Series(dtype="str"),
                             "k": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})
    titems = pc.unique(t_items)
    n_items = np.int64(len(titems))
    t_key = np.sort(_index_in(t_users, users) * n_items + _index_in(t_items, titems))
    t_key = t_key[np.concatenate([[True], t_key[1:] != t_key[:-1]])]   # sorted, distinct
    n_rel = np.bincount(t_key // n_items, minlength=n_users)

    r = recs.loc[recs["rank"] <= kmax, ["user_id", "rank", "item_id"]]
    r_user = _index_in(_arrow_str(r["user_id"]), users)
    keep = r_user >= 0
    r_user = r_user[keep]
    rank = r["rank"].to_numpy(dtype=np.int64)[keep]
    _check_one_item_per_rank(r_user, rank, kmax, users)
    r_item = _index_in(_arrow_str(r["item_id"]), titems)[keep]
    cand = r_item >= 0
    key = r_user[cand] * n_items + r_item[cand]
    pos = np.searchsorted(t_key, key)
    is_hit = t_key[np.minimum(pos, t_key.size - 1)] == key
    h_key, h_rank = key[is_hit], rank[cand][is_hit]
    # an item recommended twice to one user counts once, at its best rank
    order = np.lexsort((h_rank, h_key))
    first = np.ones(order.size, dtype=bool)
    first[1:] = h_key[order][1:] != h_key[order][:-1]
    h_key, h_rank = h_key[order][first], h_rank[order][first]

    H = np.zeros((n_users, kmax), dtype=bool)           # H[u, rank-1] = hit
    H[h_key // n_items, h_rank - 1] = True
    posn = np.arange(1, kmax + 1, dtype=np.float64)
    disc = 1.0 / np.log2(posn + 1.0)
    cum_hits = np.cumsum(H, axis=1, dtype=np.float64)
    dcg = np.cumsum(H * disc, axis=1)
    ap_terms = np.cumsum(np.where(H, cum_hits / posn, 0.0), axis=1)
    idcg_at = np.concatenate([[0.0], np.cumsum(disc)])
    first_hit = np.where(H.any(axis=1), H.argmax(axis=1) + 1, kmax + 1)

    hits = Hits(n_rel=n_rel, cum_hits=cum_hits, dcg=dcg, ap_terms=ap_terms, idcg_at=idcg_at,
                first_hit=first_hit)
    blocks = [(name, k, np.asarray(REGISTRY[name].kernel(hits, k), dtype=np.float64))
              for name in ACCURACY for k in ks]
    nb = len(blocks)
    metric_codes = np.repeat(np.array([ACCURACY.index(b[0]) for b in blocks]), n_users)
    return pd.DataFrame({
        "user_id": _str_column(users, np.tile(np.arange(n_users), nb)),
        "metric": _str_column(pa.array(ACCURACY), metric_codes),
        "k": np.repeat(np.array([b[1] for b in blocks], dtype=np.int64), n_users),
        "value": np.concatenate([b[2] for b in blocks]),
    })


def summarise(user_metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean over users of each (metric, k): DataFrame[metric, k, value]."""
    _check_columns(user_metrics, ["metric", "k", "value"], "user_metrics")
    out = (user_metrics.groupby(["metric", "k"], sort=False, observed=True)["value"]
           .mean().reset_index())
    order = {m: i for i, m in enumerate(ACCURACY + BEYOND)}
    out["_o"] = out["metric"].map(order).fillna(len(order))
    return out.sort_values(["_o", "k"]).drop(columns="_o").reset_index(drop=True)


def beyond_accuracy(recs: pd.DataFrame, train: pd.DataFrame, items: pd.DataFrame | None,
                    ks=(10, 20), n_items: int | None = None) -> pd.DataFrame:
    """Catalogue-level properties of the top-K lists: DataFrame[metric, k, value].

    n_items: catalogue size for coverage and gini; default = number of distinct items in
    ``items`` (or in train and recs when ``items`` is None), plus any recommended item
    missing from it. Popularity = number of distinct training users who interacted with an
    item. novelty counts an item no training user saw as seen by one user, so it stays
    finite. ild is reported only when some item has a non-empty ``category``; a category
    is compared as a whole string, and pairs involving an item without one are skipped.
    personalisation uses cosine similarity (see ``METRICS``); it is exact and O(slots),
    see ``_personalisation``.
    """
    _check_columns(recs, ["user_id", "rank", "item_id"], "recs")
    _check_columns(train, ["user_id", "item_id"], "train")
    _check_ranks(recs)
    ks = _check_ks(ks)
    r = recs.loc[recs["rank"] <= ks[-1], ["user_id", "rank", "item_id"]]
    r_users = _arrow_str(r["user_id"])
    r_items = _arrow_str(r["item_id"])
    tr_users = _arrow_str(train["user_id"])
    tr_items = _arrow_str(train["item_id"])

    if items is not None and len(items):
        _check_columns(items, ["item_id"], "items")
        catalogue = pc.unique(_arrow_str(items["item_id"]))
    else:
        catalogue = pc.unique(pa.concat_arrays([tr_items, r_items]))
    extra = pc.unique(r_items.filter(pc.invert(pc.is_in(r_items, value_set=catalogue))))
    catalogue = pa.concat_arrays([catalogue, extra])     # recommended items not listed
    n_cat = np.int64(len(catalogue))
    size = int(n_items) if n_items is not None else int(n_cat)
    if size < 1:
        raise DataError(f"n_items must be at least 1, got {n_items!r}.")

    # popularity: distinct training users per item
    tu = pc.dictionary_encode(tr_users).indices.to_numpy().astype(np.int64)
    ti = _index_in(tr_items, catalogue)
    n_train_users = len(pc.unique(tr_users))
    known = ti >= 0                                     # train items outside the catalogue
    pairs = pd.unique(tu[known] * n_cat + ti[known])
    pop = np.bincount(pairs % n_cat, minlength=int(n_cat)).astype(np.float64)

    categories = None
    if items is not None and "category" in items.columns:
        it = items.assign(item_id=items["item_id"].astype(str)).drop_duplicates("item_id")
        cat = np.full(int(n_cat), "", dtype=object)
        where = _index_in(_arrow_str(it["item_id"]), catalogue)
        cat[where] = it["category"].fillna("").astype(str).to_numpy(dtype=object)
        if (cat != "").any():
            categories = cat

    enc = pc.dictionary_encode(r_users)
    user_code = enc.indices.to_numpy().astype(np.int64)
    item_code = _index_in(r_items, catalogue)
    rank = r["rank"].to_numpy(dtype=np.int64)
    _check_one_item_per_rank(user_code, rank, ks[-1], enc.dictionary)
    keep = _first_of_each_item(user_code, rank, item_code, ks[-1])
    user_code, item_code, rank = user_code[keep], item_code[keep], rank[keep]
    rows = []
    for k in ks:
        sel = rank <= k
        ic, uc = item_code[sel], user_code[sel]
        lists = Lists(items=ic, users=uc,
                      exposure=np.bincount(ic, minlength=len(catalogue)).astype(np.float64),
                      size=size, pop=pop, n_train_users=n_train_users, categories=categories)
        for name in BEYOND:
            v = REGISTRY[name].kernel(lists)
            if v is not None:        # None: not applicable to these lists (ild, no categories)
                rows.append((name, k, float("nan") if ic.size == 0 else float(v)))
    out = pd.DataFrame(rows, columns=["metric", "k", "value"])
    out["metric"] = out["metric"].astype("str")
    order = {m: i for i, m in enumerate(BEYOND)}
    out = out.sort_values(["metric", "k"], key=lambda s: s.map(order) if s.name == "metric" else s)
    return out.reset_index(drop=True)


def _first_of_each_item(user_code: np.ndarray, rank: np.ndarray, item_code: np.ndarray,
                        kmax: int) -> np.ndarray:
    """Rows to keep so that an item listed twice for a user counts once, at its best rank.

    Fast path: lay the lists out as a users x kmax matrix, sort each row and look for equal
    neighbours (no hashing of millions of keys); only when duplicates exist, drop them.
    """
    n_users = int(user_code.max(initial=-1)) + 1
    M = np.full((n_users, kmax), -1, dtype=np.int64)
    M[user_code, rank - 1] = item_code
    Ms = np.sort(M, axis=1)
    if not ((Ms[:, 1:] == Ms[:, :-1]) & (Ms[:, 1:] >= 0)).any():
        return np.arange(user_code.size)
    order = np.lexsort((rank, item_code, user_code))
    u, i = user_code[order], item_code[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
    return np.sort(order[first])


def _gini(exposure: np.ndarray, size: int) -> float:
    """Gini of exposure over ``size`` catalogue items (items never recommended count as 0).

    G = sum_i (2i - n - 1) x_(i) / (n * sum x), x sorted ascending, i = 1..n.
    """
    x = np.sort(exposure)
    if size > x.size:                      # catalogue items we have no row for: zeros first
        x = np.concatenate([np.zeros(size - x.size), x])
    n = x.size
    total = x.sum()
    if total == 0:
        return float("nan")
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


def _ild(user_code: np.ndarray, cats: np.ndarray) -> float:
    """Mean over users (with >= 2 categorised items) of the share of differing-category pairs.

    For a list with n categorised items, c_j of category j: differing pairs share =
    1 - sum_j c_j (c_j - 1) / (n (n - 1)).
    """
    has = cats != ""
    if not has.any():
        return float("nan")
    df = pd.DataFrame({"u": user_code[has], "c": cats[has]})
    cnt = df.groupby(["u", "c"]).size()
    same = (cnt * (cnt - 1)).groupby(level="u").sum()
    n = cnt.groupby(level="u").sum()
    ok = n >= 2
    if not ok.any():
        return float("nan")
    return float((1 - same[ok] / (n[ok] * (n[ok] - 1))).mean())


def _personalisation(user_code: np.ndarray, item_code: np.ndarray) -> float:
    """1 - mean cosine similarity of binary item vectors over all pairs of users, exactly.

    Comparing all U^2 pairs is infeasible for many users, but the sum of pairwise cosine
    similarities decomposes over items: with w_u = 1/sqrt(|L_u|),
        sum_{u<v} |L_u ∩ L_v| w_u w_v = sum_i ((sum_{u∋i} w_u)^2 - sum_{u∋i} w_u^2) / 2,
    which is O(number of slots). (For equal-length lists this is sum_i c_i (c_i - 1) / 2k,
    c_i = how many lists contain item i.) Mean pairwise Jaccard does not decompose like
    this (it is not linear in the intersection), which is why cosine is used; for
    equal-length lists of length k cosine = |L_u ∩ L_v| / k.
    """
    n_users = int(user_code.max(initial=-1)) + 1
    if n_users < 2:
        return float("nan")
    length = np.bincount(user_code, minlength=n_users).astype(np.float64)
    w = 1.0 / np.sqrt(length[user_code])
    s1 = np.bincount(item_code, weights=w)
    s2 = np.bincount(item_code, weights=w * w)
    pair_sim = float(np.sum(s1 * s1 - s2) / 2)
    n_pairs = n_users * (n_users - 1) / 2
    return 1.0 - pair_sim / n_pairs
