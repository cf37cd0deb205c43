"""Plotly figure builders: pure functions of DataFrames (unit-tested, no Streamlit).

Runs keep one colour on every page: ``run_color(run_id)`` picks from a qualitative
palette by run id, so run 3 is the same colour on the Runs, Compare and Item pages.
"""

from __future__ import annotations

import plotly.express as px

#: Colour-blind-friendly qualitative palette (Okabe-Ito order, then Plotly's Safe).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000"] + list(px.colors.qualitative.Safe)


def run_color(run_id: int) -> str:
    """The colour of a run, stable across pages and sessions."""
    return PALETTE[(int(run_id) - 1) % len(PALETTE)]


def run_color_map(run_ids, labels: dict | None = None) -> dict:
    """{label or run_id: colour} for plotly's ``color_discrete_map``."""
    labels = labels or {}
    return {labels.get(r, r): run_color(r) for r in run_ids}
