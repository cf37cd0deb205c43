"""Reusable page pieces."""

from __future__ import annotations

import streamlit as st

from engine.store.datasets import list_datasets
from viewer import db, state


def empty_store_message() -> None:
    st.info(
        "The store has no datasets yet. Build the demo with `recscope demo` (or `make run`, "
        "which builds it on first use), or add your own data with `recscope import ...` — "
        "see the Home page.",
        icon=":material/info:",
    )


def dataset_picker(key: str = "dataset", label: str = "Dataset", require: str | None = None) -> str | None:
    """A dataset selectbox bound to the ``dataset`` URL parameter.

    ``require`` = "interactions" or "reviews" keeps only datasets that have them. Returns
    the chosen name or None (after showing a message) when there is nothing to choose.
    An unknown name in the URL gets a friendly warning and falls back to the first.
    """
    ds = db.read(list_datasets)
    if require == "interactions":
        ds = ds[ds["n_interactions"] > 0]
    elif require == "reviews":
        ds = ds[ds["n_reviews"] > 0]
    names = ds["name"].tolist()
    if not names:
        empty_store_message()
        return None
    wanted = state.param(key)
    if wanted is not None and wanted not in names:
        st.warning(f"There is no dataset named “{wanted}” in this store; showing “{names[0]}” "
                   f"instead.", icon=":material/warning:")
        wanted = None
    index = names.index(wanted) if wanted in names else 0
    choice = st.selectbox(label, names, index=index, key=f"_picker_{key}")
    state.set_params(**{key: choice})
    return choice
