"""Pieces of the Runs page: the runs table, the trade-off chart, paired tests, per-user
distributions, slices, and training more runs with live progress.

URL parameters: dataset, k, metric (a per-user metric such as ndcg), runs (comma-
separated run ids for the analyses), x (the trade-off chart's other axis), view (the
analysis tab), slice (activity | coldwarm | popularity), cold (cold-user threshold),
dist (ecdf | box). A bad value in a link gets one warning and a sensible default.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from engine.errors import RecscopeError
from engine.evaluate.metrics import (
    ACCURACY,
    BEYOND,
    METRICS,
    definition,
    display_format,
)
from engine.evaluate.slices import COLD_MAX
from engine.pipeline import EVAL_KS, train_runs
from engine.recommend import registry
from engine.recommend.registry import RANGES
from engine.services import runs as RV
from engine.store.runs import list_runs, runs_with_metrics
from engine.validate import BOUNDS
from viewer import components, db, nav, runs_charts
from viewer.components import bound_select, run_label
from viewer.format import MISSING, cut, is_missing
from viewer.safe import md

K_MAX = BOUNDS["k"][1]  # the CLI's bound for --k (engine.validate)

DEFAULT_METRIC = "ndcg"
DEFAULT_K = 10
#: Most runs the analyses take at once (15 pairs of paired tests).
MAX_RUNS = 6
TABS = ["Is the difference real?", "Per-user distribution", "By slice"]
SLICES = {"activity": "User activity (train items, quartiles)",
          "coldwarm": "Cold and warm users",
          "popularity": "Item popularity decile"}
X_DEFAULT = "coverage"

# --------------------------------------------------------------------------- data

# one "changed params" for the page and `recscope runs` (engine.recommend.registry)
params_text = registry.params_text
changed_text = registry.changed_text


def compare_href(dataset: str, run_ids, k: int | None = None, user: str | None = None) -> str:
    q = {"dataset": dataset, "runs": ",".join(str(int(r)) for r in run_ids)}
    if k:
        q["k"] = int(k)
    if user:
        q["user"] = user
    return "compare?" + urlencode(q)


def all_runs(dataset: str) -> pd.DataFrame:
    return db.read(list_runs, dataset)


def metric_choices(dataset: str) -> tuple[list[int], list[str], list[str]]:
    """(ks, per-user metrics, catalogue metrics) that the dataset's runs have."""
    cat = db.read(RV.metric_catalogue, dataset)
    ks = sorted({int(k) for k in cat["k"]})
    have = set(cat["metric"])
    return (ks, [m for m in ACCURACY if m in have],
            [m for m in BEYOND if m in have] + sorted(have - set(ACCURACY) - set(BEYOND)))


def pick_metric_k(dataset: str) -> tuple[str, int, list[str], list[str]]:
    ks, per_user, catalogue = metric_choices(dataset)
    cols = st.columns([1, 1, 3])
    with cols[0]:
        metric = bound_select("Metric", per_user, "metric", DEFAULT_METRIC, "a per-user metric",
                              key="_runs_metric", help=METRICS.get(DEFAULT_METRIC))
    with cols[1]:
        k = bound_select("At K", ks, "k", DEFAULT_K if DEFAULT_K in ks else ks[0],
                         "a K the runs were evaluated at", key="_runs_k", cast=int,
                         help="Metrics are computed on each user's top-K list.")
    with cols[2]:
        st.caption(f"**{metric}**: {METRICS.get(metric, '')}")
    return metric, int(k), per_user, catalogue


# --------------------------------------------------------------------------- the runs table

#: Relevance types (engine.services.relevance): which held-out events count as hits.
RELEVANCE_LABELS = {"any": "any event", "apply": "applications", "hire": "hires"}


def pick_relevance(dataset: str, key: str = "_runs_relevance") -> str:
    """The "relevance" selector (URL ``relevance=``), shown when the dataset has
    applications or hires; "any" otherwise."""
    from engine.store.predictions import dataset_events

    have = set(db.read(dataset_events, dataset))
    options = ["any"] + [r for r in ("apply", "hire") if r in have]
    if len(options) == 1:
        return "any"
    return bound_select("Relevance", options, "relevance", "any", "a relevance type of this dataset",
                        key=key, format_func=RELEVANCE_LABELS.get, kind="segmented",
                        omit_default=True,
                        help="Which held-out events count as hits: any event, or only applications "
                             "(an application or a hire) or hires.")


