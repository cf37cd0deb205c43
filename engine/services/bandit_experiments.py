"""Stored experiments: create, start, pause, step, simulate in one go, and report.

An experiment advances one or more batches at a time: its state is rebuilt from the
store (counts of arrived rewards per arm, simulated outcomes not yet arrived), advanced
in memory by ``simulation.advance`` and the new rows written in one short transaction.
That is how the page runs an experiment without blocking: each refresh steps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from engine import validate as V
from engine.bandits import checks, posterior
from engine.bandits.environments import FixedRates, RunArms
from engine.bandits.simulation import Spec, State, advance, simulate
from engine.errors import DataError
from engine.store import Store
from engine.store import bandits as sql
from engine.validate import BOUNDS, check_int


def _fixed_arms(rates, names=None, drift=None) -> list[dict]:
    rates = [float(r) for r in rates]
    names = [str(n) for n in names] if names else [f"arm {i + 1} ({r:g})" for i, r in enumerate(rates)]
    if len(names) != len(rates):
        raise DataError(f"Got {len(names)} arm names for {len(rates)} rates.")
    drift = [float(d) for d in drift] if drift is not None else [0.0] * len(rates)
    if len(drift) != len(rates):  # zip below would silently drop arms
        raise DataError(f"--drift needs one value per arm ({len(rates)}), got {len(drift)}.")
    return [{"name": n, "rate": r, "drift": d} for n, r, d in zip(names, rates, drift)]


def new_experiment(store: Store, *, name: str, policy: str = "thompson",
                   rates=None, arm_names=None, drift=None, run_ids=None, k: int = 10,
                   policy_params: dict | None = None, batch_size: int = 100, seed: int = 0,
                   prior_alpha: float = 1.0, prior_beta: float = 1.0, delay: int = 0,
                   max_steps: int | None = None, status: str = "created") -> int:
    """Create a simulated experiment: fixed-rate arms (``rates``) or recommender runs
    (``run_ids``, rewarded when the top-``k`` list hits a held-out item)."""
    exp = _experiment_row(name=name, policy=policy, rates=rates, arm_names=arm_names,
                          drift=drift, run_ids=run_ids, k=k, policy_params=policy_params,
                          batch_size=batch_size, seed=seed, prior_alpha=prior_alpha,
                          prior_beta=prior_beta, delay=delay, max_steps=max_steps,
                          status=status, store=store)
    return sql.create_experiment(store, exp)


def _check_sizes(*, arm_names, rates, drift, batch_size, seed, delay, prior, max_steps, k) -> None:
    """Numbers from a page's form or a caller, checked like the CLI's (engine.validate):
    finite, no booleans, and within the documented upper bounds (lower bounds and their
    sentences stay with Spec and FixedRates)."""
    for n in arm_names or []:
        V.check_name(n, "Each arm name")
    for r in rates or []:
        V.check_float(r, "Each arm rate")
    if rates is not None and len(rates) > V.BOUNDS["arms"][1]:
        raise DataError(f"An experiment holds at most {V.BOUNDS['arms'][1]:,} fixed-rate arms; "
                        f"got {len(rates):,}.")
    for d in drift or []:
        V.check_float(d, "Each drift")
    V.check_int(batch_size, "The batch size", None, V.BOUNDS["batch"][1])
    V.check_int(seed, "The seed", bound="seed")
    V.check_int(delay, "The reward delay", None, V.BOUNDS["delay"][1])
    for p in prior:
        V.check_float(p, "The Beta prior's parameters", None, V.BOUNDS["prior"][1])
    if max_steps is not None:
        V.check_int(max_steps, "The number of steps", None, V.BOUNDS["max_steps"][1])
    V.check_int(k, "The list length k", None, V.BOUNDS["k"][1])


def _experiment_row(*, name, store: Store, policy="thompson", rates=None, arm_names=None,
                    drift=None, run_ids=None, k=10, policy_params=None, batch_size=100, seed=0,
                    prior_alpha=1.0, prior_beta=1.0, delay=0, max_steps=None,
                    status="created") -> dict:
    if (rates is None) == (run_ids is None):
        raise DataError("Give either arm rates or recommender run ids, not both.")
    _check_sizes(arm_names=arm_names, rates=rates, drift=drift, batch_size=batch_size, seed=seed, delay=delay,
                 prior=(prior_alpha, prior_beta), max_steps=max_steps, k=k)
    if rates is not None:
        arms, env, dataset, env_params = _fixed_arms(rates, arm_names, drift), "fixed", None, {}
        FixedRates(np.array([a["rate"] for a in arms]), np.array([a["drift"] for a in arms]))
    else:
        runs = sql.finished_runs(store)
        known = {int(r): row for r, row in zip(runs["run_id"], runs.to_dict("records"))}
        arms = []
        for i, rid in enumerate(run_ids):
            if int(rid) not in known:
                raise DataError(f"Run {rid} is not a finished run in {store.path}.")
            label = arm_names[i] if arm_names else f"run {rid}: {known[int(rid)]['name']}"
            arms.append({"name": str(label), "run_id": int(rid)})
        dataset = str(known[int(run_ids[0])]["dataset"])
        env, env_params = "runs", {"k": int(k)}
    if max_steps is not None and int(max_steps) < 1:
        raise DataError(f"max_steps must be positive, got {max_steps}.")
    spec = Spec([a["name"] for a in arms], policy, policy_params or {}, batch_size, seed,
                prior_alpha, prior_beta, delay)  # validates
    return dict(name=str(name), status=status, environment=env, dataset=dataset, arms=arms,
                policy=spec.policy, policy_params=spec.policy_params, env_params=env_params,
                batch_size=spec.batch_size, seed=int(seed), prior_alpha=float(prior_alpha),
                prior_beta=float(prior_beta), reward_delay=spec.delay,
                max_steps=None if max_steps is None else int(max_steps),
                n_batches=0, n_steps=0, cum_regret=0.0)


def spec_of(exp: dict) -> Spec:
    return Spec([a["name"] for a in exp["arms"]], exp["policy"], exp.get("policy_params") or {},
                int(exp["batch_size"]), int(exp["seed"]), float(exp["prior_alpha"]),
                float(exp["prior_beta"]), int(exp.get("reward_delay") or 0))


def environment_of(store: Store, exp: dict):
    if exp["environment"] == "fixed":
        return FixedRates(np.array([a["rate"] for a in exp["arms"]]),
                          np.array([a.get("drift", 0.0) for a in exp["arms"]]))
    if exp["environment"] == "runs":
        gone = deleted_arms(store, exp)
        if gone:
            raise DataError(f"Experiment {exp['experiment_id']} cannot advance: the run"
                            f"{'s' if len(gone) > 1 else ''} behind "
                            + ", ".join(f"arm {name!r} (run {rid})" for name, rid in gone)
                            + f" {'were' if len(gone) > 1 else 'was'} deleted.")
        run_ids = [int(a["run_id"]) for a in exp["arms"]]
        return run_arms_environment(store, run_ids, int(exp["env_params"].get("k", 10)))
    raise DataError(f"Experiment {exp['experiment_id']} has no simulated environment "
                    f"({exp['environment']!r}); it cannot be stepped.")


def run_arms_environment(store: Store, run_ids: list[int], k: int) -> RunArms:
    """Users x runs hit table: the held-out users that every run has a list for."""
    long = sql.run_hits(store, run_ids, k)
    wide = long.pivot(index="user_id", columns="run_id", values="hit").reindex(columns=run_ids)
    wide = wide.dropna()
    return RunArms(wide.to_numpy(float), wide.index.astype(str).to_numpy(object))


def load_state(store: Store, exp: dict) -> State:
    k = len(exp["arms"])
    state = State.empty(k)
    counts = sql.arm_counts(store, exp["experiment_id"])
    idx = counts["arm_index"].to_numpy(int)
    state.pulls[idx] = counts["pulls"].to_numpy(float)
    state.n_obs[idx] = counts["n_obs"].to_numpy(float)
    state.successes[idx] = counts["successes"].to_numpy(float)
    state.n_batches = int(exp["n_batches"] or 0)
    state.n_steps = int(exp["n_steps"] or 0)
    state.cum_regret = float(exp["cum_regret"] or 0.0)
    state.next_event_id = state.n_steps
    pend = sql.pending_outcomes(store, exp["experiment_id"])
    for b, g in pend.groupby("batch", sort=True):
        state.pending.append((int(b), g["arm_index"].to_numpy(int), g["outcome"].to_numpy(float)))
    return state


def step(store: Store, experiment_id: int, n_batches: int = 1) -> int:
    """Advance a stored experiment by up to ``n_batches`` batches. Returns the number of
    decisions written (0 when it is finished or someone else stepped it meanwhile)."""
    if int(n_batches) < 1:  # 0 or fewer would yield no events and mark it finished
        raise DataError(f"--batches must be at least 1, not {n_batches}.")
    exp = sql.get_experiment(store, experiment_id)
    if exp["environment"] == "log":
        raise DataError(_IMPORTED.format(id=experiment_id, what="stepped"))
    if exp["status"] == "finished":
        return 0
    spec, env = spec_of(exp), environment_of(store, exp)
    state = load_state(store, exp)
    before = state.n_batches
    out = advance(spec, env, state, int(n_batches), record=True, max_steps=exp["max_steps"])
    if not out.events:
        sql.set_status(store, experiment_id, "finished")
        return 0
    done = exp["max_steps"] is not None and state.n_steps >= int(exp["max_steps"])
    ok = sql.write_progress(store, experiment_id, before, out.events_df(), out.snapshots_df(),
                            out.reveal_through, state.n_batches, state.n_steps, state.cum_regret,
                            status="finished" if done else None)
    return int(state.n_steps - exp["n_steps"]) if ok else 0


_IMPORTED = ("Experiment {id} was imported from a production log: it has no simulated "
             "environment and cannot be {what}; join late rewards with "
             "`recscope bandit rewards {id} FILE`.")


def start(store: Store, experiment_id: int) -> None:
    exp = sql.get_experiment(store, experiment_id)
    if exp["environment"] == "log":
        raise DataError(_IMPORTED.format(id=experiment_id, what="started"))
    if exp["status"] == "finished":
        raise DataError(f"Experiment {experiment_id} has finished; create a new one to run more.")
    sql.set_status(store, experiment_id, "running")


def pause(store: Store, experiment_id: int) -> None:
    exp = sql.get_experiment(store, experiment_id)
    if exp["status"] == "running":
        sql.set_status(store, experiment_id, "paused")


def step_if_due(store: Store, experiment_id: int, n_batches: int = 1,
                min_interval: float = 2.5) -> int:
    """Advance a *running* experiment unless someone stepped it less than
    ``min_interval`` seconds ago (another open page, a `recscope bandit run`). Returns
    the decisions written (0 when not running or not due).

    Every driver of a running experiment calls this, so it advances at one pace however
    many pages and runners watch it, and keeps advancing with no page open while a
    runner runs."""
    exp = sql.get_experiment(store, experiment_id)
    if exp["status"] != "running":
        return 0
    last = exp.get("updated_at")
    if last is not None and (datetime.now() - pd.Timestamp(last).to_pydatetime()
                             ).total_seconds() < float(min_interval):
        return 0
    return step(store, experiment_id, n_batches)


def step_running(store: Store, n_batches: int = 1) -> dict[int, int]:
    """Advance every running experiment (what the page does on each refresh)."""
    return {eid: step(store, eid, n_batches) for eid in sql.running_experiment_ids(store)}


def simulate_and_store(store: Store, *, name: str, steps: int, **kwargs) -> tuple[int, object]:
    """Run a whole simulation in memory and store it as a finished experiment in one
    transaction. Returns (experiment_id, SimResult)."""
    check_int(steps, "The number of decisions", None, BOUNDS["steps"][1])
    exp = _experiment_row(name=name, store=store, status="finished",
                          max_steps=int(steps), **kwargs)
    spec = spec_of(exp)
    env = environment_of(store, {**exp, "experiment_id": None})
    res = simulate(spec, env, int(steps))
    exp.update(n_batches=res.state.n_batches, n_steps=res.state.n_steps,
               cum_regret=res.state.cum_regret)
    with store.transaction() as con:
        exp_id = sql.insert_experiment(con, {**exp, "n_batches": 0, "n_steps": 0})
        sql.write_progress_con(con, exp_id, 0, res.output.events_df(), res.output.snapshots_df(),
                               res.output.reveal_through, res.state.n_batches,
                               res.state.n_steps, res.state.cum_regret, status="finished")
    return exp_id, res


# --- what the page shows --------------------------------------------------------------

@dataclass
class Report:
    experiment: dict
    summary: pd.DataFrame         # leaderboard: posterior summaries + pulls + rates
    snapshots: pd.DataFrame       # per (batch, arm) history
    density: pd.DataFrame         # posterior densities on a grid
    periods: pd.DataFrame         # per-period estimates
    pooled: pd.DataFrame
    simpson: list
    sample_ratio: checks.SampleRatio
    stopping: checks.StoppingDecision
    true_rates: list | None       # simulation truth (fixed arms / recommender hit rates)
    #: Recommender arms whose run is no longer a finished run in the store (deleted, e.g.
    #: by a `recscope demo --replace`): [(arm name, run id)]. Such an experiment has no
    #: environment left: it can be shown but not advanced, and has no true rates.
    deleted_arms: list = field(default_factory=list)


def deleted_arms(store: Store, exp: dict) -> list[tuple[str, int]]:
    """[(arm name, run id)] of a recommender-arms experiment whose runs are gone."""
    if exp.get("environment") != "runs":
        return []
    have = set(int(r) for r in sql.finished_runs(store)["run_id"])
    return [(str(a.get("name")), int(a["run_id"])) for a in exp["arms"]
            if int(a["run_id"]) not in have]


def report(store: Store, experiment_id: int, n_periods: int = 4,
           rule: checks.StoppingRule = checks.StoppingRule()) -> Report:
    exp = sql.get_experiment(store, experiment_id)
    spec = spec_of(exp)
    counts = sql.batch_arm_counts(store, experiment_id)
    k = len(spec.arms)
    n_obs = np.zeros(k)
    succ = np.zeros(k)
    pulls = np.zeros(k)
    if not counts.empty:
        agg = counts.groupby("arm_index")[["n_obs", "successes", "pulls"]].sum()
        n_obs[agg.index.to_numpy(int)] = agg["n_obs"].to_numpy(float)
        succ[agg.index.to_numpy(int)] = agg["successes"].to_numpy(float)
        pulls[agg.index.to_numpy(int)] = agg["pulls"].to_numpy(float)
    alpha = spec.prior_alpha + succ
    beta = spec.prior_beta + n_obs - succ
    summary = posterior.summarize(spec.arms, alpha, beta)
    summary.insert(1, "arm_index", np.arange(k))
    summary["pulls"] = pulls.astype(int)
    summary["n_obs"] = n_obs.astype(int)
    summary["successes"] = succ
    true_rates = None
    if exp["environment"] == "fixed":
        # the rates now: with drift they move away from the rates the arms started with
        env = environment_of(store, exp)
        true_rates = [float(r) for r in env.rates_at(np.array([int(exp["n_steps"] or 0)]))[0]]
        summary["true_rate"] = true_rates
    gone = deleted_arms(store, exp)
    if exp["environment"] == "runs" and not gone:
        # each run's hit rate over the held-out users: what its arm converges to
        true_rates = [float(r) for r in environment_of(store, exp).rates]
        summary["true_rate"] = true_rates
    sample_ratio = checks.sample_ratio_check(sql.batch_intended(store, experiment_id))
    varying = float((exp.get("env_params") or {}).get("varying_propensity") or 0.0)
    if exp["environment"] == "log" and varying > checks.VARYING_PROPENSITY_SHARE:
        sample_ratio = checks.propensities_vary(sample_ratio, varying)
    periods = checks.period_estimates(counts, n_periods)
    pooled = checks.pooled_estimates(counts) if not counts.empty else pd.DataFrame()
    return Report(
        experiment=exp, summary=summary, snapshots=sql.snapshots(store, experiment_id),
        density=posterior.density_grid(spec.arms, alpha, beta), periods=periods, pooled=pooled,
        simpson=checks.simpson_alarms(periods),
        sample_ratio=sample_ratio,
        stopping=checks.stopping_decision(summary, int(n_obs.sum()), rule),
        true_rates=true_rates, deleted_arms=gone)


# --- the demo -----------------------------------------------------------------------

DEMO_ARMS = {"headline A": 0.04, "headline B": 0.05, "headline C": 0.045}


def demo_step(store: Store, dataset_name: str, seed: int, progress=None) -> None:
    """`recscope demo`: a running Thompson-sampling experiment on three fixed arms with
    some history (rewards arrive one batch late), and, when the dataset has at least two
    finished runs on one split, a paused experiment whose arms are those runs."""
    progress = progress or (lambda *a: None)
    progress("bandit experiment", 0, 2)
    exp_id = new_experiment(store, name="Demo: three headlines (Thompson sampling)",
                            policy="thompson", rates=list(DEMO_ARMS.values()),
                            arm_names=list(DEMO_ARMS), batch_size=100, seed=seed, delay=1,
                            max_steps=200_000, status="running")
    step(store, exp_id, 30)
    progress("bandit experiment", 1, 2)
    runs = sql.finished_runs(store, dataset_name)
    if len(runs):
        sizes = runs.groupby("split_id")["run_id"].count()
        split = sizes.idxmax()
        ids = [int(r) for r in runs.loc[runs["split_id"] == split, "run_id"]][:4]
        if len(ids) >= 2:
            try:
                rec_id = new_experiment(store, name="Demo: recommender runs as arms",
                                        policy="thompson", run_ids=ids, k=10, batch_size=50,
                                        seed=seed, status="paused")
                step(store, rec_id, 10)
            except DataError:
                pass  # runs without held-out users in common: nothing to show
    progress("bandit experiment", 2, 2)
