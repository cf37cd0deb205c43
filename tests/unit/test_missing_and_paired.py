"""Missing values read as an em dash (viewer/format.py), and the paired-tests table never
reads as a contradiction (viewer/runs_view.paired_display): hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.evaluate.stats import holm
from viewer import format as F
from viewer.runs_view import paired_display

LABELS = {1: "#1 popularity", 2: "#2 itemknn", 3: "#3 als", 4: "#4 bpr"}


def _tab(rows):
    cols = ["run_a", "run_b", "n", "mean_a", "mean_b", "mean_diff", "ci_low", "ci_high",
            "p_value_t", "p_value_wilcoxon", "p_holm", "p_holm_wilcoxon", "wins", "ties", "losses"]
    return pd.DataFrame(rows, columns=cols)


def test_interval_excluding_zero_beside_a_large_holm_p_is_labelled_not_contradictory():
    # three pairs, raw t p-values 0.06, 0.2, 0.5; Holm by hand: sorted, times (3, 2, 1),
    # running max -> 0.18, 0.40, 0.50 (the case: an interval excluding 0 beside 0.18)
    raw = [0.06, 0.2, 0.5]
    hand = [0.18, 0.40, 0.50]
    assert holm(raw) == pytest.approx(hand)
    tab = _tab([
        (1, 2, 100, 0.10, 0.116, 0.016, 0.002, 0.030, 0.06, 0.05, 0.18, 0.15, 30, 60, 10),
        (1, 3, 100, 0.10, 0.11, 0.01, -0.004, 0.024, 0.2, 0.3, 0.40, 0.6, 20, 60, 20),
        (2, 3, 100, 0.11, 0.112, 0.002, -0.010, 0.014, 0.5, 0.6, 0.50, 0.6, 15, 70, 15),
    ])
    main, details = paired_display(tab, LABELS)
    row = main.iloc[0]
    assert row["95% interval (unadjusted)"] == "[+0.0020, +0.0300]"
    assert (row["p (t-test)"], row["p Holm (t)"]) == ("0.0600", "0.1800")   # side by side
    assert row["Verdict"] == "○ not clear †"        # the interval alone excludes 0: dagger
    assert main["Verdict"].tolist()[1:] == ["○ not clear", "○ not clear"]
    # the adjusted p and the raw p are neighbours in the table
    cols = list(main.columns)
    assert cols.index("p Holm (t)") == cols.index("p (t-test)") + 1
    assert details["p Holm (Wilcoxon)"].tolist() == ["0.1500", "0.6000", "0.6000"]


def test_verdict_follows_holm_with_several_pairs_and_raw_p_with_one():
    # two pairs: raw 0.001 and 0.2 -> Holm 0.002 and 0.2
    tab = _tab([
        (1, 2, 50, 0.1, 0.2, 0.1, 0.05, 0.15, 0.001, 0.002, 0.002, 0.004, 30, 15, 5),
        (3, 4, 50, 0.1, 0.12, 0.02, -0.01, 0.05, 0.2, 0.3, 0.2, 0.3, 20, 10, 20),
    ])
    main, _ = paired_display(tab, LABELS)
    assert main["Verdict"].tolist() == ["● B better", "○ not clear"]
    # one pair with raw p 0.03: clear, though its Holm column is absent
    one, details = paired_display(tab.iloc[[1]].assign(p_value_t=0.03, p_holm=0.03), LABELS)
    assert one["Verdict"].tolist() == ["● B better"] and "p Holm (t)" not in one.columns
    assert "p Holm (Wilcoxon)" not in details.columns


def test_a_pair_without_users_in_common_shows_dashes_not_nan():
    nan = float("nan")
    tab = _tab([(1, 2, 1, 0.1, 0.2, 0.1, nan, nan, nan, nan, nan, nan, 1, 0, 0)])
    main, details = paired_display(tab, LABELS)
    text = " ".join(map(str, main.iloc[0].tolist() + details.iloc[0].tolist()))
    assert "nan" not in text.lower() and "None" not in text
    assert main.iloc[0]["Verdict"] == "— no test" and main.iloc[0]["p (t-test)"] == "—"


def test_long_run_labels_are_cut_in_the_table():
    labels = {1: "#1 " + "x" * 100, 2: "#2 " + "東" * 50}
    tab = _tab([(1, 2, 5, 0.1, 0.2, 0.1, 0.0, 0.2, 0.5, 0.5, 0.5, 0.5, 1, 3, 1)])
    main, _ = paired_display(tab, labels)
    assert main["A"].iloc[0] == "#1 " + "x" * 12 + "…"          # 16 cells
    assert main["B"].iloc[0] == "#2 " + "東" * 6 + "…"          # 3 + 12 + 1 = 16 cells


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NaT, pd.NA])
def test_missing_values_read_as_an_em_dash(value):
    assert F.fmt(value, "%.2f") == "—" and F.is_missing(value)


def test_fmt_formats_numbers_and_dates():
    assert F.fmt(0.12345, "%.2f") == "0.12" and F.fmt(3.0, "%d") == "3"
    assert F.fmt(12.5, "%.1f%%") == "12.5%" and F.fmt(1234, ",d") == "1,234"
    assert F.fmt(pd.Timestamp("2024-05-01 12:30")) == "2024-05-01"
    assert F.fmt_column([1.0, math.nan], "%.1f") == ["1.0", "—"]
    assert not F.is_missing([1, 2]) and not F.is_missing("")


def test_fmt_frame_has_no_nan_text():
    df = pd.DataFrame({"a": [1.5, np.nan], "b": [None, "x"], "t": [pd.NaT, pd.Timestamp("2024-01-02")]})
    out = F.fmt_frame(df)
    assert out.values.tolist() == [["1.5", "—", "—"], ["—", "x", "2024-01-02"]]


def test_cut_and_wrap_count_wide_characters_twice():
    assert F.text_width("abc東京") == 7
    assert F.cut("東京都渋谷区", 7) == "東京都…" and F.cut("short", 10) == "short"
    assert F.wrap("popularity-production-candidate-2024", 20) == "popularity-<br>production-candidat…"
    assert F.wrap("#1 als", 20) == "#1 als"


def test_kendall_tau_without_shared_items_is_a_dash_with_the_reason():
    from viewer.components import dash_numbers

    table = pd.DataFrame({"Shared": [0, 4], "Kendall τ": [None, 0.5]})
    cfg = dash_numbers(table, {"Shared": "%d", "Kendall τ": "%.2f"},
                       why={"Kendall τ": F.WHY["no_shared"]})
    assert table["Kendall τ"].tolist() == ["—", "0.50"]
    assert table["Shared"].tolist() == [0, 4]                   # no gap: stays a number
    assert "shared" in cfg["Kendall τ"]["help"]
    assert cfg["Shared"]["type_config"]["type"] == "number"


def test_threshold_histogram_has_a_clean_log_axis():
    from viewer.reviews_view import score_hist_figure

    fig = score_hist_figure(pd.Series([0.1, 0.2, 0.2, 0.9]), 0.5)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1   # 1, 10, 100
