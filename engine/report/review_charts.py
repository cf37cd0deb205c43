"""Figures of the review classifier (Flagged reviews page and review-model reports): pure
plotly functions of frames."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def pr_figure(curve: pd.DataFrame, point: dict | None = None) -> go.Figure:
    """Precision-recall curve with the slider's point marked."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curve["recall"], y=curve["precision"], mode="lines", name="PR curve",
                             customdata=curve["threshold"],
                             hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<br>threshold %{customdata:.3f}"))
    if point and point.get("precision") == point.get("precision") and point.get("recall") == point.get("recall"):
        fig.add_trace(go.Scatter(x=[point["recall"]], y=[point["precision"]], mode="markers",
                                 marker={"size": 13, "color": "#c0392b"}, name="threshold"))
    fig.update_layout(xaxis_title="recall", yaxis_title="precision", height=360,
                      xaxis_range=[0, 1.02], yaxis_range=[0, 1.02], margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def score_hist_figure(scores: pd.Series, threshold: float) -> go.Figure:
    fig = go.Figure(go.Histogram(x=scores.dropna(), xbins={"start": 0, "end": 1, "size": 0.02},
                                 marker_color="#7f8c8d"))
    fig.add_vline(x=threshold, line_color="#c0392b", annotation_text="threshold")
    # A log count axis with ticks at powers of ten only (1, 10, 100): plotly's default
    # log ticks add 2 and 5 between them, which read as "10, 2, 5, 100, 2".
    fig.update_layout(xaxis_title="score", yaxis_title="reviews (log scale)", height=260,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    fig.update_yaxes(type="log", dtick=1, tickformat="~s", minor={"showgrid": False})
    return fig
