"""Posterior summaries of Bernoulli arms with Beta posteriors.

Every arm k has a Beta(alpha_k, beta_k) posterior over its reward rate: the prior
(Beta(1, 1) unless set) plus the rewards that have arrived. From these:

- mean and 95% credible interval (scipy.stats.beta);
- probability of being best: exact for two arms (Evan Miller's closed-form sum when
  the second arm's alpha is an integer, numerical integration otherwise), Monte Carlo
  with a fixed seed for more arms;
- expected loss of choosing an arm: E[max_j theta_j - theta_k], Monte Carlo with the
  same draws (for two arms as well: no closed form in scipy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import integrate, special, stats

#: Fixed seed of the Monte Carlo summaries, so the same posteriors give the same numbers.
MC_SEED = 20240611
MC_DRAWS = 20_000


def _as_arrays(alpha, beta) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError("alpha and beta must be 1-d arrays of the same, non-zero length")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("Beta parameters must be positive")
    return a, b


def prob_b_beats_a_closed_form(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """P(theta_B > theta_A) for theta_A ~ Beta(a_a, b_a), theta_B ~ Beta(a_b, b_b).

    Evan Miller's sum (https://www.evanmiller.org/bayesian-ab-testing.html), which needs
    an integer ``a_b``: sum_{i=0}^{a_b-1} B(a_a+i, b_a+b_b) / ((b_b+i) B(1+i, b_b) B(a_a, b_a)).
    Terms are computed in log space so that thousands of successes do not overflow.
    """
    if float(a_b) != int(a_b):
        raise ValueError("the closed form needs an integer alpha for arm B")
    i = np.arange(int(a_b), dtype=float)
    log_terms = (special.betaln(a_a + i, b_a + b_b) - np.log(b_b + i)
                 - special.betaln(1 + i, b_b) - special.betaln(a_a, b_a))
    return float(np.clip(np.exp(special.logsumexp(log_terms)), 0.0, 1.0))


def prob_b_beats_a_quad(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """The same probability by integrating pdf_B(x) * cdf_A(x) over [0, 1] (scipy quad)."""
    dist_a, dist_b = stats.beta(a_a, b_a), stats.beta(a_b, b_b)
    # Integrate where B has its mass: the posteriors can be very narrow.
    lo, hi = dist_b.ppf(1e-12), dist_b.isf(1e-12)
    val, _ = integrate.quad(lambda x: dist_b.pdf(x) * dist_a.cdf(x), lo, hi, limit=200,
                            points=[dist_b.mean()])
    # The mass of B outside [lo, hi] is below 2e-12.
    return float(np.clip(val, 0.0, 1.0))


def prob_b_beats_a(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """Exact two-arm probability: closed form when possible, else quadrature."""
    if float(a_b) == int(a_b) and a_b <= 200_000:
        return prob_b_beats_a_closed_form(a_a, b_a, a_b, b_b)
    if float(a_a) == int(a_a) and a_a <= 200_000:
        return 1.0 - prob_b_beats_a_closed_form(a_b, b_b, a_a, b_a)
    return prob_b_beats_a_quad(a_a, b_a, a_b, b_b)


def posterior_draws(alpha, beta, n_draws: int = MC_DRAWS, seed: int = MC_SEED) -> np.ndarray:
    a, b = _as_arrays(alpha, beta)
    rng = np.random.default_rng(seed)
    return rng.beta(a, b, size=(n_draws, len(a)))


def prob_best(alpha, beta, n_draws: int = MC_DRAWS, seed: int = MC_SEED,
              exact_two: bool = True) -> np.ndarray:
    """Probability that each arm has the highest rate (exact for two arms)."""
    a, b = _as_arrays(alpha, beta)
    if len(a) == 1:
        return np.ones(1)
    if len(a) == 2 and exact_two:
        p1 = prob_b_beats_a(a[0], b[0], a[1], b[1])
        return np.array([1.0 - p1, p1])
    draws = posterior_draws(a, b, n_draws, seed)
    counts = np.bincount(draws.argmax(axis=1), minlength=len(a))
    return counts / n_draws


def expected_loss(alpha, beta, n_draws: int = MC_DRAWS, seed: int = MC_SEED) -> np.ndarray:
    """E[max_j theta_j - theta_k] for each arm k: what choosing k costs in expectation."""
    draws = posterior_draws(alpha, beta, n_draws, seed)
    return (draws.max(axis=1, keepdims=True) - draws).mean(axis=0)


def summarize(arms: list[str], alpha, beta, level: float = 0.95,
              n_draws: int = MC_DRAWS, seed: int = MC_SEED) -> pd.DataFrame:
    """One row per arm: arm, alpha, beta, mean, lo, hi, prob_best, expected_loss."""
    a, b = _as_arrays(alpha, beta)
    tail = (1.0 - level) / 2.0
    draws = posterior_draws(a, b, n_draws, seed)  # one set of draws for both summaries
    if len(a) <= 2:
        pbest = prob_best(a, b)
    else:
        pbest = np.bincount(draws.argmax(axis=1), minlength=len(a)) / n_draws
    return pd.DataFrame({
        "arm": [str(x) for x in arms],
        "alpha": a, "beta": b,
        "mean": a / (a + b),
        "lo": stats.beta.ppf(tail, a, b),
        "hi": stats.beta.ppf(1.0 - tail, a, b),
        "prob_best": pbest,
        "expected_loss": (draws.max(axis=1, keepdims=True) - draws).mean(axis=0),
    })


def density_grid(arms: list[str], alpha, beta, n_points: int = 300) -> pd.DataFrame:
    """Posterior densities on a shared grid that covers every arm's mass: arm, x, density."""
    a, b = _as_arrays(alpha, beta)
    lo = float(np.min(stats.beta.ppf(0.0005, a, b)))
    hi = float(np.max(stats.beta.ppf(0.9995, a, b)))
    pad = 0.05 * (hi - lo)
    x = np.linspace(max(0.0, lo - pad), min(1.0, hi + pad), n_points)
    frames = [pd.DataFrame({"arm": str(name), "x": x, "density": stats.beta.pdf(x, ak, bk)})
              for name, ak, bk in zip(arms, a, b)]
    return pd.concat(frames, ignore_index=True)
