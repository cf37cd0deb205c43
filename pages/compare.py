"""Compare: several runs' top-K lists for one user side by side, where runs disagree,
and what each run recommends across all users. Every selection lives in the URL."""

import streamlit as st

from viewer import components, compare_view as V, predict_view as PV, report_ui
from viewer.runs_view import pick_relevance
from viewer.safe import code, md

st.title("Compare runs")
st.caption("Pick a dataset, 2 to 4 runs and a user: see which algorithm recommends what, "
           "which recommendations hit the user's held-out items, and where the algorithms "
           "disagree. The link in the address bar reopens this exact view.")

top = st.columns([1, 3, 1])
with top[0]:
    dataset = components.dataset_picker(require="interactions")
if dataset is None:
    st.stop()
runs = V.done_runs(dataset)
if runs.empty:
    st.info(f"Dataset “{md(dataset)}” has no finished runs yet. Train some in a terminal, e.g. "
            f"{code(f'recscope train --dataset {dataset} --algos popularity,itemknn,als', None)}, then reload.",
            icon=":material/info:")
    st.stop()
with top[1]:
    run_ids = V.pick_runs(dataset, runs)
if not run_ids:
    st.info("Pick at least one run (two or more to compare).", icon=":material/info:")
    st.stop()
labels, max_k, split_id = V.selection_info(runs, run_ids)
with top[2]:
    k = V.pick_k(max_k)
PV.run_model_links(dataset, runs, run_ids)
relevance = pick_relevance(dataset, key="_cmp_relevance")
if relevance != "any":
    V.relevance_summary(run_ids, labels, k, relevance)

one, dis, expo = st.tabs(V.TABS, key="view", bind="query-params")
if one.open:
    with one:
        user = V.pick_user(dataset, run_ids, split_id, k)
        if user is not None:
            V.one_user(dataset, run_ids, runs, user, k)
if dis.open:
    with dis:
        V.disagreement_tab(dataset, run_ids, labels, k, relevance)
if expo.open:
    with expo:
        V.exposure_tab(dataset, run_ids, labels, k)

report_ui.runs_report(dataset, run_ids, k=k)
