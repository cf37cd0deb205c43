"""Plotly figure builders: pure functions of DataFrames (unit-tested, no Streamlit).

Runs keep one colour on every page: ``run_color(run_id)`` picks from a qualitative
palette by run id, so run 3 is the same colour on the Runs, Compare and Item pages.
"""

from __future__ import annotations

import plotly.express as px

from engine.report.text import cut, text_width, wrap

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


# --------------------------------------------------------------------------- Compare page

import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from engine.report.safe import plot, plot_labels  # noqa: E402

#: Neutral colour for lines that connect one item across runs; hits are drawn darker.
_LINK = "#B8B8B8"
_HIT = "#1F1F1F"
#: About how wide (px) a full-width chart is on the page; used to leave room for text.
PLOT_PX = 880


def _short(text, n: int = 22) -> str:
    """``text`` cut at ``n`` characters and made inert for Plotly (``safe.plot``)."""
    return plot("" if text is None else text, n)


def rank_shift_chart(lists, run_ids, labels: dict | None = None, k: int | None = None,
                     label_len: int = 18) -> go.Figure:
    """A bump chart: one column per run, each item at its rank, lines join an item's
    ranks across runs. ``lists``: DataFrame[run_id, rank, item_id, title, hit].

    Markers take the run's colour; hit items (held-out, correctly recommended) get a
    black outline and a thicker dark line; items in only one run stand alone.
    """
    labels = plot_labels(labels)
    run_ids = [int(r) for r in run_ids]
    xpos = {r: i for i, r in enumerate(run_ids)}
    fig = go.Figure()
    df = lists[lists["run_id"].isin(run_ids)]
    hit_items = set(df.loc[df["hit"].astype(bool), "item_id"]) if "hit" in df.columns else set()
    for item_id, g in df.groupby("item_id", sort=True):
        if g["run_id"].nunique() < 2:
            continue
        g = g.sort_values("run_id", key=lambda s: s.map(xpos))
        hit = item_id in hit_items
        fig.add_trace(go.Scatter(
            x=[xpos[int(r)] for r in g["run_id"]], y=g["rank"].tolist(), mode="lines",
            line={"color": _HIT if hit else _LINK, "width": 3 if hit else 1.5},
            hoverinfo="skip", showlegend=False, name=str(item_id)))
    last = len(run_ids) - 1
    widest = 0          # the widest title beside an outer column, in half-width cells
    for r in run_ids:
        g = df[df["run_id"] == r].sort_values("rank")
        hits = (g["hit"].astype(bool) if "hit" in g.columns
                else pd.Series(False, index=g.index)).tolist()
        # titles beside the outer columns only (left of the first, right of the last);
        # inner columns would write over the lines: their titles are in the hover
        outer = xpos[r] in (0, last)
        text = [("✓ " if h else "") + _short(t, label_len) for t, h in zip(g["title"], hits)]
        if outer:
            widest = max([widest] + [text_width(t) for t in text])
        fig.add_trace(go.Scatter(
            x=[xpos[r]] * len(g), y=g["rank"].tolist(),
            mode="markers+text" if outer else "markers",
            name=str(labels.get(r, r)),
            marker={"color": run_color(r), "size": 13,
                    "line": {"color": [_HIT if h else "white" for h in hits],
                             "width": [3 if h else 1 for h in hits]}},
            text=text if outer else None,
            textposition="middle left" if xpos[r] == 0 and last > 0 else "middle right",
            textfont={"size": 11},
            customdata=list(zip(map(plot, g["title"]), map(plot, g["item_id"]))),
            hovertemplate=("<b>%{customdata[0]}</b><br>item %{customdata[1]}<br>rank %{y}"
                           f"<extra>{labels.get(r, r)}</extra>")))
    kmax = int(k) if k else int(df["rank"].max()) if len(df) else 10
    fig.update_yaxes(autorange=False, range=[kmax + 0.6, 0.4], title=None, dtick=1,
                     zeroline=False, showgrid=False, side="left")
    margin = 1.0 if last > 0 else 0.2
    if last > 0:
        # Room for the titles beside the outer columns, so none is cut at the chart's
        # edge. The chart spans the page (about PLOT_PX wide); a half-width cell of the
        # 11 px font takes about 6.5 px. Solve margin * px_per_unit >= need for margin,
        # where px_per_unit = PLOT_PX / (last + 2 * margin).
        need = 6.5 * widest + 16
        margin = max(margin, need * last / max(PLOT_PX - 2 * need, 1.0))
    # Run names above the columns in two lines of at most ``head`` cells: a whole long
    # name centred over the first or last column ran past the chart's edges.
    head = 26 if len(run_ids) <= 3 else 20
    fig.update_xaxes(tickvals=list(range(len(run_ids))),
                     ticktext=[f"<b>{wrap(labels.get(r, r), head)}</b>" for r in run_ids],
                     range=[-margin, last + max(1.0, margin)], showgrid=True, gridcolor="#EEEEEE",
                     zeroline=False, side="top", tickfont={"size": 13})
    fig.update_layout(height=110 + 30 * kmax, margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      showlegend=False, plot_bgcolor="white", hoverlabel={"font_size": 12})
    return fig


