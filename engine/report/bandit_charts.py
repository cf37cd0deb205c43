"""Plotly builders for the Bandits page: pure functions of DataFrames (no Streamlit).

Arms keep one colour everywhere: ``arm_colors(arms)`` gives arm i the i-th colour of the
shared palette, in the order the experiment lists its arms.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from engine.report.charts import PALETTE
from engine.report.safe import plot

# Legends sit under the plot: with several arms they wrap, and above they would run
# into the title.
_LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=45, b=10), height=400,
               legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0,
                           title_text="", traceorder="normal"),
               font=dict(size=13), hovermode="x unified")


#: The colour of the arms folded into "other" when a chart draws only the leading arms.
OTHER_COLOR = "#B0B0B0"


def _other_label(n: int) -> str:
    return f"other ({n} arms)"


def arm_colors(arms) -> dict:
    """{arm name: colour}, by position in the experiment's list of arms."""
    return {str(a): PALETTE[i % len(PALETTE)] for i, a in enumerate(arms)}


def _rgba(color: str, alpha: float) -> str:
    """'#RRGGBB' or 'rgb(r, g, b)' (the palette has both) with an alpha."""
    if color.startswith("rgb"):
        r, g, b = (int(float(x)) for x in color[color.index("(") + 1:-1].split(",")[:3])
    else:
        h = color.lstrip("#")
        r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _empty(title: str, note: str = "No batches yet.") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=note, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=14, color="#666"))
    fig.update_layout(**{**_LAYOUT, "hovermode": False}, title=title)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _fold(snapshots: pd.DataFrame, arms, agg: dict) -> tuple[pd.DataFrame, int]:
    """Rows of the arms not in ``arms`` summed per batch into one "other" arm.
    Returns the frame and how many arms were folded."""
    keep = snapshots["arm"].astype(str).isin([str(a) for a in arms])
    rest = snapshots[~keep]
    n_rest = int(rest["arm"].nunique())
    if not n_rest:
        return snapshots, 0
    other = rest.groupby("batch", as_index=False).agg(agg).assign(arm=_other_label(n_rest))
    return pd.concat([snapshots[keep], other], ignore_index=True), n_rest


def allocation_chart(snapshots: pd.DataFrame, arms, colors: dict | None = None) -> go.Figure:
    """Stacked share of each batch's decisions per arm, against decisions so far; the
    arms not in ``arms`` stacked as one "other". ``colors``: {arm: colour} to use
    instead of ``arm_colors(arms)``.

    ``snapshots``: batch, arm, batch_pulls, n_steps (one row per batch and arm)."""
    title = "Allocation over time (share of each batch)"
    if snapshots.empty:
        return _empty(title)
    n_all = snapshots["arm"].nunique()
    if n_all > len(arms):
        title = f"Allocation over time: the {len(arms)} busiest of {n_all} arms"
    colors = colors or arm_colors(arms)
    tot = snapshots.groupby("batch")["batch_pulls"].transform("sum").clip(lower=1)
    df = snapshots.assign(share=snapshots["batch_pulls"] / tot)
    df, others = _fold(df, arms, {"share": "sum", "n_steps": "first"})
    fig = go.Figure()
    for arm in [str(a) for a in arms] + ([_other_label(others)] if others else []):
        g = df[df["arm"] == arm].sort_values("batch")
        color = colors.get(arm, OTHER_COLOR)
        fig.add_trace(go.Scatter(
            x=g["n_steps"], y=g["share"], name=plot(arm), mode="lines", stackgroup="one",
            line=dict(width=0.5, color=color), fillcolor=_rgba(color, 0.75),
            hovertemplate="%{y:.0%}"))
    fig.update_layout(**_LAYOUT, title=title)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title="share of batch")
    fig.update_xaxes(title="decisions")
    return fig


