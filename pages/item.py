"""Item: one item's metadata and popularity, the items similar to it, and who gets it
recommended by each run. Deep link: /item?dataset=NAME&item=ITEM_ID."""

import streamlit as st

from viewer import components, item_view as V
from viewer.runs_view import all_runs

st.title("Item")

top = st.columns([1, 4])
with top[0]:
    dataset = components.dataset_picker(require="interactions")
if dataset is None:
    st.stop()
with top[1]:
    item_id = V.pick_item(dataset)
if item_id is None:
    st.stop()

runs = all_runs(dataset)
V.header(dataset, item_id)
st.subheader("Similar items")
V.similar_items(dataset, item_id, runs)
st.subheader("Recommended together")
V.recommended_together(dataset, item_id, runs)
st.subheader("Who gets it recommended")
V.audience(dataset, item_id, runs)