def user_metrics_chart(metrics, run_ids, labels: dict | None = None) -> go.Figure:
    """Grouped bars of one user's per-user metrics: DataFrame[run_id, metric, k, value]."""
    labels = plot_labels(labels)
    fig = go.Figure()
    df = metrics.copy()
    df["what"] = df["metric"].astype(str) + "@" + df["k"].astype(int).astype(str)
    order = sorted(df["what"].unique(), key=lambda w: (int(w.split("@")[1]), w))
    for r in [int(x) for x in run_ids]:
        g = df[df["run_id"] == r].set_index("what").reindex(order)
        fig.add_trace(go.Bar(x=order, y=g["value"].tolist(), name=str(labels.get(r, r)),
                             marker_color=run_color(r),
                             hovertemplate="%{x}: %{y:.3f}<extra>" + str(labels.get(r, r)) + "</extra>"))
    fig.update_layout(barmode="group", height=280, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      yaxis={"title": "value for this user", "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.15}, plot_bgcolor="white")
    return fig


def exposure_chart(expo, run_ids, labels: dict | None = None, top: int = 20) -> go.Figure:
    """Horizontal grouped bars: share of users whose top-K holds each of the ``top`` most
    recommended items, per run. ``expo``: wide exposure frame (item_id, title,
    share_<run>...), already sorted by total exposure."""
    labels = plot_labels(labels)
    df = expo.head(int(top)).copy()
    # the id beside every title that reads like another one once cut: plotly draws rows
    # with one name as one row (long titles that differ only at the end were merged)
    short = pd.Series([cut(t, 40) for t in df["title"]])
    dup = short.duplicated(keep=False).tolist()
    names = [plot(f"{cut(t, 36)} ({i})" if d else s, None)
             for t, s, i, d in zip(df["title"], short, df["item_id"], dup)]
    fig = go.Figure()
    for r in [int(x) for x in run_ids]:
        fig.add_trace(go.Bar(y=names, x=df[f"share_{r}"].tolist(), orientation="h",
                             name=str(labels.get(r, r)), marker_color=run_color(r),
                             hovertemplate="%{y}: %{x:.1%} of users<extra>"
                                           + str(labels.get(r, r)) + "</extra>"))
    fig.update_layout(barmode="group", height=120 + 22 * len(df) * max(1, len(run_ids)) // 2,
                      margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"title": "share of users who get it in their top-K", "tickformat": ".0%"},
                      yaxis={"autorange": "reversed"},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
                      plot_bgcolor="white")
    return fig


def rbo_histogram(dis, label_a: str, label_b: str) -> go.Figure:
    """How the per-user RBO of two runs is distributed (0 = disjoint, 1 = identical)."""
    fig = go.Figure(go.Histogram(x=dis["rbo"].tolist(), xbins={"start": 0, "end": 1.05, "size": 0.05},
                                 marker_color="#7F7F7F",
                                 hovertemplate="RBO %{x}: %{y} users<extra></extra>"))
    fig.update_layout(height=220, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      title={"text": f"RBO per user, {plot(label_a)} vs {plot(label_b)}", "font": {"size": 13}},
                      xaxis={"title": "RBO (0 = nothing in common, 1 = same list)", "range": [0, 1.05]},
                      yaxis={"title": "users"}, plot_bgcolor="white", bargap=0.05)
    return fig
