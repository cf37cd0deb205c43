"""Plotly builders of the Bandits page: pure functions of DataFrames."""

import numpy as np
import pandas as pd
import pytest

from engine.bandits import posterior
from engine.bandits.environments import FixedRates
from engine.bandits.simulation import Spec, simulate
from viewer import bandit_charts as ch
from viewer.charts import PALETTE

ARMS = ["A", "B", "C"]


@pytest.fixture(scope="module")
def snaps():
    res = simulate(Spec(ARMS, "thompson", batch_size=50, seed=0), FixedRates([0.04, 0.05, 0.045]), 1000)
    return res.output.snapshots_df()


def test_arm_colours_follow_the_arm_order():
    assert ch.arm_colors(ARMS) == {"A": PALETTE[0], "B": PALETTE[1], "C": PALETTE[2]}


def test_allocation_shares_stack_to_one(snaps):
    fig = ch.allocation_chart(snaps, ARMS)
    assert [t.name for t in fig.data] == ARMS
    total = np.sum([np.asarray(t.y) for t in fig.data], axis=0)
    assert np.allclose(total, 1.0) and len(total) == 20
    assert fig.data[1].line.color == PALETTE[1]
    assert list(fig.data[0].x) == list(range(50, 1001, 50))


def test_prob_best_and_regret_charts(snaps):
    fig = ch.prob_best_chart(snaps, ARMS, threshold=0.95)
    sums = np.sum([np.asarray(t.y) for t in fig.data], axis=0)
    assert np.allclose(sums, 1.0, atol=1e-9)
    fig = ch.reward_regret_chart(snaps)
    assert [t.name for t in fig.data] == ["reward (arrived)", "expected regret"]
    last = snaps[snaps["batch"] == snaps["batch"].max()]
    assert fig.data[0].y[-1] == pytest.approx(last["rewards"].sum())
    assert fig.data[1].y[-1] == pytest.approx(last["cum_regret"].iloc[0])
    assert fig.data[1].yaxis == "y2"
    assert len(ch.reward_regret_chart(snaps, simulated=False).data) == 1


def test_density_and_leaderboard():
    dens = posterior.density_grid(ARMS, [5, 9, 7], [95, 91, 93])
    fig = ch.density_chart(dens, ARMS, true_rates=[0.04, 0.05, 0.045])
    assert len(fig.data) == 3 and len(fig.layout.shapes) == 3
    summ = posterior.summarize(ARMS, [5, 9, 7], [95, 91, 93]).assign(arm_index=[0, 1, 2])
    fig = ch.leaderboard_chart(summ.assign(true_rate=[0.04, 0.05, 0.045]))
    assert list(fig.data[0].y) == ["A", "C", "B"]          # best mean on top
    assert fig.data[0].marker.color == (PALETTE[0], PALETTE[2], PALETTE[1])
    assert np.allclose(fig.data[0].error_x.array, summ.set_index("arm").loc[["A", "C", "B"], "hi"]
                       - summ.set_index("arm").loc[["A", "C", "B"], "mean"])


def test_empty_inputs_give_a_note_not_an_error():
    empty = pd.DataFrame()
    for fig in (ch.allocation_chart(empty, ARMS), ch.prob_best_chart(empty, ARMS),
                ch.reward_regret_chart(empty), ch.density_chart(empty, ARMS),
                ch.period_chart(empty, empty, ARMS)):
        assert len(fig.data) == 0 and fig.layout.annotations[0].text == "No batches yet."
