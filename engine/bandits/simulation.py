"""The bandit loop, in memory: allocate a batch, draw rewards, reveal the ones that
have arrived, update the posteriors, take a snapshot. Repeat.

The same function advances a quick CLI simulation (thousands of batches, written once at
the end) and a stored experiment that the page steps one batch at a time: its state is
rebuilt from the store, advanced, and the new rows written in one short transaction.
Batch ``b`` uses its own generator ``default_rng([seed, b])``, so an experiment stepped
batch by batch gives the same decisions as one simulated in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.bandits import posterior
from engine.bandits.policies import allocate, check_policy
from engine.errors import DataError


@dataclass
class Spec:
    arms: list[str]
    policy: str = "thompson"
    policy_params: dict = field(default_factory=dict)
    batch_size: int = 100
    seed: int = 0
    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    delay: int = 0            # batches before a decision's reward arrives

    def __post_init__(self):
        self.arms = [str(a) for a in self.arms]
        if len(self.arms) < 2:
            raise DataError("An experiment needs at least two arms.")
        if len(set(self.arms)) != len(self.arms):
            raise DataError("Arm names must be distinct.")
        if int(self.batch_size) < 1:
            raise DataError(f"--batch must be a positive integer, got {self.batch_size}.")
        if self.prior_alpha <= 0 or self.prior_beta <= 0:
            raise DataError("The Beta prior's parameters must be positive.")
        if int(self.delay) < 0:
            raise DataError("The reward delay must be zero or more batches.")
        self.batch_size = int(self.batch_size)
        self.delay = int(self.delay)
        self.policy_params = check_policy(self.policy, self.policy_params)


@dataclass
class State:
    """What the policy knows after ``n_batches`` batches."""
    successes: np.ndarray     # rewards that arrived, per arm
    n_obs: np.ndarray         # decisions whose reward arrived, per arm
    pulls: np.ndarray         # all decisions, per arm
    n_batches: int = 0
    n_steps: int = 0
    cum_regret: float = 0.0
    next_event_id: int = 0
    # decisions whose reward has not arrived: (batch, arms, outcomes)
    pending: list = field(default_factory=list)

    @classmethod
    def empty(cls, k: int) -> "State":
        z = np.zeros(k)
        return cls(z.copy(), z.copy(), z.copy())

    def posterior(self, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
        return (spec.prior_alpha + self.successes,
                spec.prior_beta + self.n_obs - self.successes)


@dataclass
class Output:
    events: list = field(default_factory=list)      # DataFrames of new decisions
    snapshots: list = field(default_factory=list)   # DataFrames, one per batch
    reveal_through: int = -1                        # batches <= this have their rewards

    def events_df(self) -> pd.DataFrame:
        return pd.concat(self.events, ignore_index=True) if self.events else pd.DataFrame()

    def snapshots_df(self) -> pd.DataFrame:
        return pd.concat(self.snapshots, ignore_index=True) if self.snapshots else pd.DataFrame()


def _reveal(state: State, through: int) -> None:
    keep = []
    for b, arms, outcomes in state.pending:
        if b <= through:
            k = len(state.successes)
            state.successes += np.bincount(arms, weights=outcomes, minlength=k)
            state.n_obs += np.bincount(arms, minlength=k)
        else:
            keep.append((b, arms, outcomes))
    state.pending = keep


def advance(spec: Spec, env, state: State, n_batches: int, record: bool = True,
            max_steps: int | None = None) -> Output:
    """Run ``n_batches`` batches (fewer if ``max_steps`` decisions are reached).

    With ``record`` the output holds one row per decision (batch, step, arm, propensity,
    outcome, expected reward, user) and one snapshot row per arm and batch; without it
    only ``state`` is updated (fast: for benchmarks and regret curves).
    """
    out = Output()
    k = len(spec.arms)
    if env.n_arms != k:
        raise DataError(f"The experiment has {k} arms but its environment has {env.n_arms}.")
    for _ in range(n_batches):
        size = spec.batch_size
        if max_steps is not None:
            size = min(size, max_steps - state.n_steps)
            if size <= 0:
                break
        b = state.n_batches
        rng = np.random.default_rng([spec.seed, b])
        alpha, beta = state.posterior(spec)
        dec = allocate(spec.policy, alpha, beta, state.successes, state.n_obs, size, rng,
                       spec.policy_params, propensity_seed=spec.seed * 100_003 + b,
                       with_propensity=record)
        steps = state.n_steps + np.arange(size)
        outcomes, expected, best, users = env.draw(dec.arms, steps, rng)
        batch_regret = float(np.sum(best - expected))
        state.cum_regret += batch_regret
        state.pulls += np.bincount(dec.arms, minlength=k)
        state.pending.append((b, dec.arms, outcomes))
        if record:
            out.events.append(pd.DataFrame({
                "event_id": state.next_event_id + np.arange(size, dtype=np.int64),
                "batch": b, "step": steps.astype(np.int64),
                "arm_index": dec.arms.astype(np.int16),
                "arm": np.asarray(spec.arms, dtype=object)[dec.arms],
                "propensity": dec.propensities, "policy_version": b,
                "outcome": outcomes, "expected_reward": expected,
                "user_id": users if users is not None else None,
            }))
        state.next_event_id += size
        state.n_steps += size
        state.n_batches += 1
        _reveal(state, b - spec.delay)
        out.reveal_through = b - spec.delay
        if record:
            a2, b2 = state.posterior(spec)
            summ = posterior.summarize(spec.arms, a2, b2)
            batch_pulls = np.bincount(dec.arms, minlength=k)
            out.snapshots.append(pd.DataFrame({
                "batch": b, "arm_index": np.arange(k, dtype=np.int16), "arm": spec.arms,
                "alpha": a2, "beta": b2, "pulls": state.pulls.copy(),
                "rewards": state.successes.copy(), "n_obs": state.n_obs.copy(),
                "mean": summ["mean"].to_numpy(), "lo": summ["lo"].to_numpy(),
                "hi": summ["hi"].to_numpy(),
                "prob_best": summ["prob_best"].to_numpy(),
                "expected_loss": summ["expected_loss"].to_numpy(),
                "intended_share": dec.intended, "batch_pulls": batch_pulls,
                "cum_regret": state.cum_regret, "n_steps": state.n_steps,
            }))
    return out


@dataclass
class SimResult:
    arms: list[str]
    pulls: np.ndarray
    rewards: np.ndarray       # arrived rewards per arm
    regret: float
    prob_best: np.ndarray
    state: State
    output: Output


def simulate(spec: Spec, env, steps: int, record: bool = True) -> SimResult:
    """Run a whole simulation of ``steps`` decisions in memory."""
    if int(steps) < 1:
        raise DataError(f"--steps must be a positive integer, got {steps}.")
    state = State.empty(len(spec.arms))
    n_batches = -(-int(steps) // spec.batch_size)
    out = advance(spec, env, state, n_batches, record=record, max_steps=int(steps))
    alpha, beta = state.posterior(spec)
    return SimResult(spec.arms, state.pulls.copy(), state.successes.copy(), state.cum_regret,
                     posterior.prob_best(alpha, beta), state, out)
