"""viewer/charts.py: the Compare page's figures are pure functions of DataFrames."""

from __future__ import annotations

import pandas as pd

from viewer import charts


def _lists():
    # run 1: a b c ; run 2: b d a   (a and b in both; c only run 1; d only run 2; a is a hit)
    return pd.DataFrame({
        "run_id": [1, 1, 1, 2, 2, 2], "rank": [1, 2, 3, 1, 2, 3],
        "item_id": ["a", "b", "c", "b", "d", "a"],
        "title": ["看護師", "倉庫内ピッキング作業（長い名前のお仕事です）", "c", "倉庫", "d", "看護師"],
        "hit": [True, False, False, False, False, True]})


def test_run_color_is_stable_and_distinct():
    assert charts.run_color(3) == charts.run_color(3)
    assert len({charts.run_color(r) for r in range(1, 9)}) == 8


def test_rank_shift_chart_lines_markers_and_colours():
    fig = charts.rank_shift_chart(_lists(), [1, 2], {1: "#1 als", 2: "#2 pop"}, k=3)
    lines = [t for t in fig.data if t.mode == "lines"]
    markers = [t for t in fig.data if t.mode and t.mode.startswith("markers")]
    # one line per item in both runs (a, b); c and d stand alone
    assert sorted(t.name for t in lines) == ["a", "b"]
    a_line = next(t for t in lines if t.name == "a")
    assert list(a_line.x) == [0, 1] and list(a_line.y) == [1, 3]
    assert a_line.line.color == charts._HIT and a_line.line.width == 3
    assert [t.name for t in markers] == ["#1 als", "#2 pop"]
    assert markers[0].marker.color == charts.run_color(1)
    assert markers[1].marker.color == charts.run_color(2)
    assert markers[0].text[0] == "✓ 看護師"                 # hit marked, Japanese kept
    assert markers[0].text[1].endswith("…") and len(markers[0].text[1]) == 18
    assert list(fig.layout.yaxis.range) == [3.6, 0.4]       # rank 1 on top
    assert list(fig.layout.xaxis.ticktext) == ["<b>#1 als</b>", "<b>#2 pop</b>"]
    assert markers[0].textposition == "middle left" and markers[1].textposition == "middle right"


def test_rank_shift_chart_follows_requested_run_order():
    fig = charts.rank_shift_chart(_lists(), [2, 1], {1: "A", 2: "B"}, k=3)
    a_line = next(t for t in fig.data if t.mode == "lines" and t.name == "a")
    assert list(a_line.y) == [3, 1]                          # run 2 first now
    assert list(fig.layout.xaxis.ticktext) == ["<b>B</b>", "<b>A</b>"]


def test_rank_shift_chart_labels_only_outer_columns():
    lists = pd.concat([_lists(), _lists().query("run_id == 2").assign(run_id=3)])
    fig = charts.rank_shift_chart(lists, [1, 2, 3], k=3)
    modes = [t.mode for t in fig.data if t.mode != "lines"]
    assert modes == ["markers+text", "markers", "markers+text"]


def test_user_metrics_chart_groups_by_metric_and_colours_runs():
    m = pd.DataFrame({"run_id": [1, 1, 2, 2], "metric": ["ndcg", "recall", "ndcg", "recall"],
                      "k": [10, 10, 10, 10], "value": [0.5, 1.0, 0.0, 0.25]})
    fig = charts.user_metrics_chart(m, [1, 2], {1: "A", 2: "B"})
    assert [t.name for t in fig.data] == ["A", "B"]
    assert list(fig.data[1].x) == ["ndcg@10", "recall@10"] and list(fig.data[1].y) == [0.0, 0.25]
    assert fig.data[0].marker.color == charts.run_color(1)


def test_exposure_chart_top_items_and_duplicate_titles():
    expo = pd.DataFrame({"item_id": ["x", "y", "z"], "title": ["同じ", "同じ", "別"],
                         "share_1": [0.5, 0.2, 0.1], "share_2": [0.1, 0.3, 0.0]})
    fig = charts.exposure_chart(expo, [1, 2], {1: "A", 2: "B"}, top=2)
    assert list(fig.data[0].y) == ["同じ (x)", "同じ (y)"]    # same title told apart by id
    assert list(fig.data[1].x) == [0.1, 0.3]
    assert fig.data[1].marker.color == charts.run_color(2)


def test_rbo_histogram_uses_all_values():
    fig = charts.rbo_histogram(pd.DataFrame({"rbo": [0.1, 0.2, 0.9]}), "A", "B")
    assert list(fig.data[0].x) == [0.1, 0.2, 0.9]
    assert "A vs B" in fig.layout.title.text
