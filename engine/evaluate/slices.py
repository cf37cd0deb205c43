"""Per-user metrics cut by slices of users, and pairwise paired tests between runs.

Pure functions of DataFrames (the SQL that fetches them is in engine/store/metrics.py and
engine/store/splits.py; engine/services/runs.py joins the two).

Slices:
- *activity*: users bucketed by how many distinct items they have in the train part of
  the split, at quantiles of that count (default quartiles). Equal counts never straddle
  two buckets, so a bucket may hold more or fewer than a quarter of the users; each
  bucket is labelled by the counts it actually holds ("7–12 items").
- *cold / warm*: users with at most ``cold_max`` train items are cold (default 5, a common
  cut for "few interactions"; the Runs page lets a person move it).

The interval of a slice mean is Student's t interval (scipy.stats.t), which is what a
reader expects of "mean ± CI" and is close to the bootstrap for the hundreds of users a
slice usually holds.
"""

from __future__ import annotations

from itertools import combinations
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from engine.evaluate.stats import holm, paired_test

#: Default number of activity buckets (quartiles of train items per user).
ACTIVITY_BUCKETS = 4
#: Users with at most this many distinct train items are "cold" by default.
COLD_MAX = 5


def activity_buckets(n_train: pd.Series, n_buckets: int = ACTIVITY_BUCKETS) -> pd.Series:
    """An ordered categorical label per user: the quantile bucket of its train-item count.

    ``n_train``: Series of counts (any index). Bucket edges are quantiles of the counts;
    edges that coincide are merged, so tied counts share a bucket.
    """
    counts = pd.to_numeric(n_train).astype("float64")
    if counts.empty:
        return pd.Series(pd.Categorical([], categories=[], ordered=True), index=counts.index)
    n_buckets = max(1, int(n_buckets))
    qs = np.quantile(counts.to_numpy(), np.linspace(0, 1, n_buckets + 1))
    inner = np.unique(np.floor(qs[1:-1]))  # a bucket ends at a whole count
    code = np.searchsorted(inner, counts.to_numpy(), side="left")
    # label each bucket by the counts it really holds
    labels = {}
    for c in np.unique(code):
        vals = counts.to_numpy()[code == c]
        lo, hi = int(vals.min()), int(vals.max())
        labels[c] = (f"{lo}–{hi} items" if lo != hi else "1 item" if lo == 1 else f"{lo} items")
    order = [labels[c] for c in sorted(labels)]
    return pd.Series(pd.Categorical([labels[c] for c in code], categories=order, ordered=True),
                     index=counts.index)


def cold_warm(n_train: pd.Series, cold_max: int = COLD_MAX) -> pd.Series:
    """'cold (≤ N items)' or 'warm (> N items)' per user, as an ordered categorical."""
    cold, warm = f"cold (≤ {int(cold_max)} items)", f"warm (> {int(cold_max)} items)"
    counts = pd.to_numeric(n_train)
    lab = np.where(counts.to_numpy() <= int(cold_max), cold, warm)
    return pd.Series(pd.Categorical(lab, categories=[cold, warm], ordered=True), index=counts.index)


