"""Plotly figure builders for the Tuning and Cross-validation views: pure functions of
DataFrames (the trial frame of ``engine.services.tuning.study_trials``: number, state,
value, seconds, ``p_<param>`` columns, ``v0``/``v1`` objective values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

_FONT = {"family": "sans-serif", "size": 13}
_GRID = "#ECECEC"
_DONE = "#1F77B4"
_PRUNED = "#BBBBBB"
_BEST = "#D62728"


def _layout(fig: go.Figure, height: int = 360, **kw) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      plot_bgcolor="white", font=_FONT, **kw)
    fig.update_xaxes(gridcolor=_GRID, zeroline=False)
    fig.update_yaxes(gridcolor=_GRID, zeroline=False)
    return fig


def history_chart(trials: pd.DataFrame, objective: str, maximize: bool = True) -> go.Figure:
    """Each complete trial's value by trial number, and the best so far as a step line."""
    done = trials[trials["state"] == "COMPLETE"].sort_values("number")
    best = done["value"].cummax() if maximize else done["value"].cummin()
    fig = go.Figure([
        go.Scatter(x=done["number"], y=done["value"], mode="markers", name="trial",
                   marker={"color": _DONE, "size": 8}),
        go.Scatter(x=done["number"], y=best, mode="lines", name="best so far",
                   line={"color": _BEST, "shape": "hv"}),
    ])
    return _layout(fig, title="Optimisation history", xaxis_title="trial",
                   yaxis_title=objective)


def param_scatter(trials: pd.DataFrame, param: str, objective: str, colour: str | None = None,
                  log_x: bool = False) -> go.Figure:
    """The objective against one parameter over complete trials, coloured by a second
    parameter (``colour``, a ``p_`` column name without the prefix) when given."""
    done = trials[trials["state"] == "COMPLETE"]
    marker: dict = {"size": 9, "color": _DONE}
    if colour and f"p_{colour}" in done:
        marker.update(color=done[f"p_{colour}"], colorscale="Viridis", showscale=True,
                      colorbar={"title": colour})
    fig = go.Figure(go.Scatter(x=done[f"p_{param}"], y=done["value"], mode="markers",
                               marker=marker, text=[f"trial {n}" for n in done["number"]],
                               hovertemplate="%{text}<br>" + param + " %{x}<br>" + objective
                                             + " %{y:.4f}<extra></extra>"))
    fig = _layout(fig, height=320, title=f"{objective} against {param}", xaxis_title=param,
                  yaxis_title=objective)
    if log_x:
        fig.update_xaxes(type="log")
    return fig


def parallel_chart(trials: pd.DataFrame, params: list[str], objective: str,
                   log_params: tuple = ()) -> go.Figure:
    """Parallel coordinates: one line per complete trial across its parameters and value
    (log-scale parameters shown as log10)."""
    done = trials[trials["state"] == "COMPLETE"]
    dims = []
    for p in params:
        v = done[f"p_{p}"].astype(float)
        dims.append({"label": f"log10 {p}" if p in log_params else p,
                     "values": np.log10(v) if p in log_params else v})
    dims.append({"label": objective, "values": done["value"]})
    fig = go.Figure(go.Parcoords(line={"color": done["value"], "colorscale": "Viridis",
                                       "showscale": True}, dimensions=dims))
    return _layout(fig, height=380, title="Parallel coordinates")


def importance_chart(importance: dict) -> go.Figure:
    """Optuna's parameter importances as horizontal bars (largest at the top)."""
    items = sorted(importance.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h",
                           marker={"color": _DONE}))
    return _layout(fig, height=80 + 40 * max(1, len(items)), title="Parameter importance",
                   xaxis_title="importance (share of the value's variance)")


def pareto_chart(trials: pd.DataFrame, objectives: list[str], front: list[int]) -> go.Figure:
    """Two objectives of every complete trial; the Pareto-front trials highlighted."""
    done = trials[trials["state"] == "COMPLETE"]
    on = done["number"].isin(front)
    fig = go.Figure([
        go.Scatter(x=done.loc[~on, "v0"], y=done.loc[~on, "v1"], mode="markers", name="trial",
                   marker={"color": _PRUNED, "size": 8}),
        go.Scatter(x=done.loc[on, "v0"].sort_values(), y=done.loc[on].sort_values("v0")["v1"],
                   mode="lines+markers", name="Pareto front",
                   marker={"color": _BEST, "size": 10}),
    ])
    return _layout(fig, title="Pareto front", xaxis_title=objectives[0],
                   yaxis_title=objectives[1])


def folds_chart(values: pd.DataFrame, summary: pd.DataFrame, metric: str) -> go.Figure:
    """Per algorithm (fold group): the mean over folds with its 95% interval as an error
    bar, and each fold's value as a dot beside it."""
    label = {(r.algorithm, r.fold_group): f"{r.algorithm} (group {r.fold_group})"
             for r in summary.itertuples()}
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[label[(a, g)] for a, g in zip(values["algorithm"], values["fold_group"])],
        y=values["value"], mode="markers", name="fold",
        marker={"color": _PRUNED, "size": 8, "symbol": "circle-open"}))
    fig.add_trace(go.Scatter(
        x=[label[(a, g)] for a, g in zip(summary["algorithm"], summary["fold_group"])],
        y=summary["mean"], mode="markers", name="mean, 95% interval",
        marker={"color": _BEST, "size": 11, "symbol": "diamond"},
        error_y={"type": "data", "symmetric": False,
                 "array": summary["ci_high"] - summary["mean"],
                 "arrayminus": summary["mean"] - summary["ci_low"]}))
    return _layout(fig, title=f"{metric} over folds", yaxis_title=metric)
