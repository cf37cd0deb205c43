"""Bernoulli bandit policies that allocate a whole batch at once, as in production.

A policy sees only the rewards that have arrived (its Beta posteriors / counts) at the
start of a batch and returns, for each decision of the batch, the chosen arm and its
propensity: the probability with which the policy chose that arm. The policy is only
updated between batches; the batch index is its version.

Written by hand: the well-kept bandit libraries (e.g. obp, mabwiser) are not
dependencies of this project and each policy is a few lines of numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.bandits.posterior import prob_best
from engine.errors import DataError

POLICIES = ("thompson", "ucb1", "epsilon_greedy", "uniform")

#: Monte Carlo draws used for Thompson sampling's logged propensities.
PROPENSITY_DRAWS = 4000


@dataclass
class BatchDecision:
    arms: np.ndarray          # int index per decision
    propensities: np.ndarray  # probability the policy had of choosing that arm
    intended: np.ndarray      # per arm: probability of choosing it for one decision


def check_policy(name: str, params: dict | None = None) -> dict:
    """Validate a policy name and its parameters; return the parameters with defaults."""
    params = dict(params or {})
    if name not in POLICIES:
        raise DataError(f"Unknown policy {name!r}; expected one of {', '.join(POLICIES)}.")
    if name == "epsilon_greedy":
        eps = float(params.get("epsilon", 0.1))
        if not 0.0 <= eps <= 1.0:
            raise DataError(f"Parameter epsilon must be within [0, 1], got {eps}.")
        params["epsilon"] = eps
    return params


def allocate(policy: str, alpha: np.ndarray, beta: np.ndarray, successes: np.ndarray,
             n_obs: np.ndarray, batch: int, rng: np.random.Generator, params: dict | None = None,
             propensity_seed: int = 0, with_propensity: bool = True) -> BatchDecision:
    """Choose ``batch`` arms given the posteriors Beta(alpha, beta).

    ``successes`` and ``n_obs`` count the rewards that have arrived per arm (UCB1 uses
    them; the other policies use the posteriors).
    """
    params = params or {}
    k = len(alpha)
    if policy == "uniform":
        arms = rng.integers(0, k, size=batch)
        intended = np.full(k, 1.0 / k)
    elif policy == "thompson":
        # One posterior draw per decision; the arm with the largest draw is chosen.
        arms = rng.beta(alpha, beta, size=(batch, k)).argmax(axis=1)
        intended = (prob_best(alpha, beta, n_draws=PROPENSITY_DRAWS, seed=propensity_seed)
                    if with_propensity else np.full(k, np.nan))
    elif policy == "epsilon_greedy":
        eps = float(params.get("epsilon", 0.1))
        means = alpha / (alpha + beta)
        best = np.flatnonzero(means == means.max())
        intended = np.full(k, eps / k)
        intended[best] += (1.0 - eps) / len(best)  # ties share the greedy mass
        arms = rng.choice(k, size=batch, p=intended)
    elif policy == "ucb1":
        # UCB1 (Auer et al. 2002) made batch-aware: within a batch the means stay fixed
        # (no new rewards) but each assignment counts as a pull, so the bonus of an arm
        # shrinks as it fills and the batch spreads over near-tied arms. Deterministic.
        n = n_obs.astype(float).copy()
        means = np.where(n > 0, successes / np.maximum(n, 1), 0.0)
        arms = np.empty(batch, dtype=int)
        total = n.sum()
        for i in range(batch):
            if np.any(n == 0):
                j = int(np.flatnonzero(n == 0)[0])
            else:
                j = int(np.argmax(means + np.sqrt(2.0 * np.log(total) / n)))
            arms[i] = j
            n[j] += 1
            total += 1
        intended = np.bincount(arms, minlength=k) / batch
        return BatchDecision(arms, np.ones(batch), intended)
    else:
        raise DataError(f"Unknown policy {policy!r}; expected one of {', '.join(POLICIES)}.")
    return BatchDecision(arms.astype(int), intended[arms], intended)