def density_chart(density: pd.DataFrame, arms, true_rates=None,
                  colors: dict | None = None) -> go.Figure:
    """Posterior density per arm of ``arms`` (``density``: arm, x, density); dotted lines
    at the true rates of a simulation when given."""
    n_all = density["arm"].nunique() if not density.empty else 0
    title = ("Posterior of each arm's rate" if n_all <= len(arms)
             else f"Posterior of the rate: leading {len(arms)} of {n_all} arms")
    if density.empty:
        return _empty(title)
    density = density[density["arm"].astype(str).isin([str(a) for a in arms])]
    # the grid covers every arm; zoom to where the drawn arms have their mass
    mass = density[density["density"] > 1e-3 * density["density"].max()]["x"]
    x_range = [float(mass.min()), float(mass.max())] if len(mass) else None
    colors = colors or arm_colors(arms)
    fig = go.Figure()
    for arm in arms:
        g = density[density["arm"] == str(arm)]
        fig.add_trace(go.Scatter(x=g["x"], y=g["density"], name=plot(arm), mode="lines",
                                 fill="tozeroy", fillcolor=_rgba(colors[str(arm)], 0.18),
                                 line=dict(color=colors[str(arm)], width=2),
                                 hovertemplate="rate %{x:.4f}: density %{y:.1f}"))
    if true_rates is not None:
        for arm, rate in zip(arms, true_rates):
            fig.add_vline(x=rate, line=dict(color=colors[str(arm)], dash="dot", width=1.5))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, title=title)
    fig.update_xaxes(title="reward rate" + (" (dotted: true rate)" if true_rates else ""),
                     tickformat=".3f", range=x_range if n_all > len(arms) else None)
    fig.update_yaxes(title="density", rangemode="tozero")
    return fig


def prob_best_chart(snapshots: pd.DataFrame, arms, threshold: float | None = None,
                    colors: dict | None = None) -> go.Figure:
    """Probability of being best per arm after each batch."""
    title = "Probability of being best"
    if snapshots.empty:
        return _empty(title)
    colors = colors or arm_colors(arms)
    df, others = _fold(snapshots, arms, {"prob_best": "sum", "n_steps": "first"})
    fig = go.Figure()
    for arm in [str(a) for a in arms] + ([_other_label(others)] if others else []):
        g = df[df["arm"] == arm].sort_values("batch")
        fig.add_trace(go.Scatter(x=g["n_steps"], y=g["prob_best"], name=plot(arm), mode="lines",
                                 line=dict(color=colors.get(arm, OTHER_COLOR), width=2,
                                           dash="dot" if arm not in colors else "solid"),
                                 hovertemplate="%{y:.3f}"))
    if threshold is not None:
        fig.add_hline(y=threshold, line=dict(color="#666", dash="dash", width=1),
                      annotation_text=f"stop at {threshold:.2f}", annotation_position="bottom right")
    fig.update_layout(**_LAYOUT, title=title)
    fig.update_yaxes(range=[0, 1.02], title="P(best)")
    fig.update_xaxes(title="decisions")
    return fig


def reward_regret_chart(snapshots: pd.DataFrame, simulated: bool = True) -> go.Figure:
    """Cumulative reward (arrived) and, in simulation, cumulative expected regret."""
    title = "Cumulative reward" + (" and regret" if simulated else "")
    if snapshots.empty:
        return _empty(title)
    per = (snapshots.groupby("batch", as_index=False)
                    .agg(n_steps=("n_steps", "first"), rewards=("rewards", "sum"),
                         cum_regret=("cum_regret", "first")))
    # Two y axes by hand (make_subplots is slow, and this chart is redrawn every refresh).
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=per["n_steps"], y=per["rewards"], name="reward (arrived)",
                             mode="lines", line=dict(color="#009E73", width=2)))
    if simulated:
        fig.add_trace(go.Scatter(x=per["n_steps"], y=per["cum_regret"], name="expected regret",
                                 mode="lines", yaxis="y2",
                                 line=dict(color="#D55E00", width=2, dash="dash")))
    fig.update_layout(**_LAYOUT, title=title,
                      yaxis=dict(title="rewards", rangemode="tozero"),
                      yaxis2=dict(title="expected regret", overlaying="y", side="right",
                                  rangemode="tozero", showgrid=False, tickformat=".0f"))
    fig.update_xaxes(title="decisions")
    return fig