def with_relevance(wide: pd.DataFrame, relevance: str, k: int) -> pd.DataFrame:
    """The runs table's accuracy columns at K recomputed against ``relevance`` only."""
    from engine.services import relevance as REL

    done = [int(r) for r in wide.loc[wide["status"] == "done", "run_id"]]
    rm = db.read(REL.run_metrics, done, relevance)
    rm = rm[(rm["k"] == int(k)) & rm["metric"].isin(ACCURACY)]
    out = wide.copy()
    for m, g in rm.groupby("metric"):
        out[f"{m}@{k}"] = out["run_id"].map(dict(zip(g["run_id"].astype(int), g["value"])))
    return out


def runs_table(dataset: str, runs: pd.DataFrame, metric: str, k: int, relevance: str = "any") -> None:
    """All runs with their parameters, split, timings and metrics at K; sortable."""
    wide = db.read(runs_with_metrics, dataset, ks=(int(k),))
    if relevance != "any":
        wide = with_relevance(wide, relevance, k)
    done = wide[wide["status"] == "done"].copy()
    if done.empty:
        st.info("No run has finished yet.", icon=":material/info:")
        return
    metric_cols = [c for c in wide.columns if c.endswith(f"@{k}")]
    order = [f"{m}@{k}" for m in ACCURACY + BEYOND if f"{m}@{k}" in metric_cols]
    order += [c for c in metric_cols if c not in order]
    best = None
    if f"{metric}@{k}" in done.columns and done[f"{metric}@{k}"].notna().any():
        best = int(done.loc[done[f"{metric}@{k}"].idxmax(), "run_id"])
        done = done.sort_values(f"{metric}@{k}", ascending=False)
    # long run names are cut (the whole name is in the run picker below and on hover of
    # the charts): a whole name made the pinned column take most of the table's width
    # (cut to the column's 270 px, about 7 px a half-width cell: a grid cell clips its
    # text without a mark)
    table = pd.DataFrame({"Run": [cut(run_label(r), 36) for _, r in done.iterrows()]})
    # Beside the run, not at the far right: runs on different splits are scored on
    # different test users and their metrics are not comparable.
    methods = db.read(RV.split_requests, dataset).set_index("split_id")["method"].to_dict()
    table["Split"] = [f"#{int(s)} {methods.get(int(s), '')}".rstrip() if pd.notna(s) else "—"
                      for s in done["split_id"]]
    # Beside the run too: two runs of one algorithm differ only here (the full list is
    # in Parameters, at the far right).
    table["Changed params"] = [changed_text(a, p) for a, p in zip(done["algorithm"], done["params"])]
    health = components.warnings_by_run(dataset)
    table["Health"] = [components.health_text(health.get(int(r))) for r in done["run_id"]]
    table["Compare"] = [compare_href(dataset, [r] + ([best] if best not in (None, r) else []), k)
                        for r in done["run_id"]]
    for c in order:
        table[c] = done[c].to_numpy()
    table["Users"] = done["n_users"].to_numpy()
    table["Fit s"] = done["fit_seconds"].to_numpy()
    table["Recommend s"] = done["recommend_seconds"].to_numpy()
    if (done["source"] != "trained").any():
        table["Source"] = done["source"].to_numpy()
    table["Parameters"] = [params_text(p) for p in done["params"]]
    config = {
        "Run": st.column_config.TextColumn(pinned=True, width=270,
                                           help="Run id and algorithm; runs never change."),
        "Split": st.column_config.TextColumn(width="small", help="The train/test split the run "
                                             "used; only runs on one split are compared user by user."),
        "Health": st.column_config.TextColumn(
            width="small", help=f"{components.WARN_ICON}: a reason not to believe this run's "
                                "numbers (worse than popularity, tiny or constant scores, a few "
                                "items everywhere, short lists, no convergence, few test users), "
                                "with what to try; the sentences are listed under the table. "
                                "Empty: no warning."),
        "Parameters": st.column_config.TextColumn(width="medium", help="Every effective parameter."),
        "Changed params": st.column_config.TextColumn(
            help="Parameters that differ from the algorithm's defaults; every parameter is in "
                 "the Parameters column at the far right."),
        "Users": st.column_config.NumberColumn(format="localized", help="Users evaluated (with test items)."),
        "Fit s": st.column_config.NumberColumn(format="%.2f", help="Training time in seconds."),
        "Recommend s": st.column_config.NumberColumn(format="%.2f", help="Time to score every "
                                                                         "evaluated user's top K."),
        "Compare": st.column_config.LinkColumn(
            display_text="open ↗", help="This run beside the best run by the chosen metric, "
                                        "user by user, on the Compare page."),
    }
    for c in order:
        m = c.split("@")[0]
        config[c] = st.column_config.NumberColumn(c, format=display_format(m), width="small",
                                                  help=definition(m) or m)
    st.dataframe(table, hide_index=True, width="stretch", column_config=config,
                 row_height=34, key="_runs_table")
    st.caption(f"Sorted by {metric}@{k}; click a column header to sort by it, hover a header "
               "for its definition. The table scrolls sideways to the timings and parameters; "
               "the Run column stays in view.")
    health_notes(done, health)
    n_splits = done["split_id"].nunique()
    if n_splits > 1:
        st.info(f"These runs were evaluated on {n_splits} different splits (see the Split "
                "column): each split tests other users and items, so compare metrics only "
                "between runs of one split.", icon=":material/call_split:")


