"""Plotly figure builders for the Runs and Item pages: pure functions of DataFrames.

Every run keeps the colour ``engine.report.charts.run_color`` gives it on all pages; ``labels``
maps run_id -> the text shown for it (e.g. "#3 als").
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from engine.report.charts import run_color
from engine.report.safe import plot
from engine.report.text import cut

_FONT = {"family": "sans-serif", "size": 13}
_GRID = "#ECECEC"
_REF = "#6E6E6E"


def _label(labels: dict | None, r) -> str:
    """Run ``r``'s label, made inert for Plotly (``safe.plot``): run names are users' text."""
    return plot((labels or {}).get(int(r), f"#{int(r)}"))


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      plot_bgcolor="white", font=_FONT,
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                      **kw)
    fig.update_xaxes(gridcolor=_GRID, zeroline=False)
    fig.update_yaxes(gridcolor=_GRID, zeroline=False)
    return fig


def tradeoff_chart(points: pd.DataFrame, x: str, y: str, labels: dict | None = None,
                   x_title: str | None = None, y_title: str | None = None) -> go.Figure:
    """One marker per run at (``x``, ``y``), in the run's colour, labelled with its name.

    points: DataFrame[run_id, <x>, <y>]; runs lacking either value are left out.
    """
    df = points.dropna(subset=[x, y]).sort_values(x)
    # Labels beside the markers while they fit; past 8 runs they would pile up, so the
    # legend names the runs instead. Neighbours along x alternate above and below. A
    # label is cut at 22 cells (the hover has the whole name): whole names of real runs
    # were wider than the gap between markers and wrote over the neighbouring dots.
    labelled = len(df) <= 8
    fig = go.Figure()
    for i, (_, row) in enumerate(df.iterrows()):
        r = int(row["run_id"])
        name = _label(labels, r)
        fig.add_trace(go.Scatter(
            x=[row[x]], y=[row[y]], mode="markers+text" if labelled else "markers", name=name,
            text=[cut(name, 22)], textposition="top center" if i % 2 == 0 else "bottom center",
            textfont={"size": 12},
            marker={"color": run_color(r), "size": 16, "line": {"color": "white", "width": 1.5}},
            hovertemplate=f"<b>{name}</b><br>{x_title or x}: %{{x:.4g}}<br>"
                          f"{y_title or y}: %{{y:.4g}}<extra></extra>"))
    fig.update_xaxes(title=x_title or x)
    fig.update_yaxes(title=y_title or y)
    if labelled and len(df):
        # room for half a label left of the first marker and right of the last, and for
        # a line of text above the highest and below the lowest marker
        lo, hi = float(df[x].min()), float(df[x].max())
        pad = max((hi - lo) * 0.18, abs(hi) * 0.05, 1e-3)
        fig.update_xaxes(range=[lo - pad, hi + pad])
        ylo, yhi = float(df[y].min()), float(df[y].max())
        ypad = max((yhi - ylo) * 0.15, abs(yhi) * 0.05, 1e-3)
        fig.update_yaxes(range=[ylo - ypad, yhi + ypad])
    return _layout(fig, 380, showlegend=not labelled)


def ecdf_chart(values: pd.DataFrame, labels: dict | None = None,
               value_title: str = "value") -> go.Figure:
    """Empirical CDF of per-user values, one line per run. values: DataFrame[run_id, value].

    Read it as "share of users at or below this value": a curve further right and lower
    is better; the height at 0 is the share of users with nothing (e.g. no hit).
    """
    df = values.copy()
    df["run"] = [_label(labels, r) for r in df["run_id"]]
    order = list(dict.fromkeys(df["run"]))
    cmap = {_label(labels, r): run_color(r) for r in df["run_id"].unique()}
    fig = px.ecdf(df, x="value", color="run", color_discrete_map=cmap,
                  category_orders={"run": order})
    fig.update_traces(line_width=2.5, hovertemplate="%{x:.3g}: %{y:.1%} of users<extra></extra>")
    for t in fig.data:  # px colours the markers; the line should say the same
        t.line.color = cmap.get(t.name)
    fig.update_xaxes(title=value_title)
    # Most users of a leave-one-out split sit at 0; start the axis just below the lowest
    # curve's first step so the part where runs differ fills the chart.
    lo = 0.0
    if len(df):
        first = df[df["value"] <= df["value"].min()].groupby("run_id").size() \
            / df.groupby("run_id").size()
        lo = max(0.0, float(first.min()) - 0.05)
        lo = 0.0 if lo < 0.3 else lo
    fig.update_yaxes(title="share of users ≤ value", tickformat=".0%", range=[lo, 1.005])
    return _layout(fig, 360, legend_title_text="")


def box_chart(values: pd.DataFrame, labels: dict | None = None,
              value_title: str = "value") -> go.Figure:
    """A box (with its mean as a dashed line) of per-user values per run."""
    fig = go.Figure()
    for r, g in values.groupby("run_id", sort=False):
        name = _label(labels, r)
        fig.add_trace(go.Box(y=g["value"].tolist(), name=name, marker_color=run_color(r),
                             boxmean=True, boxpoints=False))
    fig.update_yaxes(title=value_title)
    return _layout(fig, 360, showlegend=False)


def slice_chart(summary: pd.DataFrame, labels: dict | None = None,
                value_title: str = "mean", slice_title: str = "") -> go.Figure:
    """Grouped bars of the mean per slice and run with their interval as error bars.

    summary: DataFrame[run_id, slice, n_users, mean, ci_low, ci_high] (slice in order).
    """
    fig = go.Figure()
    slices = [str(s) for s in dict.fromkeys(summary["slice"].astype(str))]
    for r, g in summary.groupby("run_id", sort=False):
        name = _label(labels, r)
        g = g.assign(slice=g["slice"].astype(str)).set_index("slice").reindex(slices)
        up = (g["ci_high"] - g["mean"]).fillna(0).tolist()
        down = (g["mean"] - g["ci_low"]).fillna(0).tolist()
        fig.add_trace(go.Bar(
            x=slices, y=g["mean"].tolist(), name=name, marker_color=run_color(r),
            error_y={"type": "data", "array": up, "arrayminus": down, "color": "#444",
                     "thickness": 1.2, "width": 3},
            customdata=g["n_users"].fillna(0).astype(int).tolist(),
            hovertemplate="%{x}: %{y:.4f} (%{customdata} users)<extra>" + name + "</extra>"))
    fig.update_xaxes(title=slice_title, type="category")
    fig.update_yaxes(title=value_title, rangemode="tozero")
    return _layout(fig, 360, barmode="group", bargap=0.25)


def decile_chart(deciles: pd.DataFrame, labels: dict | None = None, what: str = "share_slots",
                 reference: pd.DataFrame | None = None, title: str = "") -> go.Figure:
    """Lines over the 10 popularity deciles per run (``what`` = share_slots or share_hits),
    with an optional dashed reference (the held-out items: ``share_test``).

    deciles: DataFrame[run_id, decile, pop_min, pop_max, <what>].
    """
    fig = go.Figure()
    first = deciles.drop_duplicates("decile").sort_values("decile")
    ticks = [f"D{int(d)}<br>{int(a)}–{int(b)}" for d, a, b in
             zip(first["decile"], first["pop_min"], first["pop_max"])]
    if reference is not None and len(reference):
        ref = reference.sort_values("decile")
        fig.add_trace(go.Scatter(x=ref["decile"].tolist(), y=ref["share_test"].tolist(),
                                 mode="lines", name="held-out items",
                                 line={"color": _REF, "dash": "dash", "width": 2},
                                 hovertemplate="D%{x}: %{y:.1%}<extra>held-out items</extra>"))
    for r, g in deciles.groupby("run_id", sort=False):
        name = _label(labels, r)
        g = g.sort_values("decile")
        fig.add_trace(go.Scatter(x=g["decile"].tolist(), y=g[what].tolist(), mode="lines+markers",
                                 name=name, line={"color": run_color(r), "width": 2.5},
                                 marker={"size": 7},
                                 hovertemplate="D%{x}: %{y:.1%}<extra>" + name + "</extra>"))
    fig.update_xaxes(title="popularity decile (tick: train users per item)",
                     tickvals=first["decile"].tolist(), ticktext=ticks, tickangle=0,
                     tickfont={"size": 10})
    fig.update_yaxes(title={"share_slots": "share of top-K slots",
                            "share_hits": "share of hits"}.get(what, what),
                     tickformat=".0%", rangemode="tozero")
    fig = _layout(fig, 380)
    if title:
        fig.update_layout(title={"text": title, "font": {"size": 14}, "x": 0, "y": 0.98},
                          margin={"t": 70})
    return fig


def paired_chart(table: pd.DataFrame, labels: dict | None = None,
                 value_title: str = "mean difference (B − A)", clear=None,
                 label_len: int = 24) -> go.Figure:
    """A forest plot: one row per pair, the mean difference B − A with its interval.

    ``clear``: per row, whether the difference is clear (the colour the paired table's
    Verdict follows): filled diamond in B's colour; otherwise hollow grey. Run labels are
    cut at ``label_len`` cells so that the names never push the plot off the chart."""
    df = table.reset_index(drop=True)
    names = [f"{cut(_label(labels, b), label_len)} − {cut(_label(labels, a), label_len)}"
             for a, b in zip(df["run_a"], df["run_b"])]
    clear = [True] * len(df) if clear is None else list(clear)
    fig = go.Figure()
    fig.add_vline(x=0, line={"color": _REF, "width": 1, "dash": "dot"})
    colors = [run_color(b) if c else "#9A9A9A" for b, c in zip(df["run_b"], clear)]
    fig.add_trace(go.Scatter(
        x=df["mean_diff"].tolist(), y=names, mode="markers",
        marker={"color": colors, "size": 12,
                "symbol": ["diamond" if c else "diamond-open" for c in clear]},
        error_x={"type": "data", "array": (df["ci_high"] - df["mean_diff"]).tolist(),
                 "arrayminus": (df["mean_diff"] - df["ci_low"]).tolist(), "color": "#444",
                 "thickness": 1.5},
        hovertemplate="%{y}: %{x:.4f}<extra></extra>", showlegend=False))
    fig.update_xaxes(title=value_title)
    fig.update_yaxes(autorange="reversed", type="category", automargin=True)
    return _layout(fig, 110 + 40 * max(1, len(df)))


def rank_chart(rank_counts: pd.DataFrame, labels: dict | None = None, k: int | None = None) -> go.Figure:
    """Grouped bars: how many users get the item at each rank, per run.

    rank_counts: DataFrame[run_id, rank, n_users].
    """
    fig = go.Figure()
    for r, g in rank_counts.groupby("run_id", sort=False):
        name = _label(labels, r)
        fig.add_trace(go.Bar(x=g["rank"].tolist(), y=g["n_users"].tolist(), name=name,
                             marker_color=run_color(r),
                             hovertemplate="rank %{x}: %{y} users<extra>" + name + "</extra>"))
    kmax = int(k) if k else int(rank_counts["rank"].max()) if len(rank_counts) else 10
    fig.update_xaxes(title="rank in the user's list (1 = top)", range=[0.4, kmax + 0.6], dtick=1)
    fig.update_yaxes(title="users")
    return _layout(fig, 300, barmode="group")
