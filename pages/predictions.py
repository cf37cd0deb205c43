"""Predictions: application / hire models of a dataset, whether their probabilities can
be trusted, what drives them, and the runs re-ranked by them.
Deep link: /predictions?dataset=NAME&model=ID&user=U&item=I."""

import streamlit as st

from viewer import components, predict_view as V
from viewer.safe import code, md

st.title("Predictions")
st.caption("Models of the chance that a view turns into an application (or a hire), measured "
           "on a later test period against simple baselines and, for the demo, the truth.")

dataset = components.dataset_picker(require="interactions")
if dataset is None:
    st.stop()

rows = V.models(dataset)
if not rows:
    st.info(f"Dataset “{md(dataset)}” has no prediction models yet. In a terminal: "
            f"{code(f'recscope predict train --dataset {dataset} --target apply', None)}.",
            icon=":material/info:")
    st.stop()

V.models_table(rows)
model_id = V.pick_model(dataset, rows)
d = V.detail(model_id)

left, right = st.columns(2)
with left:
    st.subheader("Reliability")
    V.reliability_chart(d)
with right:
    st.subheader("Lift and cumulative gain")
    V.lift_chart(d)

st.subheader("AUC by segment")
V.segments(d)
st.subheader("What drives it")
V.importance(d)
st.subheader("Look up a user and an item")
V.lookup(dataset, model_id)
st.subheader("Re-ranked runs")
V.rerank_links(dataset, model_id)