def health_notes(done: pd.DataFrame, health: dict[int, list[str]]) -> None:
    """The health warnings of the listed runs, one line each, under the table."""
    lines = [f"- **{md(run_label(r))}**: {md(m, 400)}" for _, r in done.sort_values("run_id").iterrows()
             for m in health.get(int(r["run_id"]), [])]
    if lines:
        n = sum(1 for r in done["run_id"] if int(r) in health)
        st.warning(f"{n} run(s) have health warnings:\n" + "\n".join(lines),
                   icon=":material/warning:")


def problem_runs(runs: pd.DataFrame) -> None:
    failed = runs[runs["status"] == "failed"]
    running = runs[runs["status"] == "running"]
    if len(failed):
        lines = [f"- **{md(run_label(r))}** — {md(r['error'] or 'no reason recorded', 300)}"
                 for _, r in failed.iterrows()]
        st.warning(f"{len(failed)} run(s) failed:\n" + "\n".join(lines), icon=":material/error:")
    if len(running):
        st.info("Still running (or interrupted before they could record a reason): "
                + ", ".join(md(run_label(r)) for _, r in running.iterrows()), icon=":material/hourglass:")


# --------------------------------------------------------------------------- trade-off

def tradeoff(dataset: str, runs: pd.DataFrame, metric: str, k: int, catalogue: list[str]) -> None:
    if not catalogue:
        return
    labels = {int(r["run_id"]): run_label(r) for _, r in runs.iterrows()}
    cols = st.columns([1, 3])
    with cols[0]:
        x = bound_select("Against", catalogue, "x", X_DEFAULT if X_DEFAULT in catalogue else catalogue[0],
                         "a catalogue metric", key="_runs_x",
                         help="Accuracy rarely comes free: most gains cost coverage or novelty.")
        st.caption(f"**{x}**: {METRICS.get(x, '')}")
    wide = db.read(runs_with_metrics, dataset, ks=(int(k),))
    wide = wide[wide["status"] == "done"]
    xc, yc = f"{x}@{k}", f"{metric}@{k}"
    with cols[1]:
        if xc not in wide.columns or yc not in wide.columns:
            st.info(f"No run has both {xc} and {yc}.", icon=":material/info:")
            return
        # kept per store version: a rerun (any click on the page) reuses the figure
        fig = db.figure("runs.tradeoff", (dataset, xc, yc), runs_charts.tradeoff_chart,
                        wide[["run_id", xc, yc]], xc, yc, labels, f"{x}@{k}", f"{metric}@{k}")
        st.plotly_chart(fig, width="stretch", key="_runs_tradeoff")


# --------------------------------------------------------------------------- runs for analyses

def pick_runs(dataset: str, runs: pd.DataFrame, metric: str, k: int) -> list[int]:
    """The runs to analyse (``components.pick_runs``; by default the best by metric@k)."""
    return components.pick_runs(
        dataset, runs, max_runs=MAX_RUNS, key="_runs_pick",
        default=lambda: default_runs(dataset, runs[runs["status"] == "done"], metric, k),
        label=f"Runs to analyse (up to {MAX_RUNS})",
        help="Paired tests, distributions and slices below use these runs.")


def default_runs(dataset: str, done: pd.DataFrame, metric: str, k: int) -> list[int]:
    """The best runs by ``metric@k`` on the split with most runs (at most MAX_RUNS)."""
    if done.empty:
        return []
    split = done["split_id"].value_counts(dropna=False).index[0]
    same = done[done["split_id"] == split] if pd.notna(split) else done
    wide = db.read(runs_with_metrics, dataset, ks=(int(k),))
    col = f"{metric}@{k}"
    if col in wide.columns:
        score = wide.set_index("run_id")[col]
        same = same.assign(_s=same["run_id"].map(score)).sort_values("_s", ascending=False)
    return [int(r) for r in same["run_id"].head(MAX_RUNS)]


# --------------------------------------------------------------------------- analyses

def _fmt_p(p) -> str:
    if is_missing(p):
        return MISSING
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"


