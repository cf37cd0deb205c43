"""Posterior summaries: exact two-arm probability, Monte Carlo, intervals, expected loss."""

import numpy as np
import pytest
from scipy import integrate, stats

from engine.bandits import posterior

CASES = [(1, 1, 2, 1), (3, 5, 2, 7), (41, 961, 51, 951), (120, 2400, 131, 2390),
         (5, 95, 5, 95), (1, 1, 1, 1)]


def test_hand_computed_case():
    # A ~ U(0,1), B ~ Beta(2,1) with density 2x: P(B > A) = int_0^1 2x * x dx = 2/3.
    assert posterior.prob_b_beats_a_closed_form(1, 1, 2, 1) == pytest.approx(2 / 3, abs=1e-12)
    assert posterior.prob_b_beats_a_quad(1, 1, 2, 1) == pytest.approx(2 / 3, abs=1e-9)
    # Symmetric posteriors: one half.
    assert posterior.prob_b_beats_a(5, 95, 5, 95) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("a_a,b_a,a_b,b_b", CASES)
def test_closed_form_matches_quadrature(a_a, b_a, a_b, b_b):
    cf = posterior.prob_b_beats_a_closed_form(a_a, b_a, a_b, b_b)
    q = posterior.prob_b_beats_a_quad(a_a, b_a, a_b, b_b)
    assert cf == pytest.approx(q, abs=1e-7)


@pytest.mark.parametrize("a_a,b_a,a_b,b_b", CASES)
def test_two_arm_monte_carlo_within_001_of_exact(a_a, b_a, a_b, b_b):
    """Done-means: two-arm probability best matches the exact Beta formula within 0.01."""
    exact = posterior.prob_best([a_a, a_b], [b_a, b_b])          # exact path
    mc = posterior.prob_best([a_a, a_b], [b_a, b_b], exact_two=False)
    assert exact[1] == pytest.approx(posterior.prob_b_beats_a_quad(a_a, b_a, a_b, b_b), abs=1e-7)
    assert np.abs(mc - exact).max() < 0.01
    assert exact.sum() == pytest.approx(1.0)


def test_non_integer_priors_use_quadrature():
    p = posterior.prob_b_beats_a(2.5, 10.5, 3.5, 9.5)
    assert p == pytest.approx(posterior.prob_b_beats_a_quad(2.5, 10.5, 3.5, 9.5), abs=1e-12)
    d = posterior.posterior_draws([2.5, 3.5], [10.5, 9.5], 400_000, seed=3)
    assert p == pytest.approx((d[:, 1] > d[:, 0]).mean(), abs=0.003)


def test_monte_carlo_is_seeded():
    a, b = [10, 12, 11], [90, 88, 89]
    assert np.array_equal(posterior.prob_best(a, b), posterior.prob_best(a, b))


def test_summary_interval_and_mean_from_scipy():
    s = posterior.summarize(["x", "y"], [11, 21], [91, 81])
    assert s.loc[0, "mean"] == pytest.approx(11 / 102)
    assert s.loc[1, "lo"] == pytest.approx(stats.beta.ppf(0.025, 21, 81))
    assert s.loc[1, "hi"] == pytest.approx(stats.beta.ppf(0.975, 21, 81))
    assert list(s["arm"]) == ["x", "y"]


def test_expected_loss_matches_double_integral():
    # Loss of choosing A = E[(B - A)+] = int int (y - x)+ f_A(x) f_B(y) dx dy.
    fa, fb = stats.beta(2, 3), stats.beta(3, 2)
    loss_a, _ = integrate.dblquad(lambda x, y: (y - x) * fa.pdf(x) * fb.pdf(y), 0, 1, 0, lambda y: y)
    loss_b, _ = integrate.dblquad(lambda y, x: (x - y) * fa.pdf(x) * fb.pdf(y), 0, 1, 0, lambda x: x)
    el = posterior.expected_loss([2, 3], [3, 2], n_draws=400_000)
    assert el[0] == pytest.approx(loss_a, abs=0.002)
    assert el[1] == pytest.approx(loss_b, abs=0.002)
    # E[max] - E[A] - (E[max] - E[B]) = E[B] - E[A] = 0.6 - 0.4
    assert el[0] - el[1] == pytest.approx(0.2, abs=0.002)


def test_density_grid_integrates_to_one():
    g = posterior.density_grid(["a", "b"], [41, 51], [961, 951])
    for _, part in g.groupby("arm"):
        assert np.trapezoid(part["density"], part["x"]) == pytest.approx(1.0, abs=0.01)
