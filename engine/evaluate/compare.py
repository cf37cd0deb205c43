"""What the Compare page computes from several runs' lists: marks on one user's lists,
list overlaps per pair of runs, the per-user disagreement table, and item exposure.

Conventions:
- Inputs are DataFrames as the store readers return them (``engine.store.recommendations``,
  ``engine.store.metrics``): run ids are ints, user and item ids text, ranks start at 1.
- Pairs of runs are taken in the order the run ids are given: (first, second), ...
- ``metric_diff = metric_b - metric_a``: the second run minus the first, so a positive
  difference means run B scores higher for that user. ``exposure_contrast`` ranks items by
  ``share_a - share_b`` (what run A pushes more than run B).
- Overlaps (``engine.evaluate.overlap``): an item listed twice in one list (possible in
  imported runs) counts once, at its best rank; RBO uses persistence ``RBO_P``; RBO is
  nan when a list is empty, Kendall's tau nan with fewer than 2 shared items, Jaccard nan
  when both lists are empty.
- Exposure: ``n_<run>`` = users whose top-K holds the item, ``share_<run>`` = n / users
  with a list in that run (0.0 when the run lists nobody).
"""

from __future__ import annotations

import zlib
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from engine.data.frames import empty_frame, unique_ints
from engine.evaluate.overlap import jaccard, kendall_tau, rbo, user_overlap

#: Persistence of RBO everywhere on the Compare page (weight 0.9 puts ~86% on the top 10).
RBO_P = 0.9


def mark_lists(lists: pd.DataFrame, tests: pd.DataFrame, run_split: dict) -> pd.DataFrame:
    """Add the marks the page shows to ``user_lists`` output.

    hit: the item is held out for this user in the run's split (a correct guess);
    n_runs: how many of the compared runs list it; shared: n_runs > 1; unique: only this
    run lists it while other runs are compared; other_ranks: [(run, rank), ...] of the
    other runs that list it.
    """
    out = lists.copy()
    held = {(int(s), str(i)) for s, i in zip(tests["split_id"], tests["item_id"])} if len(tests) else set()
    out["hit"] = [(run_split.get(int(r)) is not None and (int(run_split[int(r)]), str(i)) in held)
                  for r, i in zip(out["run_id"], out["item_id"])]
    runs_per_item = out.groupby("item_id")["run_id"].nunique()
    out["n_runs"] = out["item_id"].map(runs_per_item).fillna(0).astype(int)
    n_compared = out["run_id"].nunique()
    out["shared"] = out["n_runs"] > 1
    out["unique"] = (out["n_runs"] == 1) & (n_compared > 1)
    ranks = {(int(r), str(i)): int(k) for r, i, k in zip(out["run_id"], out["item_id"], out["rank"])}
    by_item: dict[str, list[tuple[int, int]]] = {}
    for (r, i), k in ranks.items():
        by_item.setdefault(i, []).append((r, k))
    out["other_ranks"] = [[(r2, k2) for r2, k2 in sorted(by_item[str(i)]) if r2 != int(r)]
                          for r, i in zip(out["run_id"], out["item_id"])]
    return out


def pair_overlaps(lists: pd.DataFrame, run_ids: Sequence, p: float = RBO_P) -> pd.DataFrame:
    """Jaccard, RBO and Kendall's tau of each pair of runs' lists for one user.

    DataFrame[run_a, run_b, jaccard, rbo, kendall_tau, n_shared]; rbo is nan when a list
    is empty; kendall_tau is nan with fewer than 2 shared items.
    """
    ids = unique_ints(run_ids)
    # an item listed twice (possible in imported runs) counts once, at its best rank
    seqs = {r: list(dict.fromkeys(lists.loc[lists["run_id"] == r].sort_values("rank")["item_id"]
                                  .astype(str)))
            for r in ids}
    rows = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            la, lb = seqs[a], seqs[b]
            shared = len(set(la) & set(lb))
            rows.append({
                "run_a": a, "run_b": b,
                "jaccard": jaccard(la, lb) if (la or lb) else np.nan,
                "rbo": rbo(la, lb, p).ext if (la and lb) else np.nan,
                "kendall_tau": kendall_tau(la, lb),
                "n_shared": shared,
            })
    cols = {"run_a": "int64", "run_b": "int64", "jaccard": "float64", "rbo": "float64",
            "kendall_tau": "float64", "n_shared": "int64"}
    return pd.DataFrame(rows) if rows else empty_frame(cols)