#: The level every verdict (and colour) of the paired table is taken at.
ALPHA = 0.05
#: The Verdict's marks (plain text symbols: the grid draws no emoji in every browser).
CLEAR, UNCLEAR, DAGGER = "●", "○", "†"


def _verdict(p_used, diff, lo, hi) -> str:
    """The Verdict cell: "● B better" when the p-value the colour follows (Holm-adjusted
    with several pairs, raw with one) is below ALPHA; otherwise "○ not clear", with a
    dagger when the unadjusted interval alone excludes 0 (the caption explains it), so
    the interval beside it never reads as a contradiction."""
    if is_missing(p_used):
        return f"{MISSING} no test"
    if p_used < ALPHA:
        return f"{CLEAR} {'B' if diff > 0 else 'A'} better"
    if not is_missing(lo) and (lo > 0 or hi < 0):
        return f"{UNCLEAR} not clear {DAGGER}"
    return f"{UNCLEAR} not clear"


def paired_display(tab: pd.DataFrame, labels: dict, label_len: int = 16) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paired-tests tables as shown: (main, details). The main table has the Verdict
    (and the colour), which follows the Holm-adjusted t-test p-value when there are
    several pairs (the raw one for a single pair), the bootstrap interval labelled
    unadjusted, and raw and Holm-adjusted t-test p-values side by side. The details
    table has the means and the Wilcoxon p-values (raw and adjusted). ``tab``:
    ``paired_tests`` rows in display order."""
    several = len(tab) > 1
    p_used = tab["p_holm"] if several else tab["p_value_t"]
    a = [cut(labels[r], label_len) for r in tab["run_a"]]
    b = [cut(labels[r], label_len) for r in tab["run_b"]]
    main = pd.DataFrame({
        "A": a, "B": b, "Users": tab["n"].astype(int),
        "B − A": tab["mean_diff"],
        "Verdict": [_verdict(p, d, lo, hi) for p, d, lo, hi in
                    zip(p_used, tab["mean_diff"], tab["ci_low"], tab["ci_high"])],
        "95% interval (unadjusted)": [MISSING if is_missing(lo) else f"[{lo:+.4f}, {hi:+.4f}]"
                                      for lo, hi in zip(tab["ci_low"], tab["ci_high"])],
        "p (t-test)": [_fmt_p(p) for p in tab["p_value_t"]],
    })
    if several:
        main["p Holm (t)"] = [_fmt_p(p) for p in tab["p_holm"]]
    main["B better / tie / A better"] = [f"{int(w):,} / {int(t):,} / {int(l):,}"
                                         for w, t, l in zip(tab["wins"], tab["ties"], tab["losses"])]
    details = pd.DataFrame({"A": a, "B": b, "mean A": tab["mean_a"], "mean B": tab["mean_b"],
                            "p (Wilcoxon)": [_fmt_p(p) for p in tab["p_value_wilcoxon"]]})
    if several:
        details["p Holm (Wilcoxon)"] = [_fmt_p(p) for p in tab["p_holm_wilcoxon"]]
    return main, details


def paired_tab(dataset: str, run_ids: list[int], labels: dict, metric: str, k: int) -> None:
    st.markdown(f"Each pair is tested on the users both runs evaluated, on **{metric}@{k}** "
                "per user; in each pair B is the run with the higher mean, so **B − A** says by "
                "how much it wins on average.")
    if len(run_ids) < 2:
        st.info("Pick at least two runs above.", icon=":material/info:")
        return
    with st.spinner("Testing pairs…"):
        # weakest first, so that in every pair B (the later run) has the higher mean
        summ = db.read(RV.user_value_summary, tuple(run_ids), metric, int(k))
        means = dict(zip(summ["run_id"].astype(int), summ["mean"]))
        ordered = sorted(run_ids, key=lambda r: (means.get(r, float("-inf")), r))
        tab = db.read(RV.paired_tests, tuple(ordered), metric, int(k))
    skipped = tab.attrs.get("skipped") or []
    if skipped:
        st.caption("Not paired (different splits, so different test items): "
                   + ", ".join(f"{md(labels.get(a, a))} / {md(labels.get(b, b))}"
                               for a, b in skipped))
    if tab.empty:
        st.info("No two of these runs share a split.", icon=":material/info:")
        return
    several = len(tab) > 1
    tab = tab.sort_values(["mean_b", "mean_a"], ascending=False).reset_index(drop=True)
    follows = "Holm-adjusted t-test p-value" if several else "t-test p-value"
    if several:
        st.caption(f"**Verdict and colour follow the {follows}**: {CLEAR} clear (below "
                   f"{ALPHA:g}), {UNCLEAR} not clear. Holm's correction over the {len(tab)} pairs "
                   "keeps the chance of any false alarm at 5%. The 95% interval is a bootstrap "
                   f"interval of each pair on its own, **unadjusted**; {DAGGER}: that interval "
                   "alone excludes 0, but after correcting for the number of pairs the "
                   "difference is not clear. Raw and Holm-adjusted p-values stand side by side.")
    else:
        st.caption(f"**Verdict and colour follow the {follows}**: {CLEAR} clear (below "
                   f"{ALPHA:g}), {UNCLEAR} not clear; with one pair nothing needs adjusting. The "
                   f"95% interval is a bootstrap interval of the mean difference; {DAGGER}: it "
                   "excludes 0 while the t-test p-value is not below "
                   f"{ALPHA:g} (the two methods disagree at the margin).")
    main, details = paired_display(tab, labels)
    name = {"A": st.column_config.TextColumn(width=130, help="The run with the lower mean."),
            "B": st.column_config.TextColumn(width=130, help="The run with the higher mean.")}
    cfg = {**name,
           "Users": st.column_config.NumberColumn(width=55, help="Users both runs evaluated."),
           "B − A": st.column_config.NumberColumn(format="%+.4f", width=75,
                                                 help="Mean over users of B minus A."),
           "Verdict": st.column_config.TextColumn(width=100, help=f"Follows the {follows}: "
                                                  f"{CLEAR} below {ALPHA:g}."),
           "95% interval (unadjusted)": st.column_config.TextColumn(
               width=150, help="Bootstrap 95% interval of B − A for this pair alone, not "
                               "adjusted for the number of pairs."),
           "p (t-test)": st.column_config.TextColumn(width=75, help="Paired t-test on the "
                                                     "per-user differences, unadjusted."),
           "B better / tie / A better": st.column_config.TextColumn(
               width=130, help="Users for whom B scores higher / the same / lower. With "
                               "leave-one-out splits most users tie at 0.")}
    if several:
        cfg["p Holm (t)"] = st.column_config.TextColumn(
            width=75, help="t-test p-value after Holm's correction over all pairs shown.")
    st.dataframe(main, hide_index=True, width="stretch", column_config=cfg, key="_runs_paired")
    clear = [not is_missing(p) and p < ALPHA for p in (tab["p_holm"] if several else tab["p_value_t"])]
    st.plotly_chart(db.figure("runs.paired", (dataset, tuple(run_ids), metric, k, tuple(clear)),
                              runs_charts.paired_chart, tab, labels,
                              f"{metric}@{k}: mean difference (B − A)", clear),
                    width="stretch", key="_runs_forest")
    st.caption("Diamonds: filled in B's colour where the difference is clear (as in the "
               "Verdict), hollow grey where it is not; whiskers: the unadjusted 95% interval.")
    with st.expander("Means and Wilcoxon signed-rank tests"):
        dcfg = {**name, "mean A": st.column_config.NumberColumn(format="%.4f"),
                "mean B": st.column_config.NumberColumn(format="%.4f"),
                "p (Wilcoxon)": st.column_config.TextColumn(
                    help="Wilcoxon signed-rank test (ignores ties), unadjusted.")}
        if several:
            dcfg["p Holm (Wilcoxon)"] = st.column_config.TextColumn(
                help="Wilcoxon p-value after Holm's correction over all pairs shown.")
        st.dataframe(details, hide_index=True, width="stretch", column_config=dcfg,
                     key="_runs_paired_more")


def distribution_tab(run_ids: list[int], labels: dict, metric: str, k: int) -> None:
    if not run_ids:
        st.info("Pick runs above.", icon=":material/info:")
        return
    kind = bound_select("Show", ["ecdf", "box"], "dist", "ecdf", "a chart kind", key="_runs_dist",
                        format_func={"ecdf": "Cumulative share of users (ECDF)",
                                     "box": "Box plot"}.get, kind="radio")
    vals = db.read(RV.user_values, tuple(run_ids), metric, int(k))
    if vals.empty:
        st.info(f"These runs stored no per-user {metric}@{k}.", icon=":material/info:")
        return
    summ = db.read(RV.user_value_summary, tuple(run_ids), metric, int(k))
    st.dataframe(pd.DataFrame({
        "Run": [labels.get(int(r), r) for r in summ["run_id"]],
        "Users": summ["n_users"].astype(int),
        f"share with {metric} = 0": summ["share_zero"] * 100, "mean": summ["mean"],
        "median": summ["median"], "90th percentile": summ["p90"]}),
        hide_index=True, width="content", key="_runs_dist_table",
        column_config={f"share with {metric} = 0": st.column_config.NumberColumn(
                           format="%.1f%%", help=f"Users whose {metric}@{k} is 0 (typically: "
                                                  f"no hit in their top {k})."),
                       "mean": st.column_config.NumberColumn(format="%.4f"),
                       "median": st.column_config.NumberColumn(format="%.4f"),
                       "90th percentile": st.column_config.NumberColumn(format="%.4f")})
    if kind == "ecdf":
        st.caption("A curve further right and lower is better. It starts at the share of users "
                   f"with the lowest {metric} (usually 0: no hit in the top {k}); the vertical "
                   "axis starts just below the lowest curve.")
        fig = runs_charts.ecdf_chart(vals, labels, f"{metric}@{k} per user")
    else:
        st.caption("The box spans the middle half of users, the dashed line is the mean.")
        fig = runs_charts.box_chart(vals, labels, f"{metric}@{k} per user")
    st.plotly_chart(fig, width="stretch", key="_runs_dist_chart")


def slice_tab(dataset: str, run_ids: list[int], labels: dict, metric: str, k: int,
              runs: pd.DataFrame) -> None:
    if not run_ids:
        st.info("Pick runs above.", icon=":material/info:")
        return
    by = bound_select("Slice by", list(SLICES), "slice", "activity", "a slice", key="_runs_slice",
                      format_func=SLICES.get, kind="radio")
    if by == "popularity":
        popularity_slice(run_ids, labels, k, runs)
        return
    cold = COLD_MAX
    if by == "coldwarm":
        with st.columns([1, 3])[0]:
            cold = int(bound_select("Cold means at most this many train items", list(range(1, 51)),
                                    "cold", COLD_MAX, "a whole number from 1 to 50",
                                    key="_runs_cold", cast=int))
    summary = db.read(RV.metrics_by_slice, tuple(run_ids), metric, int(k), by=by, cold_max=cold)
    if summary.empty:
        st.info(f"These runs stored no per-user {metric}@{k}.", icon=":material/info:")
        return
    if by == "activity":
        st.caption("Users grouped by how many distinct items they have in the training data, "
                   "at the quartiles of that count (tied counts stay together). Bars: mean "
                   f"{metric}@{k}; whiskers: 95% t interval.")
    else:
        st.caption(f"Cold users have at most {cold} distinct items in the training data. Bars: "
                   f"mean {metric}@{k}; whiskers: 95% t interval.")
    st.plotly_chart(runs_charts.slice_chart(summary, labels, f"mean {metric}@{k}",
                                            "train items per user"),
                    width="stretch", key="_runs_slice_chart")
    counts = summary.drop_duplicates("slice")[["slice", "n_users"]]
    st.caption("Users per slice: " + " · ".join(f"{s}: {int(n):,}" for s, n in
                                                  zip(counts["slice"].astype(str), counts["n_users"])))


def popularity_slice(run_ids: list[int], labels: dict, k: int, runs: pd.DataFrame) -> None:
    dec = db.read(RV.popularity_deciles, tuple(run_ids), int(k))
    if dec.empty:
        st.info("No recommendations to place.", icon=":material/info:")
        return
    splits = runs.set_index("run_id").loc[run_ids, "split_id"].dropna().unique()
    ref = db.read(RV.test_popularity_deciles, int(splits[0])) if len(splits) == 1 else None
    st.caption("The catalogue cut into ten equal parts by how many training users each item "
               "has (D1 least popular, D10 most). The dashed line is where the held-out items "
               "fall: a run that follows it recommends popular items as often as users pick them.")
    c1, c2 = st.columns(2)
    with c1:
        st.plotly_chart(runs_charts.decile_chart(dec, labels, "share_slots", ref,
                                                 f"Where the top-{k} slots go"),
                        width="stretch", key="_runs_dec_slots")
    with c2:
        st.plotly_chart(runs_charts.decile_chart(dec, labels, "share_hits", ref,
                                                 "Where the hits are"),
                        width="stretch", key="_runs_dec_hits")


# --------------------------------------------------------------------------- training

def _split_label(row) -> str:
    req = row["request"] or {}
    bits = [f"split #{int(row['split_id'])}", str(row["method"])]
    if req.get("min_weight") is not None:
        bits.append(f"weight ≥ {req['min_weight']:g}")
    bits.append(f"{int(row['n_test_users']):,} test users")
    bits.append(f"{int(row['n_runs'])} run(s)")
    return " · ".join(bits)


#: Most rows one algorithm takes in the panel (each extra row is one more run).
MAX_ROWS = 4


def _step(default) -> float:
    """A float input's step: a power of ten a little below the default (0.05 -> 0.01)."""
    return 10.0 ** math.floor(math.log10(default)) if default > 0 else 0.01


