"""Health checks of one run: reasons not to believe its numbers.

Pure functions of what training produced (the lists, the metrics, the per-user metric,
the fit's own diagnostics); ``engine.services.health`` gathers the inputs and the store
keeps the result (``run_warnings``). A warning is a dict ``{code, message, value}``:
``message`` is one sentence with the number that triggered it and what to try, ``value``
that number.

The rules, at the evaluation cut-off ``K = 10`` (``HEALTH_K``):

- ``worse_than_popularity``: the run's per-user nDCG@10 is lower on average than that
  of the popularity baseline on the same split's test users, and a paired t-test
  (``scipy.stats.ttest_rel``) gives p < 0.05 (``WORSE_P``). Not checked on the
  popularity run itself, nor on ``random`` (the floor, worse by design).
- ``non_finite_scores``: some list score is NaN or infinite (the fit produced NaNs).
- ``near_zero_scores``: the median |score| over all list slots is below 1e-6
  (``NEAR_ZERO``): the ranking is decided by rounding noise.
- ``constant_scores``: more than half (``CONSTANT_SHARE``) of the lists with 2 or more
  items give every item the same score, so their order is arbitrary.
- ``concentrated``: the 10 most recommended items fill more than half
  (``CONCENTRATION``) of all top-10 slots.
- ``low_coverage``: the top-10 lists together use fewer than 1% (``LOW_COVERAGE``) of
  the items they could: of the training catalogue, or of the slots when there are
  fewer slots than items.
  These two are not checked on popularity (the same list for everyone by design).
- ``short_lists``: more than 10% (``SHORT_SHARE``) of the evaluated users got fewer
  than 10 items (an imported run's users without a list count as short).
- ``not_converged``: BPR ordered at most 55% (``MIN_TRAIN_AUC``) of its training pairs
  correctly in its last epoch (implicit's ``train_auc``; chance is 50%).
- ``few_test_users``: the split tests fewer than 100 users (``MIN_TEST_USERS``), too
  few for differences between runs to mean much.

Scores are only checked when the run has them (an imported run ordered by rank has
none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.stats

HEALTH_K = 10
WORSE_P = 0.05
NEAR_ZERO = 1e-6
CONSTANT_SHARE = 0.5
CONCENTRATION = 0.5
LOW_COVERAGE = 0.01
SHORT_SHARE = 0.10
MIN_TRAIN_AUC = 0.55
MIN_TEST_USERS = 100

#: Algorithms that are baselines: never compared against popularity.
BASELINES = ("popularity", "random")

#: What to try, per algorithm, when a run is weak (worse than popularity, collapsed
#: lists, tiny scores). Imported runs and unknown names get the generic advice.
_TRY = {
    "bpr": "raise bpr.learning_rate (e.g. 0.05) or bpr.iterations",
    "lmf": "lower lmf.learning_rate or raise lmf.iterations",
    "als": "raise als.iterations or als.alpha, or lower als.regularization",
    "ease": "lower ease.regularization",
    "itemknn": "raise itemknn.K",
    "bm25": "raise bm25.K",
}
_GENERIC = "check the lists' ids and order against the dataset"


def _try(algorithm: str) -> str:
    return _TRY.get(str(algorithm), _GENERIC)


def warning(code: str, message: str, value) -> dict:
    v = None if value is None else float(value)
    return {"code": code, "message": message, "value": v}


# --------------------------------------------------------------------------- the rules

def worse_than_popularity(algorithm: str, run: pd.Series, baseline: pd.Series | None,
                          p: float = WORSE_P) -> dict | None:
    """Per-user nDCG@10 of the run (``run``) against the popularity baseline, both
    Series indexed by user id, paired on the users both have."""
    if baseline is None or str(algorithm) in BASELINES:
        return None
    a, b = run.dropna().align(baseline.dropna(), join="inner")
    if len(a) < 2:
        return None
    diff = a.to_numpy(float) - b.to_numpy(float)
    if not diff.mean() < 0 or np.allclose(diff, diff[0]):
        return None
    pv = float(scipy.stats.ttest_rel(a.to_numpy(float), b.to_numpy(float)).pvalue)
    if not pv < p:
        return None
    return warning("worse_than_popularity",
                   f"Worse than popularity: nDCG@{HEALTH_K} {a.mean():.4f} against {b.mean():.4f} "
                   f"over {len(a):,} users (paired t-test p = {pv:.2g}); {_try(algorithm)}.", pv)


def score_checks(algorithm: str, recs: pd.DataFrame) -> list[dict]:
    """non_finite_scores, near_zero_scores and constant_scores of the lists."""
    if "score" not in recs.columns or recs.empty:
        return []
    s = pd.to_numeric(recs["score"], errors="coerce").to_numpy(float)
    if np.isnan(s).all():
        return []  # no scores (an imported run ordered by rank)
    out = []
    bad = ~np.isfinite(s)
    if bad.any():
        out.append(warning("non_finite_scores",
                           f"{bad.mean():.1%} of the list scores are NaN or infinite: the fit "
                           f"went wrong; {_try(algorithm)} or lower the learning rate.",
                           bad.mean()))
        s = s[~bad]
        if not s.size:
            return out
    med = float(np.median(np.abs(s)))
    if med < NEAR_ZERO:
        out.append(warning("near_zero_scores",
                           f"Near-zero scores: the median list score is {med:.2g}, so rounding "
                           f"noise decides the order; {_try(algorithm)}.", med))
    fin = recs.loc[np.isfinite(pd.to_numeric(recs["score"], errors="coerce").to_numpy(float))]
    g = fin.groupby("user_id", sort=False)["score"]
    size = g.size()
    spread = (g.max() - g.min())[size >= 2]
    if len(spread):
        scale = np.maximum(1.0, g.max().abs()[size >= 2])
        share = float((spread <= 1e-9 * scale).mean())
        if share > CONSTANT_SHARE:
            out.append(warning("constant_scores",
                               f"Constant scores: {share:.0%} of the lists give every item the same "
                               f"score, so their order is arbitrary; {_try(algorithm)}.", share))
    return out


def list_checks(algorithm: str, recs: pd.DataFrame, n_items: int, n_users: int,
                k: int = HEALTH_K) -> list[dict]:
    """concentrated, low_coverage and short_lists of the top-``k`` lists of ``n_users``
    evaluated users over a catalogue of ``n_items`` training items."""
    top = recs[recs["rank"] <= k]
    out = []
    n_users = int(n_users)
    if n_users > 0:
        lens = top.groupby("user_id").size()
        short = (n_users - int((lens >= k).sum())) / n_users
        if short > SHORT_SHARE:
            out.append(warning("short_lists",
                               f"{short:.0%} of the {n_users:,} evaluated users got fewer than {k} "
                               f"items, which lowers every metric at {k}; "
                               + ("raise the number of neighbours (K)" if algorithm in ("itemknn", "bm25")
                                  else _try(algorithm)) + ".", short))
    if top.empty or str(algorithm) == "popularity":
        return out
    counts = top["item_id"].value_counts()
    share = float(counts.iloc[:10].sum() / len(top))
    if share > CONCENTRATION:
        out.append(warning("concentrated",
                           f"Concentrated: the 10 most recommended items fill {share:.0%} of all "
                           f"top-{k} slots; {_try(algorithm)}.", share))
    reach = min(int(n_items), len(top)) if n_items else len(top)
    cov = len(counts) / reach if reach else 1.0
    if cov < LOW_COVERAGE:
        out.append(warning("low_coverage",
                           f"Collapsed coverage: the top-{k} lists use {len(counts):,} distinct items, "
                           f"{cov:.1%} of the {reach:,} they could; {_try(algorithm)}.", cov))
    return out


def fit_checks(algorithm: str, fit_info: dict | None) -> list[dict]:
    """not_converged, from what the fit reported (``model.fit_info``)."""
    auc = (fit_info or {}).get("train_auc")
    if auc is None or not np.isfinite(auc) or auc > MIN_TRAIN_AUC:
        return []
    return [warning("not_converged",
                    f"Did not converge: {algorithm} ordered only {auc:.1%} of its training pairs "
                    f"correctly in its last epoch (chance is 50%); {_try(algorithm)}.", auc)]


def split_checks(n_test_users: int) -> list[dict]:
    if int(n_test_users) >= MIN_TEST_USERS:
        return []
    return [warning("few_test_users",
                    f"Few test users: the split tests {int(n_test_users):,} users (fewer than "
                    f"{MIN_TEST_USERS}), so differences between runs are mostly noise; use more "
                    f"data or a larger --test-n/--test-fraction.", n_test_users)]


def check_run(algorithm: str, recs: pd.DataFrame, per_user: pd.DataFrame, *, n_items: int,
              n_test_users: int, baseline: pd.Series | None = None,
              fit_info: dict | None = None) -> list[dict]:
    """Every rule above on one run. ``recs``: its lists [user_id, rank, item_id, score]
    (the evaluated users' only); ``per_user``: its per-user metrics [user_id, metric, k,
    value]; ``n_items``: training items; ``n_test_users``: users evaluated;
    ``baseline``: popularity's per-user nDCG@10 on the same split (None skips the rule)."""
    out = []
    run_ndcg = user_series(per_user, "ndcg", HEALTH_K)
    w = worse_than_popularity(algorithm, run_ndcg, baseline)
    if w:
        out.append(w)
    out += fit_checks(algorithm, fit_info)
    out += score_checks(algorithm, recs)
    out += list_checks(algorithm, recs, n_items, n_test_users)
    out += split_checks(n_test_users)
    return out