def disagreement_table(lists_a: pd.DataFrame, lists_b: pd.DataFrame, metric_a: pd.DataFrame,
                       metric_b: pd.DataFrame, k: int, p: float = RBO_P) -> pd.DataFrame:
    """Per user in both runs' lists (DataFrame[user_id, rank, item_id] each): how much their
    top-``k`` lists disagree, most first, with the stored per-user metric of each run
    (DataFrame[user_id, value] each).

    DataFrame[user_id, rbo, jaccard, kendall_tau, metric_a, metric_b, metric_diff],
    metric_diff = metric_b - metric_a (nan where a run has no value). Sorted by rbo
    ascending, then |metric_diff| descending, then user id.
    """
    ov = user_overlap(lists_a, lists_b, k=int(k), p=p)
    ov["user_id"] = ov["user_id"].astype(object)
    ma = metric_a.assign(user_id=metric_a["user_id"].astype(object))
    mb = metric_b.assign(user_id=metric_b["user_id"].astype(object))
    ov = ov.merge(ma.rename(columns={"value": "metric_a"}), on="user_id", how="left")
    ov = ov.merge(mb.rename(columns={"value": "metric_b"}), on="user_id", how="left")
    ov["metric_diff"] = ov["metric_b"] - ov["metric_a"]
    ov["_abs"] = ov["metric_diff"].abs()
    ov = ov.sort_values(["rbo", "_abs", "user_id"], ascending=[True, False, True],
                        na_position="last", kind="stable")
    return ov.drop(columns="_abs")[["user_id", "rbo", "jaccard", "kendall_tau", "metric_a",
                                    "metric_b", "metric_diff"]].reset_index(drop=True)


def exposure_table(counts: pd.DataFrame, n_users: dict[int, int], run_ids: Iterable) -> pd.DataFrame:
    """Wide exposure from long counts (DataFrame[run_id, item_id, n]) and each run's number
    of users with a list: DataFrame[item_id, n_<run>, share_<run> for each run], sorted by
    total exposure (most first), then item id."""
    ids = unique_ints(run_ids)
    if counts.empty:
        out = empty_frame({"item_id": "object"})
        for r in ids:
            out[f"n_{r}"] = pd.Series([], dtype="int64")
            out[f"share_{r}"] = pd.Series([], dtype="float64")
        return out
    wide = counts.pivot_table(index="item_id", columns="run_id", values="n", aggfunc="sum",
                              fill_value=0)
    wide = wide.reindex(columns=ids, fill_value=0)
    out = pd.DataFrame({"item_id": wide.index.astype(object)})
    for r in ids:
        out[f"n_{r}"] = wide[r].to_numpy(dtype="int64")
        out[f"share_{r}"] = out[f"n_{r}"] / n_users[r] if n_users.get(r) else 0.0
    out["_total"] = out[[f"n_{r}" for r in ids]].sum(axis=1)
    return out.sort_values(["_total", "item_id"], ascending=[False, True]).drop(columns="_total") \
        .reset_index(drop=True)


def with_titles(expo: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """``exposure_table`` output with title and category first (from ``meta``:
    DataFrame[item_id, title, category, ...]); an item without a title shows its id."""
    out = expo.merge(meta[["item_id", "title", "category"]], on="item_id", how="left")
    out["title"] = out["title"].where(out["title"].notna() & (out["title"].astype(str) != ""),
                                      out["item_id"])
    return out[["item_id", "title", "category"] + [c for c in out.columns
                                                   if c.startswith(("n_", "share_"))]] \
        .reset_index(drop=True)


def exposure_summary(expo: pd.DataFrame, run_ids: Iterable, n_items: int | None = None) -> pd.DataFrame:
    """Per run, from ``exposure`` output: distinct items recommended, catalogue coverage
    (when ``n_items`` is given) and the share of all list slots taken by the 10 most
    recommended items (how concentrated the run is). DataFrame[run_id, items, coverage, top10_share]."""
    rows = []
    for r in unique_ints(run_ids):
        n = expo[f"n_{r}"] if f"n_{r}" in expo.columns else pd.Series([], dtype="int64")
        n = n[n > 0].sort_values(ascending=False)
        total = n.sum()
        rows.append({"run_id": r, "items": int(len(n)),
                     "coverage": (len(n) / n_items) if n_items else np.nan,
                     "top10_share": float(n.head(10).sum() / total) if total else np.nan})
    return pd.DataFrame(rows)


def exposure_contrast(expo: pd.DataFrame, run_a: int, run_b: int, top: int = 15) -> pd.DataFrame:
    """Items ``run_a`` pushes far more than ``run_b``: largest share_a - share_b first.

    DataFrame[item_id, title, category, share_a, share_b, diff, n_a, n_b] (top rows).
    """
    a, b = int(run_a), int(run_b)
    out = pd.DataFrame({"item_id": expo["item_id"], "title": expo["title"],
                        "category": expo["category"],
                        "share_a": expo[f"share_{a}"], "share_b": expo[f"share_{b}"],
                        "n_a": expo[f"n_{a}"], "n_b": expo[f"n_{b}"]})
    out["diff"] = out["share_a"] - out["share_b"]
    out = out[out["diff"] > 0].sort_values(["diff", "item_id"], ascending=[False, True])
    return out.head(int(top))[["item_id", "title", "category", "share_a", "share_b", "diff",
                               "n_a", "n_b"]].reset_index(drop=True)


def stable_seed(*parts) -> int:
    """A small deterministic integer from text parts (for "surprise me" draws)."""
    return zlib.crc32("|".join(map(str, parts)).encode()) % 1_000_000