def param_input(algo: str, name: str, default, key: str, label_visibility: str = "visible"):
    """One parameter as a number input pre-filled with ``default``; bounds from RANGES
    (an exclusive lower bound such as alpha > 0 is left to ``make`` to name)."""
    low, high, _ = RANGES.get(name, (None, None, True))
    high = BOUNDS.get(f"param.{name}", (None, high))[1]  # engine.validate's upper bound
    if isinstance(default, int) and not isinstance(default, bool):
        return st.number_input(name, value=int(default), step=1, key=key,
                               label_visibility=label_visibility,
                               min_value=None if low is None else int(low),
                               max_value=None if high is None else int(high))
    return st.number_input(name, value=float(default), step=_step(float(default)), format="%g",
                           key=key, label_visibility=label_visibility,
                           min_value=None if low is None else float(low),
                           max_value=None if high is None else float(high))


def changed_params(values: dict, defaults: dict) -> dict:
    """Only the values that differ from the defaults (ints stay ints)."""
    out = {}
    for name, value in values.items():
        if value is None or value == defaults.get(name):
            continue
        out[name] = int(value) if isinstance(defaults.get(name), int) else float(value)
    return out


def training_rounds(rows: list[tuple[str, dict]]) -> list[tuple[list[str], dict]]:
    """Group (algorithm, params) rows into ``train_runs`` calls: ``params`` is keyed by
    algorithm, so a call holds each algorithm once; its second row goes to the next call."""
    rounds: list[tuple[list[str], dict]] = []
    for algo, params in rows:
        for names, by_algo in rounds:
            if algo not in names:
                break
        else:
            names, by_algo = [], {}
            rounds.append((names, by_algo))
        names.append(algo)
        if params:
            by_algo[algo] = params
    return rounds