def user_series(per_user: pd.DataFrame, metric: str, k: int) -> pd.Series:
    """One metric at one K from a per-user frame, as a Series indexed by user id."""
    sel = per_user[(per_user["metric"] == metric) & (per_user["k"].astype(int) == int(k))]
    return pd.Series(sel["value"].to_numpy(float), index=sel["user_id"].astype(object).to_numpy())


def popularity_user_metric(train: pd.DataFrame, test: pd.DataFrame, k: int = HEALTH_K) -> pd.Series:
    """The popularity baseline's per-user nDCG@k on a split, computed in-process exactly
    as a popularity run would be (the registry's model on the split's matrix), for when
    no popularity run exists on the split."""
    from engine.data.dataset import IdMap
    from engine.evaluate.metrics import accuracy_metrics
    from engine.recommend import registry
    from engine.recommend.matrix import build_matrix

    users = IdMap.from_values(set(train["user_id"]) | set(test["user_id"]), "user")
    items = IdMap.from_values(train["item_id"], "item")
    matrix = build_matrix(train, users, items)
    test_users = sorted(set(test["user_id"]))
    idx = users.positions(test_users)
    model = registry.make("popularity").fit(matrix)
    top, _ = model.recommend(idx, matrix, int(k))
    rows, cols = np.nonzero(top >= 0)
    recs = pd.DataFrame({"user_id": np.asarray(test_users, dtype=object)[rows],
                         "rank": cols + 1,
                         "item_id": np.asarray(items.ids, dtype=object)[top[rows, cols]]})
    return user_series(accuracy_metrics(recs, test, ks=(int(k),)), "ndcg", int(k))
