"""viewer.runs_charts: traces carry the right data and every run keeps its colour."""

from __future__ import annotations

import numpy as np
import pandas as pd

from viewer import runs_charts as RC
from viewer.charts import run_color

LABELS = {1: "#1 popularity", 2: "#2 itemknn", 3: "#3 als"}


def test_tradeoff_one_marker_per_run_in_its_colour_skipping_missing():
    pts = pd.DataFrame({"run_id": [1, 2, 3], "coverage@10": [0.1, 0.8, np.nan],
                        "ndcg@10": [0.01, 0.05, 0.06]})
    fig = RC.tradeoff_chart(pts, "coverage@10", "ndcg@10", LABELS)
    assert [t.name for t in fig.data] == ["#1 popularity", "#2 itemknn"]
    assert [t.marker.color for t in fig.data] == [run_color(1), run_color(2)]
    assert fig.data[1].x == (0.8,) and fig.data[1].y == (0.05,)


def test_ecdf_lines_reach_one_and_keep_colours():
    vals = pd.DataFrame({"run_id": [2, 2, 2, 2, 1, 1], "value": [0, 0, 1, 0.5, 0, 1]})
    fig = RC.ecdf_chart(vals, LABELS, "ndcg@10")
    by = {t.name: t for t in fig.data}
    assert set(by) == {"#1 popularity", "#2 itemknn"}
    assert by["#2 itemknn"].line.color == run_color(2)
    y = np.asarray(by["#2 itemknn"].y, dtype=float)
    assert y.max() == 1.0 and sorted(np.asarray(by["#2 itemknn"].x)) == [0, 0, 0.5, 1]


def test_slice_chart_error_bars_are_interval_halves():
    s = pd.DataFrame({"run_id": [1, 1, 2, 2], "slice": ["cold", "warm", "cold", "warm"],
                      "n_users": [3, 5, 3, 5], "mean": [0.2, 0.4, 0.3, 0.1],
                      "ci_low": [0.1, 0.3, 0.25, np.nan], "ci_high": [0.35, 0.5, 0.35, np.nan]})
    fig = RC.slice_chart(s, LABELS)
    t1 = fig.data[0]
    assert t1.marker.color == run_color(1) and list(t1.x) == ["cold", "warm"]
    assert np.allclose(t1.error_y.array, [0.15, 0.1]) and np.allclose(t1.error_y.arrayminus, [0.1, 0.1])
    assert list(fig.data[1].error_y.array)[1] == 0      # no interval -> no bar, not NaN
    assert list(fig.data[1].customdata) == [3, 5]


def test_decile_chart_reference_first_and_ticks_show_popularity_ranges():
    dec = pd.DataFrame({"run_id": [1] * 10, "decile": range(1, 11), "pop_min": range(0, 10),
                        "pop_max": range(1, 11), "share_slots": [0.0] * 9 + [1.0]})
    ref = pd.DataFrame({"decile": range(1, 11), "share_test": [0.1] * 10})
    fig = RC.decile_chart(dec, LABELS, "share_slots", ref)
    assert fig.data[0].name == "held-out items" and fig.data[0].line.dash == "dash"
    assert fig.data[1].line.color == run_color(1) and list(fig.data[1].y)[-1] == 1.0
    assert fig.layout.xaxis.ticktext[9] == "D10<br>9–10"


def test_paired_chart_rows_and_asymmetric_intervals():
    tab = pd.DataFrame({"run_a": [1, 1], "run_b": [2, 3], "mean_diff": [0.05, -0.01],
                        "ci_low": [0.03, -0.02], "ci_high": [0.08, 0.0]})
    fig = RC.paired_chart(tab, LABELS)
    tr = fig.data[0]
    assert list(tr.y) == ["#2 itemknn − #1 popularity", "#3 als − #1 popularity"]
    assert np.allclose(tr.error_x.array, [0.03, 0.01]) and np.allclose(tr.error_x.arrayminus, [0.02, 0.01])
    assert list(tr.marker.color) == [run_color(2), run_color(3)]


def test_rank_chart_bars_per_run():
    rc = pd.DataFrame({"run_id": [2, 2, 3], "rank": [1, 3, 2], "n_users": [4, 1, 7]})
    fig = RC.rank_chart(rc, LABELS, k=10)
    assert [t.name for t in fig.data] == ["#2 itemknn", "#3 als"]
    assert list(fig.data[1].y) == [7] and fig.data[1].marker.color == run_color(3)
    assert tuple(fig.layout.xaxis.range) == (0.4, 10.6)


def test_tradeoff_labels_give_way_to_a_legend_past_eight_runs():
    import pandas as pd

    from viewer.runs_charts import tradeoff_chart

    few = pd.DataFrame({"run_id": [1, 2, 3], "ndcg": [0.1, 0.2, 0.3], "coverage": [0.3, 0.1, 0.2]})
    fig = tradeoff_chart(few, "coverage", "ndcg")
    assert [t.mode for t in fig.data] == ["markers+text"] * 3
    # sorted by x, neighbours alternate above and below
    assert [t.textposition for t in fig.data] == ["top center", "bottom center", "top center"]
    assert [t.x[0] for t in fig.data] == [0.1, 0.2, 0.3] and not fig.layout.showlegend
    many = pd.DataFrame({"run_id": range(1, 11), "ndcg": [0.1] * 10, "coverage": [0.5] * 10})
    fig = tradeoff_chart(many, "coverage", "ndcg")
    assert {t.mode for t in fig.data} == {"markers"} and fig.layout.showlegend
