"""The Runs page's Tuning and Cross-validation views (a view switch at the page's top).

Tuning: the dataset's studies; the chosen study's optimisation history, the metric
against each parameter (coloured by a second parameter, log axes where the space is
log), parallel coordinates, Optuna's parameter importance, the Pareto front of a
two-objective study, every trial with its parameters, and the final run's link to
Compare; a form starts a study with live progress (one line per trial).
Cross-validation: per algorithm and fold group, the mean over folds with a 95% t
interval and each fold as a dot; a paired test of two algorithms pairs per-user values
by (fold, user).

URL parameters: mode (runs | cross-validation | tuning), study, param, colour.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from engine.errors import RecscopeError
from engine.evaluate.metrics import ACCURACY, METRICS
from engine.recommend import registry
from engine.services import tuning as TS
from engine.store import Store
from viewer import db, nav, tuning_charts as C
from viewer.components import bound_select
from viewer.format import MISSING
from viewer.safe import code, md

MODES = ["runs", "cross-validation", "tuning"]
DASH = MISSING


def page_mode() -> str:
    return bound_select("View", MODES, "mode", "runs", key="runs_mode", kind="segmented",
                        format_func=lambda m: m.capitalize(), omit_default=True,
                        label_visibility="collapsed")


def _fmt(v, spec=".4f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return DASH
    return format(v, spec) if isinstance(v, float) else str(v)


def _study_label(row) -> str:
    return (f"#{int(row['study_id'])} {row['algorithm']} · {', '.join(row['objectives'])} · "
            f"{int(row['n_trials'])} trials · {row['status']}")


# --------------------------------------------------------------------------- tuning

def tuning_view(dataset: str) -> None:
    studies = db.read(TS.studies, dataset)
    start_panel(dataset)
    if studies.empty:
        st.info(f"No tuning study of “{md(dataset)}” yet. Start one above, or in a terminal: "
                f"{code(f'recscope tune --dataset {dataset} --algo bpr --trials 30', None)}.",
                icon=":material/info:")
        return
    labels = {int(r["study_id"]): _study_label(r) for _, r in studies.iterrows()}
    study_id = bound_select("Study", list(labels), "study", list(labels)[0], "study", key="study",
                            cast=int, format_func=lambda s: labels.get(s, f"#{s}"))
    row = studies[studies["study_id"] == study_id].iloc[0]
    trials = db.read(TS.study_trials, study_id)
    objectives = list(row["objectives"])
    maximize = row["directions"][0] == "maximize"
    space = row["space"] or {}
    done = trials[trials["state"] == "COMPLETE"] if not trials.empty else trials
    final = row["run_id"]
    cols = st.columns(4)
    cols[0].metric("Trials", f"{len(trials):,}")
    cols[1].metric("Pruned", f"{int((trials['state'] == 'PRUNED').sum()) if len(trials) else 0:,}")
    best = (done["value"].max() if maximize else done["value"].min()) if len(done) else None
    cols[2].metric(f"Best {objectives[0]} (validation)", _fmt(best))
    cols[3].metric("Final run", DASH if pd.isna(final) else f"#{int(final)}")
    if not pd.isna(final) and nav.has_page("compare"):
        st.page_link(nav.page("compare"), label=f"Open the final run #{int(final)} in Compare",
                     icon=":material/compare_arrows:",
                     query_params={"dataset": dataset, "runs": str(int(final))})
    if done.empty:
        st.info("No trial of this study has finished yet.", icon=":material/info:")
        return
    st.plotly_chart(C.history_chart(trials, objectives[0], maximize), key="tune_history")
    params = [p for p in space if f"p_{p}" in trials]
    if params:
        c1, c2 = st.columns(2)
        param = bound_select("Parameter", params, "param", params[0], "parameter", key="tune_param",
                             where=c1)
        others = [DASH] + [p for p in params if p != param]
        colour = bound_select("Colour by", others, "colour", others[min(1, len(others) - 1)],
                              "parameter", key="tune_colour", where=c2)
        st.plotly_chart(C.param_scatter(trials, param, objectives[0],
                                        None if colour == DASH else colour,
                                        log_x=bool(space[param].get("log"))), key="tune_scatter")
        if len(params) > 1:
            st.plotly_chart(C.parallel_chart(trials, params, objectives[0],
                                             tuple(p for p in params if space[p].get("log"))),
                            key="tune_parallel")
        importance = db.read(TS.param_importance, study_id)
        if importance:
            st.plotly_chart(C.importance_chart(importance), key="tune_importance")
            st.caption("Optuna's own estimate (fANOVA over the complete trials): the share of "
                       "the validation value's variance each parameter explains.")
    if len(objectives) == 2:
        st.plotly_chart(C.pareto_chart(trials, objectives, pareto_numbers(trials, row["directions"])),
                        key="tune_pareto")
    trials_table(trials, objectives, params)


def pareto_numbers(trials: pd.DataFrame, directions: list[str]) -> list[int]:
    """Numbers of the complete trials no other trial beats on both objectives."""
    done = trials[trials["state"] == "COMPLETE"]
    signs = [1 if d == "maximize" else -1 for d in directions]
    pts = [(int(n), a * signs[0], b * signs[1]) for n, a, b in zip(done["number"], done["v0"], done["v1"])]
    return [n for n, a, b in pts
            if not any((x >= a and y >= b) and (x > a or y > b) for _, x, y in pts)]


def trials_table(trials: pd.DataFrame, objectives: list[str], params: list[str]) -> None:
    st.subheader("Trials")
    show = pd.DataFrame({"trial": trials["number"], "state": trials["state"].str.lower()})
    for i, o in enumerate(objectives):
        if f"v{i}" in trials:
            show[o] = [_fmt(v) for v in trials[f"v{i}"]]
    for p in params:
        show[p] = [_fmt(v, ".4g") for v in trials[f"p_{p}"]]
    show["seconds"] = [_fmt(v, ".1f") for v in trials["seconds"]]
    st.dataframe(show, hide_index=True, key="tune_trials")


def start_panel(dataset: str) -> None:
    tunable = [a for a in registry.available() if registry.spec(a).space]
    with st.expander("Start a tuning study", icon=":material/tune:"):
        with st.form("tune_form"):
            c = st.columns(4)
            algo = c[0].selectbox("Algorithm", tunable, index=tunable.index("bpr"))
            n = c[1].number_input("Trials", min_value=1, max_value=500, value=20, step=1)
            metric = c[2].selectbox("Metric", list(ACCURACY), index=list(ACCURACY).index("ndcg"))
            k = c[3].number_input("K", min_value=1, max_value=100, value=10, step=1)
            go = st.form_submit_button("Start", icon=":material/play_arrow:")
        if go:
            run_study(dataset, algo, int(n), metric, int(k))


def run_study(dataset: str, algo: str, n: int, metric: str, k: int) -> None:
    store: Store = db.get_store()
    try:
        plan = TS.plan_study(store, dataset=dataset, algo=algo, metric=metric, k=k, trials=n)
    except RecscopeError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    with st.status(f"Tuning {algo} on {dataset}…", expanded=True) as status:
        bar = st.progress(0.0, text="preparing")

        def on_trial(info: dict) -> None:
            shown = DASH if not info["values"] else _fmt(info["values"][0])
            bar.progress(min(1.0, (info["number"] + 1) / max(n, 1)),
                         text=f"trial {info['number']}: {shown} · best {_fmt(info['best'])}")
            st.write(f"trial {info['number']} ({info['state'].lower()}): {metric}@{k} {shown}, "
                     f"best so far {_fmt(info['best'])}")

        try:
            out = TS.tune(store, plan, trials=n, neighbours=0, on_trial=on_trial)
        except RecscopeError as exc:
            status.update(label="Tuning stopped", state="error")
            st.error(str(exc), icon=":material/error:")
            return
        status.update(label=f"Study #{out['study_id']}: {out['n_trials']} trials, final run "
                            f"#{out['run_id']}", state="complete")
    db.invalidate()
    st.session_state["study"] = out["study_id"]


# --------------------------------------------------------------------------- folds

def folds_view(dataset: str) -> None:
    c1, c2 = st.columns(2)
    metric = bound_select("Metric", list(METRICS), "metric", "ndcg", "metric", key="cv_metric",
                          where=c1)
    k = bound_select("K", [5, 10, 20], "k", 10, "K", key="cv_k", cast=int, where=c2)
    values, summary = db.read(TS.fold_results, dataset, metric, k)
    if summary.empty:
        st.info(f"No cross-validated runs of “{md(dataset)}” yet: "
                f"{code(f'recscope train --dataset {dataset} --algos itemknn,bpr --folds 5', None)}.",
                icon=":material/info:")
        return
    st.plotly_chart(C.folds_chart(values, summary, f"{metric}@{k}"), key="cv_chart")
    table = pd.DataFrame({
        "algorithm": summary["algorithm"], "fold group": summary["fold_group"],
        "folds": summary["n_folds"], "mean": [_fmt(v) for v in summary["mean"]],
        "95% interval": [f"{_fmt(a)} – {_fmt(b)}" for a, b in zip(summary["ci_low"], summary["ci_high"])],
    })
    st.dataframe(table, hide_index=True, key="cv_table")
    st.caption("Interval: mean ± t(0.975, n−1)·s/√n over the n fold values. Folds of random and "
               "leave-last-n splits are groups of users (each user tested once); folds of time "
               "splits are rolling time windows. The paired test below pairs the two "
               "algorithms' per-user values by (fold, user), i.e. every user of the dataset "
               "once for user folds.")
    groups = summary.groupby("fold_group")["algorithm"].apply(list)
    pairable = {g: a for g, a in groups.items() if len(a) >= 2}
    if not pairable:
        return
    g = st.selectbox("Fold group", list(pairable), key="cv_group")
    a_col, b_col = st.columns(2)
    a = a_col.selectbox("A", pairable[g], index=0, key="cv_a")
    b = b_col.selectbox("B", pairable[g], index=1, key="cv_b")
    if a == b:
        return
    runs_a = values[(values["fold_group"] == g) & (values["algorithm"] == a)]["run_id"].tolist()
    runs_b = values[(values["fold_group"] == g) & (values["algorithm"] == b)]["run_id"].tolist()
    test = db.read(TS.fold_paired_test, runs_a, runs_b, metric, k)
    st.write(f"{b} − {a}: {_fmt(-test['mean_diff'])} over {test['n']:,} (fold, user) pairs; "
             f"t-test p = {_fmt(test['p_value_t'], '.2g')}, Wilcoxon p = "
             f"{_fmt(test['p_value_wilcoxon'], '.2g')}.")