def leaderboard_chart(summary: pd.DataFrame, arms=None, colors: dict | None = None) -> go.Figure:
    """Posterior mean and 95% interval per arm (``summary``: arm, mean, lo, hi and
    optionally true_rate), best mean on top. ``arms``: draw only these (coloured in
    this order; the default: all, coloured in the experiment's order)."""
    title = "Posterior mean (dot) with 95% credible interval"
    if summary.empty:
        return _empty(title, "No arms.")
    if arms is not None and len(arms) < len(summary):
        title = f"Posterior mean with 95% interval: leading {len(arms)} of {len(summary)} arms"
        summary = summary[summary["arm"].astype(str).isin([str(a) for a in arms])]
    colors = colors or arm_colors(arms if arms is not None else
                        summary.sort_values("arm_index")["arm"] if "arm_index" in summary
                        else summary["arm"])
    df = summary.sort_values("mean")
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=df["mean"], y=df["arm"].map(plot), mode="markers", name="posterior mean", showlegend=False,
        marker=dict(size=12, color=[colors[a] for a in df["arm"]]),
        error_x=dict(type="data", symmetric=False, array=df["hi"] - df["mean"],
                     arrayminus=df["mean"] - df["lo"], thickness=2, width=6, color="#555"),
        hovertemplate="%{y}: %{x:.4f}<extra></extra>"))
    if "true_rate" in df:
        fig.add_trace(go.Scatter(x=df["true_rate"], y=df["arm"].map(plot), mode="markers",
                                 name="true rate (simulation)", showlegend=True,
                                 marker=dict(symbol="x-thin", size=12, color="#000",
                                             line=dict(width=2, color="#000")),
                                 hovertemplate="true %{x:.4f}<extra></extra>"))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest",
                         "height": 170 + 45 * len(df)}, title=title)
    fig.update_xaxes(title="reward rate", tickformat=".3f")
    fig.update_yaxes(type="category")  # arm names such as "54" are names, not numbers
    return fig


def period_chart(periods: pd.DataFrame, pooled: pd.DataFrame, arms,
                 colors: dict | None = None) -> go.Figure:
    """Rate per arm in each period (solid, with markers) beside the pooled rate (dashed)."""
    title = "Rates per period vs pooled (dashed)"
    if periods.empty:
        return _empty(title)
    colors = colors or arm_colors(arms)
    fig = go.Figure()
    labels = {p: f"P{p + 1}: batches {a}–{b}" for p, a, b in
              periods[["period", "first_batch", "last_batch"]].drop_duplicates().itertuples(index=False)}
    for arm in arms:
        g = periods[periods["arm"] == str(arm)].sort_values("period")
        fig.add_trace(go.Scatter(x=g["period"].map(labels), y=g["rate"], name=plot(arm),
                                 mode="lines+markers", line=dict(color=colors[str(arm)], width=2),
                                 customdata=g["n_obs"],
                                 hovertemplate="%{y:.4f} (n=%{customdata})"))
        if not pooled.empty:
            p = pooled[pooled["arm"] == str(arm)]
            if len(p) and pd.notna(p["rate"].iloc[0]):
                fig.add_hline(y=float(p["rate"].iloc[0]),
                              line=dict(color=colors[str(arm)], dash="dash", width=1))
    if len(arms) < periods["arm"].nunique():
        title += f": leading {len(arms)} of {periods['arm'].nunique()} arms"
    fig.update_layout(**_LAYOUT, title=title)
    fig.update_yaxes(title="reward rate", tickformat=".3f")
    # periods in time order, whichever arm's trace happens to list a period first
    fig.update_xaxes(categoryorder="array", categoryarray=[labels[p] for p in sorted(labels)])
    return fig
