"""Paired significance tests between runs evaluated on the same users.

Conventions (read these before interpreting a table):
- Inputs are per-user metric values as ``pd.Series`` indexed by user id; two runs are
  compared on the users both have a (non-NaN) value for.
- Sign convention, the one for the whole code base: a difference between two runs is
  **B − A, the second run minus the first**, and a *win* is a user for whom the second
  run (B) scores higher. The Runs page's paired table and forest plot, the Compare page's
  disagreement table ("difference (#B − #A)"), ``slices.pairwise_tests`` and the text of
  ``recscope compare A B`` all say B − A. ``paired_test(a, b)`` itself is the primitive:
  it reports ``a - b`` and counts a > b as a win, so callers pass ``(B, A)`` (or turn a
  result round with ``second_minus_first``). One exception, kept because a JSON key's
  meaning cannot change: ``pipeline.compare_runs`` and ``recscope compare --json`` return
  ``paired_test(A, B)`` as it is (``mean_diff`` = A − B, ``wins`` = users where A is
  higher), which their tests assert.
- ``diff = a - b`` per user in ``paired_test``: a positive ``mean_diff`` means ``a``
  scores higher. ``wins`` / ``ties`` / ``losses`` count users with a > b, a = b, a < b.
- ``ci_low``/``ci_high``: paired bootstrap percentile interval of the mean difference
  (users resampled with replacement, ``n_boot`` times, seeded).
- ``p_value_t``: paired t-test (``scipy.stats.ttest_rel``).
- ``p_value_wilcoxon``: Wilcoxon signed-rank test (``scipy.stats.wilcoxon``) with
  ``zero_method="pratt"``: users with zero difference (common with top-K metrics, where
  many users score 0 under both runs) take part in the ranking and are then dropped,
  which Pratt (1959) showed is more consistent than discarding them first ("wilcox").
  When every difference is zero both p-values are 1.0 (no evidence of any difference).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import scipy.stats

from engine.errors import DataError


def second_minus_first(result: dict) -> dict:
    """A ``paired_test(A, B)`` result turned into the code base's convention, B − A
    (see the module docstring): means and wins/losses swapped, the difference and its
    interval negated. The p-values do not depend on the sign."""
    out = dict(result)
    out["mean_a"], out["mean_b"] = result.get("mean_b"), result.get("mean_a")
    out["mean_diff"] = -result["mean_diff"]
    out["ci_low"], out["ci_high"] = -result["ci_high"], -result["ci_low"]
    out["wins"], out["losses"] = result.get("losses"), result.get("wins")
    return out


def paired_test(a: pd.Series, b: pd.Series, *, n_boot: int = 2000, seed: int = 0,
                confidence: float = 0.95) -> dict:
    """Compare per-user values of run ``a`` and run ``b`` (see the module docstring).

    Returns a dict with keys n, mean_a, mean_b, mean_diff (a - b), ci_low, ci_high,
    p_value_t, p_value_wilcoxon, wins, ties, losses. With fewer than 2 paired users the
    interval and p-values are nan.
    """
    if not 0 < confidence < 1:
        raise DataError(f"confidence must be strictly between 0 and 1, got {confidence!r}.")
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 1):
        raise DataError(f"n_boot must be a positive integer, got {n_boot!r}.")
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, pd.Series):
            raise DataError(f"paired_test: {name} must be a pandas Series indexed by user id.")
        if s.index.has_duplicates:
            dup = s.index[s.index.duplicated()][0]
            raise DataError(f"paired_test: {name} has user {dup!r} more than once.")
    joined = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
    x = joined["a"].to_numpy(dtype=np.float64)
    y = joined["b"].to_numpy(dtype=np.float64)
    d = x - y
    n = int(d.size)
    out = {"n": n,
           "mean_a": float(x.mean()) if n else float("nan"),
           "mean_b": float(y.mean()) if n else float("nan"),
           "mean_diff": float(d.mean()) if n else float("nan"),
           "ci_low": float("nan"), "ci_high": float("nan"),
           "p_value_t": float("nan"), "p_value_wilcoxon": float("nan"),
           "wins": int(np.count_nonzero(d > 0)), "ties": int(np.count_nonzero(d == 0)),
           "losses": int(np.count_nonzero(d < 0))}
    if n < 2:
        return out
    boot = _bootstrap_means(d, n_boot, seed)
    alpha = 1 - confidence
    out["ci_low"], out["ci_high"] = (float(v) for v in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    if not d.any():
        out["p_value_t"] = out["p_value_wilcoxon"] = 1.0
        return out
    if np.all(d == d[0]):
        # a constant non-zero difference: no variance, the t statistic is infinite
        out["p_value_t"] = 0.0
    else:
        out["p_value_t"] = float(scipy.stats.ttest_rel(x, y).pvalue)
    out["p_value_wilcoxon"] = float(scipy.stats.wilcoxon(d, zero_method="pratt").pvalue)
    return out


def _bootstrap_means(d: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Means of ``n_boot`` resamples of d (with replacement), in memory-bounded chunks."""
    rng = np.random.default_rng(seed)
    n = d.size
    chunk = max(1, 4_000_000 // n)
    means = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(m, n), dtype=np.int32 if n < 2**31 else np.int64)
        means[start:start + m] = d[idx].mean(axis=1)
    return means


def holm(pvalues) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, in the input order; NaNs stay NaN.

    Sorted ascending p_(1) <= ... <= p_(m): adjusted p_(i) = max_{j<=i} min(1, (m-j+1) p_(j)).
    Hand-written because statsmodels (multipletests) is not a dependency of this project.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    adj = np.minimum(1.0, (m - np.arange(m)) * q[order])
    adj = np.maximum.accumulate(adj)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


def compare_runs_table(user_metric_frames: dict[str, pd.Series], *, n_boot: int = 2000,
                       seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """``paired_test`` for every pair of runs (in the dict's order, a before b).

    user_metric_frames maps a run name to its per-user values of ONE metric at one K
    (Series indexed by user id). Returns one row per pair: run_a, run_b, then the keys of
    ``paired_test``, plus p_holm_t and p_holm_wilcoxon, Holm-adjusted over all pairs.
    """
    cols = ["run_a", "run_b", "n", "mean_a", "mean_b", "mean_diff", "ci_low", "ci_high",
            "p_value_t", "p_value_wilcoxon", "p_holm_t", "p_holm_wilcoxon",
            "wins", "ties", "losses"]
    rows = []
    for ra, rb in itertools.combinations(list(user_metric_frames), 2):
        res = paired_test(user_metric_frames[ra], user_metric_frames[rb], n_boot=n_boot,
                          seed=seed, confidence=confidence)
        rows.append({"run_a": str(ra), "run_b": str(rb), **res})
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    df = pd.DataFrame(rows)
    df["p_holm_t"] = holm(df["p_value_t"])
    df["p_holm_wilcoxon"] = holm(df["p_value_wilcoxon"])
    return df[cols]
