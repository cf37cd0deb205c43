"""Figure builders of viewer/tuning_charts.py and the Pareto helper of viewer/tuning_view.py."""

from __future__ import annotations

import pandas as pd
import pytest

from viewer import tuning_charts as C
from viewer.tuning_view import pareto_numbers

TRIALS = pd.DataFrame({
    "number": [0, 1, 2, 3, 4],
    "state": ["COMPLETE", "PRUNED", "COMPLETE", "COMPLETE", "COMPLETE"],
    "value": [0.2, None, 0.1, 0.3, 0.25],
    "v0": [0.2, None, 0.1, 0.3, 0.25],
    "v1": [0.5, None, 0.9, 0.2, 0.6],
    "p_lr": [0.01, 0.1, 0.001, 0.05, 0.02],
    "p_factors": [8, 16, 32, 64, 128],
})


def test_history_best_so_far_skips_pruned_trials():
    fig = C.history_chart(TRIALS, "ndcg@10", maximize=True)
    assert list(fig.data[0].x) == [0, 2, 3, 4]
    assert list(fig.data[1].y) == [0.2, 0.2, 0.3, 0.3]
    low = C.history_chart(TRIALS, "gini@10", maximize=False)
    assert list(low.data[1].y) == [0.2, 0.1, 0.1, 0.1]


def test_param_scatter_log_axis_and_colour():
    fig = C.param_scatter(TRIALS, "lr", "ndcg@10", colour="factors", log_x=True)
    assert fig.layout.xaxis.type == "log"
    assert list(fig.data[0].marker.color) == [8, 32, 64, 128]


def test_pareto_front_by_hand():
    # (0.2, .5) is beaten by (0.25, .6); (0.1, .9), (0.3, .2), (0.25, .6) are not beaten
    assert sorted(pareto_numbers(TRIALS, ["maximize", "maximize"])) == [2, 3, 4]
    fig = C.pareto_chart(TRIALS, ["ndcg@10", "coverage@10"], [2, 3, 4])
    assert list(fig.data[1].x) == [0.1, 0.25, 0.3] and list(fig.data[1].y) == [0.9, 0.6, 0.2]


def test_folds_chart_error_bars_are_the_interval():
    values = pd.DataFrame({"algorithm": ["a"] * 3, "fold_group": 1, "value": [0.1, 0.2, 0.3]})
    summary = pd.DataFrame({"algorithm": ["a"], "fold_group": [1], "n_folds": [3],
                            "mean": [0.2], "ci_low": [0.15], "ci_high": [0.3]})
    fig = C.folds_chart(values, summary, "ndcg@10")
    assert list(fig.data[0].y) == [0.1, 0.2, 0.3]
    assert fig.data[1].error_y.array[0] == pytest.approx(0.1)
    assert fig.data[1].error_y.arrayminus[0] == pytest.approx(0.05)
