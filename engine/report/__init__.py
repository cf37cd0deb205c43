"""Self-contained HTML reports (``service.build``) and the plotly figure builders the
pages and the reports share (``charts``, ``runs_charts``, ``bandit_charts``,
``review_charts``: pure functions of frames, no Streamlit)."""
