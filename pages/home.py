"""Home: the datasets in the store and how to add one."""

import streamlit as st

from engine.store.datasets import list_datasets
from viewer import components, db, nav
from viewer.safe import code

st.title("recscope")
st.caption("See what your recommenders, review classifiers and bandits do. "
           f"Store: {code(db.db_path(), None)}")

datasets = db.read(list_datasets)
st.subheader("Datasets")
if datasets.empty:
    components.empty_store_message()
else:
    st.dataframe(
        datasets.rename(columns={"name": "Dataset", "source": "Source", "created_at": "Added",
                                 "n_users": "Users", "n_items": "Items",
                                 "n_interactions": "Interactions", "n_reviews": "Reviews"}),
        hide_index=True, width="stretch",
        column_config={
            "Users": st.column_config.NumberColumn(format="localized"),
            "Items": st.column_config.NumberColumn(format="localized"),
            "Interactions": st.column_config.NumberColumn(format="localized"),
            "Reviews": st.column_config.NumberColumn(format="localized"),
            "Added": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )

    st.subheader("Where to go")
    cols = st.columns(4)
    links = [("runs", "Compare runs' metrics and whether differences are real"),
             ("compare", "See several algorithms' lists for one user, side by side"),
             ("reviews", "Check the reviews a classifier flagged, label them"),
             ("bandits", "Watch a bandit experiment move traffic")]
    for col, (key, text) in zip(cols, links):
        if nav.has_page(key):
            with col:
                st.page_link(nav.page(key))
                st.caption(text)

with st.expander("How to add a dataset", expanded=datasets.empty):
    st.markdown("Run these in a terminal in the project folder (with `.venv` active); the "
                "page picks up new data on its next refresh.")
    st.code(
        "recscope demo                                  # the synthetic job board\n"
        "recscope import movielens PATH/ml-100k --name ml100k\n"
        "recscope import csv events.csv --name mydata --user-col user --item-col item \\\n"
        "    [--time-col ts] [--event-col event] [--weight-col w] \\\n"
        "    [--items items.csv --item-id-col id --title-col title]\n"
        "recscope import reviews reviews.csv --name myreviews --text-col text [--label-col label]\n"
        "recscope train --dataset ml100k --algos popularity,itemknn,als,bpr,ease\n"
        "recscope datasets",
        language="bash",
    )