def _rows_of(algo: str) -> int:
    return int(st.session_state.get(f"_runs_rows_{algo}", 1))


def _set_rows(algo: str, n: int) -> None:
    st.session_state[f"_runs_rows_{algo}"] = max(1, min(MAX_ROWS, n))


def train_panel(dataset: str) -> None:
    """Choose algorithms and their parameters (defaults pre-filled) and a split; train
    with live progress."""
    last = st.session_state.pop("_runs_trained", None)
    if last:
        ok = [r for r in last if r["status"] == "done"]
        bad = [r for r in last if r["status"] != "done"]
        if ok:
            st.success("Trained " + ", ".join(f"#{r['run_id']} {md(r['algorithm'])}" for r in ok)
                       + ": they are in the table above.", icon=":material/check_circle:")
        for r in bad:
            st.error(f"#{r['run_id']} {md(r['algorithm'])} failed: {md(r['error'], 300)}", icon=":material/error:")
    with st.expander("Train more algorithms", icon=":material/model_training:",
                     expanded=bool(last)):
        _train_form(dataset)


@st.fragment
def _train_form(dataset: str) -> None:
    # A fragment: editing a parameter or adding a row reruns this panel only, not the
    # whole page with its charts and tests.
    algos = st.multiselect("Algorithms", registry.available(), key="_runs_train_algos",
                           help="Each row becomes one new run; change a parameter to try "
                                "another value, add a row to try two values side by side.")
    rows: list[tuple[str, dict]] = []
    # one grid for every algorithm, so that inputs line up and keep one width
    width = max(len(s.defaults) for s in registry.ALGORITHMS.values()) + 1
    for algo in algos:
        spec = registry.ALGORITHMS[algo]
        n = _rows_of(algo)
        st.markdown(f"**{algo}**")
        st.caption(spec.description)
        if not spec.defaults:
            st.caption("No parameters" + (" (the seed below changes its result)." if spec.seeded
                                          else "."))
            rows.append((algo, {}))
            continue
        for i in range(n):
            cols = st.columns(width, vertical_alignment="bottom")
            values = {}
            for col, (name, default) in zip(cols, spec.defaults.items()):
                with col:
                    values[name] = param_input(algo, name, default, f"_runs_p_{algo}_{i}_{name}",
                                               "visible" if i == 0 else "collapsed")
            with cols[len(spec.defaults)]:
                if i == n - 1 and i > 0:
                    st.button("", icon=":material/close:", key=f"_runs_less_{algo}",
                              help="Remove this row.", on_click=_set_rows, args=(algo, n - 1))
            rows.append((algo, changed_params(values, spec.defaults)))
        if n < MAX_ROWS:
            st.button(f"another {algo}", icon=":material/add:", type="tertiary",
                      key=f"_runs_more_{algo}", on_click=_set_rows, args=(algo, n + 1),
                      help="One more run of this algorithm with other parameter values.")

    splits = db.read(RV.split_requests, dataset)
    splits = splits[[r is not None for r in splits["request"]]].reset_index(drop=True)
    options = list(range(len(splits))) + [-1]
    fmt = {i: _split_label(splits.iloc[i]) for i in range(len(splits))}
    fmt[-1] = "a new split (auto)"
    cols = st.columns([4, 1.3, 2.6], vertical_alignment="bottom")
    with cols[0]:
        choice = st.selectbox("On", options, format_func=fmt.get, key="_runs_train_split",
                              help="Train on an existing split so the new runs can be "
                                   "compared user by user with the old ones.")
    with cols[1]:
        k = st.number_input("Longest list (K)", min_value=1, max_value=K_MAX, value=20, step=1,
                            key="_runs_train_k",
                            help="Each run stores its top-K list per test user and is "
                                 f"evaluated at {', '.join(map(str, EVAL_KS))} and this K.")
    kwargs: dict = {"k": int(k)}
    if choice == -1:
        seed_col, weight_col = cols[2].columns(2)
        with seed_col:
            seed = st.number_input("Seed", min_value=0, value=0, step=1, key="_runs_train_seed",
                                   help="Seeds the split and the seeded algorithms.")
        with weight_col:
            min_weight = st.number_input("Min weight", value=None, min_value=0.0, step=1.0,
                                         format="%g", key="_runs_train_min_weight",
                                         placeholder="all",
                                         help="Keep only interactions with at least this "
                                              "weight; empty keeps all.")
        kwargs.update(seed=int(seed), min_weight=None if min_weight is None else float(min_weight))
    else:
        row = splits.iloc[choice]
        req = row["request"]
        kwargs.update(split=req.get("method", "auto"), split_params=req.get("params") or None,
                      seed=int(req.get("seed") or 0), min_weight=req.get("min_weight"),
                      event_weights=row["event_weights"])
        with cols[2]:
            model_seed = st.number_input(
                "Model seed", min_value=0, value=int(kwargs["seed"]), step=1,
                key="_runs_train_model_seed",
                help="Random start of the seeded algorithms (als, bpr, lmf, random). The "
                     "split keeps its own seed, so runs that differ only here show how much "
                     "a metric moves by chance.")
        kwargs["model_seed"] = int(model_seed)
        st.caption(f"Split seed {kwargs['seed']} and weight filter: the split's own, so the "
                   "new runs test the same users as the old.")
    go = st.button("Train", type="primary", icon=":material/play_arrow:", key="_runs_train_go")
    if go:
        if not rows:
            st.warning("Choose at least one algorithm.", icon=":material/warning:")
            return
        run_training(dataset, rows, kwargs)


