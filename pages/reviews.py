"""Flagged reviews: the queue of what the classifier flagged, labelling, threshold, models."""

import streamlit as st

from viewer import components, reviews_view as rv, report_ui
from viewer.safe import code, md

st.title("Flagged reviews")
intro = st.empty()  # filled once the dataset (and so the name of its positive class) is known

top = st.columns([1, 1.4, 1.2])
with top[0]:
    dataset = components.dataset_picker(require="reviews")
intro.caption(rv.page_caption(rv.positive_name(dataset) if dataset else "meaningless"))
if dataset is None:
    st.stop()
with top[2]:
    reviewer = rv.reviewer_input()
with top[1]:
    model = rv.model_picker(dataset)
if reviewer:
    rv.visit_news(dataset, reviewer)

if model is None:  # labelling from zero: a varied queue, progress towards the first model
    st.info(f"No classifier has been trained on “{md(dataset)}” yet. Train one here or run "
            f"{code(f'recscope reviews train --dataset {dataset}', None)}.", icon=":material/info:")
    rv.first_model_progress(dataset, rv.positive_name(dataset))
    if rv.train_button(dataset, "Train the classifier") is not None:
        st.rerun()
    rv.queue_section(dataset, None, reviewer)
    st.stop()

rv.weak_model_warning(model)

views = {"queue": "Queue", "batches": "New reviews", "checks": "Label checks", "threshold": "Threshold",
         "models": "Models", "export": "Export"}
view = components.bound_select("View", list(views), "view", "queue", "a view", key="rv_view",
                               kind="segmented", format_func=views.get, omit_default=True,
                               label_visibility="collapsed")

if view == "queue":
    rv.queue_section(dataset, model, reviewer)
elif view == "batches":
    rv.batches_section(dataset, model)
elif view == "checks":
    rv.checks_section(dataset, model)
elif view == "threshold":
    rv.threshold_section(dataset, model)
elif view == "models":
    rv.models_section(dataset)
else:
    rv.export_section(dataset)

report_ui.review_report(model)
