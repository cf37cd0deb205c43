"""The "Download report" button every page a report covers shows (Runs, Compare, Flagged
reviews, Bandits): the same file as `recscope report` for the page's current selection
(``engine.report.service.build``; only the creation-time line differs).

A page load does not pay for the report: the file is built when "Prepare report" is
clicked (inside a fragment, so only the button area reruns), kept in the session under
``report_key(spec)`` for that selection, and offered by ``st.download_button``.
"""

from __future__ import annotations

import streamlit as st

from engine.errors import RecscopeError
from engine.report.service import MAX_RUNS, ReportSpec, build
from viewer import db
from viewer.safe import code, md


def report_key(spec: ReportSpec) -> str:
    return f"_report_{spec.kind}_{spec.dataset}_{'-'.join(map(str, spec.runs))}_{spec.metric}_" \
           f"{spec.k}_{spec.review_model}_{spec.experiment}"


@st.fragment
def _button(spec: ReportSpec) -> None:
    key = report_key(spec)
    data = st.session_state.get(key)
    if data is None:
        if st.button("Prepare report", key=f"{key}_prepare", icon=":material/description:",
                     help="Build one self-contained HTML file of this selection (opens "
                          "offline); the same file as "
                          + code(spec.command(str(db.db_path())), None) + "."):
            try:
                with st.spinner("Building the report…"):
                    data = build(db.get_store(), spec).encode("utf-8")
            except RecscopeError as exc:
                st.warning(md(str(exc), 400), icon=":material/warning:")
                return
            st.session_state[key] = data
    if data is not None:
        st.download_button("Download report", data, file_name=spec.filename(),
                           mime="text/html", key=f"{key}_download",
                           icon=":material/download:")


def runs_report(dataset: str, run_ids, metric: str = "ndcg", k: int = 10) -> None:
    ids = tuple(int(r) for r in run_ids)[:MAX_RUNS]
    if ids:
        _button(ReportSpec("runs", dataset=dataset, runs=ids, metric=metric, k=int(k)))


def review_report(model: dict | None) -> None:
    if model is not None:
        _button(ReportSpec("review-model", review_model=int(model["model_id"])))


def experiment_report(experiment_id: int | None) -> None:
    if experiment_id is not None:
        _button(ReportSpec("experiment", experiment=int(experiment_id)))
