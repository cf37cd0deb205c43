"""Runs: every run of a dataset with its metrics, whether differences are real, where
each run does well or badly, and a button to train more. Every selection is in the URL."""

import streamlit as st

from viewer import components, runs_view as V, report_ui, tuning_view as TV
from viewer.safe import code, md

st.title("Runs")
st.caption("All runs of a dataset side by side. Hover a metric's header for its definition; "
           "the link in the address bar reopens this exact view.")

top = st.columns([1, 3])
with top[0]:
    dataset = components.dataset_picker(require="interactions")
if dataset is None:
    st.stop()
mode = TV.page_mode()
if mode == "tuning":
    TV.tuning_view(dataset)
    st.stop()
if mode == "cross-validation":
    TV.folds_view(dataset)
    st.stop()

runs = V.all_runs(dataset)
if runs.empty:
    st.info(f"Dataset “{md(dataset)}” has no runs yet. Train some below, or in a terminal: "
            f"{code(f'recscope train --dataset {dataset} --algos popularity,itemknn,als', None)}.",
            icon=":material/info:")
    V.train_panel(dataset)
    st.stop()

V.problem_runs(runs)
if not (runs["status"] == "done").any():
    V.train_panel(dataset)
    st.stop()

metric, k, per_user, catalogue = V.pick_metric_k(dataset)
relevance = V.pick_relevance(dataset)
V.runs_table(dataset, runs, metric, k, relevance)
V.train_panel(dataset)

st.subheader("Accuracy against the rest")
V.tradeoff(dataset, runs, metric, k, catalogue)

st.subheader("A closer look at some runs")
run_ids = V.pick_runs(dataset, runs, metric, k)
labels = {int(r["run_id"]): components.run_label(r) for _, r in runs.iterrows()}
V.compare_link(dataset, run_ids, k)
paired, dist, slices = st.tabs(V.TABS, key="view", bind="query-params")
if paired.open:
    with paired:
        V.paired_tab(dataset, run_ids, labels, metric, k)
if dist.open:
    with dist:
        V.distribution_tab(run_ids, labels, metric, k)
if slices.open:
    with slices:
        V.slice_tab(dataset, run_ids, labels, metric, k, runs)

report_ui.runs_report(dataset, run_ids, metric, k)