def run_training(dataset: str, rows: list[tuple[str, dict]], kwargs: dict) -> None:
    """Train ``rows`` of (algorithm, non-default params): one ``train_runs`` call per
    round (see training_rounds), every row validated before anything is trained."""
    try:
        for algo, params in rows:
            registry.make(algo, seed=int(kwargs.get("seed", 0)), **params)
    except RecscopeError as exc:
        st.error(md(exc, 300), icon=":material/error:")
        return
    algos = [a for a, _ in rows]
    results: list[dict] = []
    with st.status(f"Training {', '.join(algos)} on {md(dataset)}…", expanded=True) as status:
        bar = st.progress(0.0, text="starting")

        def progress(stage: str, done: int, total: int) -> None:
            frac = min(1.0, done / total) if total else 0.0
            bar.progress(frac, text=f"{stage}: {done:,}/{total:,}" if total else f"{stage}…")

        try:
            for names, params in training_rounds(rows):
                results += train_runs(db.get_store(), dataset, names, params=params or None,
                                      progress=progress, **kwargs)
        except RecscopeError as exc:
            status.update(label="Training did not start" if not results else
                          f"Training stopped after {len(results)} run(s)", state="error")
            st.error(md(exc, 300), icon=":material/error:")
            if not results:
                return
        n_ok = sum(r["status"] == "done" for r in results)
        status.update(label=f"Trained {n_ok} of {len(rows)} run(s)",
                      state="complete" if n_ok == len(rows) else "error")
    db.invalidate()
    st.session_state["_runs_trained"] = results
    st.rerun()


def compare_link(dataset: str, run_ids: list[int], k: int) -> None:
    if len(run_ids) >= 1 and nav.has_page("compare"):
        st.page_link(nav.page("compare"), label="Compare these runs user by user",
                     icon=":material/compare_arrows:",
                     query_params={"dataset": dataset,
                                   "runs": ",".join(str(r) for r in run_ids[:4]), "k": str(k)})