def slice_summary(values: pd.DataFrame, slice_col: str = "slice",
                  confidence: float = 0.95) -> pd.DataFrame:
    """Mean of ``value`` per (run_id, slice) with a t interval.

    values: DataFrame[run_id, <slice_col>, value]. Returns DataFrame[run_id, slice, n_users,
    mean, ci_low, ci_high] in slice order (empty slices omitted). A one-user slice has no
    interval (NaN bounds).
    """
    cols = ["run_id", "slice", "n_users", "mean", "ci_low", "ci_high"]
    if values.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    g = values.groupby(["run_id", slice_col], observed=True)["value"]
    out = g.agg(n_users="size", mean="mean", sd="std").reset_index()
    out = out.rename(columns={slice_col: "slice"})
    n = out["n_users"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * out["sd"].to_numpy() / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out[cols].reset_index(drop=True)


def pairwise_tests(series: Mapping[int, pd.Series], pairs: Iterable[tuple[int, int]] | None = None,
                   *, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Paired tests of one per-user metric between runs, with Holm's correction.

    series: {run_id: Series of per-user values indexed by user_id}. Each pair (a, b) is
    tested on the users both runs evaluated (``engine.evaluate.stats.paired_test``; the
    difference is B − A and a *win* is a user for whom B is higher: the sign convention
    of ``engine.evaluate.stats``). ``p_holm`` corrects
    the t-test p-values over all pairs in the table (Holm 1979), ``p_holm_wilcoxon`` the
    Wilcoxon ones. Default pairs: every pair in the mapping's order.
    """
    ids = list(series)
    pairs = list(combinations(ids, 2)) if pairs is None else [tuple(p) for p in pairs]
    rows = []
    for a, b in pairs:
        # paired_test(x, y) reports x - y and counts x > y as a win: pass (B, A) to get
        # B − A, then name the means by run again
        res = dict(paired_test(series[b], series[a], n_boot=n_boot, seed=seed,
                               confidence=confidence))
        res["mean_a"], res["mean_b"] = res["mean_b"], res["mean_a"]
        res.update({"run_a": int(a), "run_b": int(b)})
        rows.append(res)
    cols = ["run_a", "run_b", "n", "mean_a", "mean_b", "mean_diff", "ci_low", "ci_high",
            "p_value_t", "p_value_wilcoxon", "wins", "ties", "losses"]
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in cols + ["p_holm", "p_holm_wilcoxon"]})
    out = pd.DataFrame(rows)[cols]
    out["p_holm"] = holm(out["p_value_t"].to_numpy(dtype="float64"))
    out["p_holm_wilcoxon"] = holm(out["p_value_wilcoxon"].to_numpy(dtype="float64"))
    return out


def tests_on_same_split(values: pd.DataFrame, splits: Mapping[int, object], run_ids: Iterable,
                        *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """``pairwise_tests`` of every pair of the runs (in the order given) that share a split.

    values: DataFrame[run_id, user_id, value] (one per-user metric); splits: {run_id:
    split_id}. Runs on different splits are not paired (their users' test items differ):
    such pairs are left out and listed in the ``skipped`` attribute of the result; runs
    without values are listed in ``missing``.
    """
    ids = list(dict.fromkeys(int(r) for r in run_ids))
    series = {r: pd.Series(g["value"].to_numpy(), index=g["user_id"].to_numpy())
              for r, g in values.groupby("run_id", sort=False)}
    series = {r: series[r] for r in ids if r in series}
    pairs, skipped = [], []
    have = list(series)
    for i, a in enumerate(have):
        for b in have[i + 1:]:
            (pairs if splits.get(a) == splits.get(b) else skipped).append((a, b))
    out = pairwise_tests(series, pairs, n_boot=n_boot, seed=seed)
    out.attrs["skipped"] = skipped
    out.attrs["missing"] = [r for r in ids if r not in series]
    return out


def label_slices(values: pd.DataFrame, by: str = "activity", n_buckets: int = ACTIVITY_BUCKETS,
                 cold_max: int = COLD_MAX) -> pd.DataFrame:
    """``values`` (DataFrame[run_id, split_id, user_id, value, n_train]) with an ordered
    categorical ``slice`` column: activity buckets or cold/warm (see the module docstring).

    A user's slice depends on its train items only, and bucket edges are computed once
    over all (split, user) pairs of the runs, so every run is cut alike.
    """
    if by not in ("activity", "coldwarm"):
        raise ValueError(f"by must be 'activity' or 'coldwarm', not {by!r}")
    if values.empty:
        return values.assign(slice=pd.Series([], dtype="object"))
    users = values.drop_duplicates(["split_id", "user_id"])
    if by == "activity":
        labels = activity_buckets(users["n_train"], n_buckets)
    else:
        labels = cold_warm(users["n_train"], cold_max)
    key = users[["split_id", "user_id"]].assign(slice=labels.to_numpy())
    out = values.merge(key, on=["split_id", "user_id"], how="left")
    out["slice"] = pd.Categorical(out["slice"], categories=labels.cat.categories, ordered=True)
    return out


def distribution_summary(values: pd.DataFrame) -> pd.DataFrame:
    """Per run: n_users, share_zero (value exactly 0), mean, median, p90 of per-user values.

    values: DataFrame[run_id, value]; runs keep their order of first appearance.
    """
    cols = ["run_id", "n_users", "share_zero", "mean", "median", "p90"]
    if values.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in cols})
    g = values.groupby("run_id", sort=False)["value"]
    out = g.agg(n_users="size", share_zero=lambda v: float((v == 0).mean()), mean="mean",
                median="median", p90=lambda v: float(np.quantile(v, 0.9))).reset_index()
    return out[cols]
