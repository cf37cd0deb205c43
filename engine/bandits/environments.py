"""Simulated environments: where rewards come from in a simulation.

- ``FixedRates``: each arm is a coin with a given click rate, optionally drifting
  linearly (``drift`` is the change of the rate per 10,000 decisions).
- ``RunArms``: each arm is a recommender run. A decision draws a held-out user
  uniformly; the reward is 1 when the run's top-k list for that user contains one of the
  user's test items. ``hits`` (users x arms, 0/1) is precomputed from the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import DataError

DRIFT_SCALE = 10_000.0


@dataclass
class FixedRates:
    rates: np.ndarray
    drift: np.ndarray | None = None

    def __post_init__(self):
        self.rates = np.asarray(self.rates, dtype=float)
        if self.rates.ndim != 1 or len(self.rates) < 2:
            raise DataError("A simulation needs at least two arms (--arms r1,r2,...).")
        if np.any(self.rates < 0) or np.any(self.rates > 1):
            raise DataError("Every arm rate must be a probability within [0, 1].")
        if self.drift is not None:
            self.drift = np.asarray(self.drift, dtype=float)
            if self.drift.shape != self.rates.shape:
                raise DataError(f"--drift needs one value per arm ({len(self.rates)}), "
                                f"got {len(self.drift)}.")
            if not np.any(self.drift):
                self.drift = None

    @property
    def n_arms(self) -> int:
        return len(self.rates)

    def rates_at(self, steps: np.ndarray) -> np.ndarray:
        """Expected reward of every arm at each decision index: shape (len(steps), K)."""
        steps = np.asarray(steps, dtype=float)
        if self.drift is None:
            return np.broadcast_to(self.rates, (len(steps), len(self.rates)))
        return np.clip(self.rates[None, :] + self.drift[None, :] * steps[:, None] / DRIFT_SCALE,
                       0.0, 1.0)

    def draw(self, arms: np.ndarray, steps: np.ndarray, rng: np.random.Generator):
        """Rewards (0/1 floats), expected rewards of the chosen arms, and users (None)."""
        r = self.rates_at(steps)
        p = r[np.arange(len(arms)), arms]
        return (rng.random(len(arms)) < p).astype(float), p, r.max(axis=1), None


@dataclass
class RunArms:
    hits: np.ndarray          # users x arms, 1.0 when the run's list hits a test item
    user_ids: np.ndarray      # str ids, one per row of hits

    def __post_init__(self):
        self.hits = np.asarray(self.hits, dtype=float)
        if self.hits.ndim != 2 or self.hits.shape[0] == 0:
            raise DataError("Recommender arms need at least one held-out user that every "
                            "run has a list for.")
        if self.hits.shape[1] < 2:
            raise DataError("A simulation needs at least two arms.")
        self.rates = self.hits.mean(axis=0)

    @property
    def n_arms(self) -> int:
        return self.hits.shape[1]

    def rates_at(self, steps: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.rates, (len(steps), self.n_arms))

    def draw(self, arms: np.ndarray, steps: np.ndarray, rng: np.random.Generator):
        users = rng.integers(0, self.hits.shape[0], size=len(arms))
        p = self.rates[arms]
        best = np.full(len(arms), self.rates.max())
        return self.hits[users, arms], p, best, self.user_ids[users]
