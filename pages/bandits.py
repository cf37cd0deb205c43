"""Bandits: run, watch and audit multi-armed bandit experiments. The sections live in
viewer/bandits_view.py. Deep link: /bandits?experiment=ID."""

import streamlit as st

from viewer import bandits_view as view, report_ui

st.title("Bandits")
st.caption("A bandit moves traffic towards the better arm while the test runs. Watch it "
           "happen here, and check that what you see can be trusted.")

exps = view.experiments()
if exps.empty:
    view.no_experiments()
    st.stop()

exp_id, status, from_log, batches = view.controls(exps)
view.create_form(expanded=False)
view.live(exp_id, status, from_log, batches)
view.ope_section()

report_ui.experiment_report(exp_id)
