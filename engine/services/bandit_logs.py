"""Real experiments from production logs: import a log of decisions, join late rewards.

A log has one row per decision: when it was made, the arm served, the policy's
probability of choosing that arm (its propensity, optional) and the reward (0/1, or an
empty cell while it has not arrived). Optional: a decision id (to join late rewards),
the arm the policy intended when serving may differ from it (fallbacks, caches), and a
batch (policy version) column.

The decisions are grouped into batches (by the batch column, or fixed-size batches in
time order) and replayed: after each batch the posterior is the Beta prior plus the
rewards of the decisions made so far, summarised exactly as a simulated experiment's
snapshot (``posterior.summarize``). A reward in the log counts from its decision's
batch on; ``add_rewards`` joins rewards that came later and recomputes the snapshots.

The intended share of an arm in a batch (what the sample-ratio check compares the
decisions with) is the mean propensity of the decisions the policy made for that arm in
the batch: when the policy is fixed within a batch every such decision carries the same
probability, the share it meant for the arm. An arm with no decision in a batch keeps
the share of the nearest batch where it had one. Without propensities but with an intended
arm column, it is the share of the batch's decisions intended for the arm; with neither,
it is unknown and the check says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.bandits import posterior
from engine.bandits.simulation import Spec
from engine.data.loaders import (
    ids_as_text,
    parse_timestamps,
    read_table,
    require_columns,
)
from engine.errors import DataError, NotFound
from engine.progress import ProgressFn, null_progress
from engine.store import Store
from engine.store import bandits as sql

#: Column names the importer looks for unless told otherwise.
DEFAULT_COLUMNS = {"time": "timestamp", "arm": "arm", "reward": "reward",
                   "propensity": "propensity"}
#: Batches made when neither a batch column nor a batch size is given.
DEFAULT_N_BATCHES = 100


@dataclass
class DecisionLog:
    """A checked log, sorted into batches.

    ``decisions``: one row per decision in batch then time order, with row (the data
    row in the file, from 1), ts, arm, arm_index, intended_index, propensity (NaN when
    the log has none), reward (NaN: not arrived), decision_id (text) and batch (0, 1, ...).
    """
    path: Path
    decisions: pd.DataFrame
    arms: list[str]
    batch_size: int              # the fixed size, or the mean size of the batch column's
    n_batches: int
    columns: dict                # role -> column name, as used
    has_propensity: bool
    has_intended: bool
    notes: list[str] = field(default_factory=list)


#: Arms an imported log may have: the store keeps arm indices as SMALLINT (int16), and
#: the replay holds batches x arms arrays.
MAX_ARMS = 10_000


def _natural(arms) -> list[str]:
    """Arm names in a readable order: numerically when they are all integers."""
    arms = [str(a) for a in arms]
    try:
        return sorted(arms, key=lambda a: (int(a), a))
    except ValueError:
        return sorted(arms)


def _bad_row(mask, values: pd.Series) -> tuple[int, str]:
    i = int(np.flatnonzero(np.asarray(mask))[0])
    v = values.iloc[i]
    empty = v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""
    return i, ("an empty cell" if empty else f"{str(v).strip()!r}")


def _rewards(s: pd.Series, path: Path, col: str) -> pd.Series:
    """0/1, or NaN where the cell is empty (the reward has not arrived)."""
    text = s.astype("string").str.strip()
    empty = (text.isna() | (text == "")).to_numpy(bool)
    vals = pd.to_numeric(text.where(~empty), errors="coerce").astype("float64")
    bad = ~empty & ~np.isin(vals.to_numpy(), [0.0, 1.0])
    if bad.any():
        i, shown = _bad_row(bad, s)
        raise DataError(f"{path} row {i + 1} has {shown} in the reward column {col!r}; "
                        f"expected 0, 1, or an empty cell for a reward not arrived yet.")
    return vals.reset_index(drop=True)


def _propensities(s: pd.Series, path: Path, col: str) -> pd.Series:
    vals = pd.to_numeric(s, errors="coerce").astype("float64")
    bad = ~(np.isfinite(vals.to_numpy()) & (vals.to_numpy() > 0) & (vals.to_numpy() <= 1))
    if bad.any():
        i, shown = _bad_row(bad, s)
        raise DataError(f"{path} row {i + 1} has {shown} in the propensity column {col!r}; "
                        f"expected the policy's probability of choosing the arm, in (0, 1].")
    return vals.reset_index(drop=True)


def read_decisions(path, *, time_col: str = "timestamp", arm_col: str = "arm",
                   reward_col: str = "reward", propensity_col: str | None = "propensity",
                   require_propensity: bool = False, id_col: str | None = None,
                   intended_col: str | None = None, batch_col: str | None = None,
                   batch_size: int | None = None) -> DecisionLog:
    """Read and check a CSV/Parquet log of decisions and group it into batches.

    ``propensity_col`` may be absent from the file unless ``require_propensity`` (the
    command line requires it when the column was named explicitly). Without
    ``batch_col`` or ``batch_size`` the log is cut into ``DEFAULT_N_BATCHES`` batches
    of equal size in time order. Bad input raises DataError naming file, row and column.
    """
    if batch_col is not None and batch_size is not None:
        raise DataError("Give either --batch-col or --batch-size, not both.")
    if batch_size is not None and int(batch_size) < 1:
        raise DataError(f"--batch-size must be at least 1, not {batch_size}.")
    df = read_table(path)
    p = Path(path)
    required = {"--time-col": time_col, "--arm-col": arm_col, "--reward-col": reward_col,
                "--id-col": id_col, "--intended-col": intended_col, "--batch-col": batch_col}
    has_prop = propensity_col is not None and (require_propensity or propensity_col in df.columns)
    if has_prop:
        required["--propensity-col"] = propensity_col
    require_columns(df, p, required)
    n = len(df)
    out = pd.DataFrame({"row": np.arange(1, n + 1, dtype=np.int64)})
    out["ts"] = parse_timestamps(df[time_col], p, time_col)
    if out["ts"].isna().any():
        i = int(np.flatnonzero(out["ts"].isna().to_numpy())[0])
        raise DataError(f"{p} row {i + 1} has an empty cell in the time column {time_col!r}; "
                        f"every decision needs its time.")
    out["arm"] = ids_as_text(df[arm_col], p, arm_col, "arm").to_numpy(object)
    out["reward"] = _rewards(df[reward_col], p, reward_col)
    out["propensity"] = (_propensities(df[propensity_col], p, propensity_col) if has_prop
                         else np.nan)
    if id_col is not None:
        ids = ids_as_text(df[id_col], p, id_col, "decision id").reset_index(drop=True)
        dup = ids.duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            first = int(np.flatnonzero((ids == ids.iloc[i]).to_numpy())[0])
            raise DataError(f"{p} row {i + 1} repeats the decision id {ids.iloc[i]!r} of row "
                            f"{first + 1} in column {id_col!r}; decision ids must be unique.")
        out["decision_id"] = ids.to_numpy(object)
    else:  # the data row in the file: a reward file can name a decision by it
        out["decision_id"] = out["row"].astype(str).to_numpy(object)
    intended = (ids_as_text(df[intended_col], p, intended_col, "intended arm").to_numpy(object)
                if intended_col is not None else out["arm"].to_numpy(object))
    arms = _natural(set(out["arm"]) | set(intended))
    if len(arms) < 2:
        raise DataError(f"{p} has decisions for {len(arms)} arm ({arms[0]!r} in column "
                        f"{arm_col!r}); an experiment needs at least two arms.")
    if len(arms) > MAX_ARMS:  # arm_index is a SMALLINT in the store
        raise DataError(f"{p} has {len(arms):,} distinct arms in column {arm_col!r}; an "
                        f"experiment holds at most {MAX_ARMS:,} arms (is it the right column?).")
    index = {a: i for i, a in enumerate(arms)}
    out["arm_index"] = out["arm"].map(index).astype(np.int16)
    out["intended_index"] = pd.Series(intended).map(index).astype(np.int16).to_numpy()

    notes: list[str] = []
    if batch_col is not None:
        labels = ids_as_text(df[batch_col], p, batch_col, "batch").reset_index(drop=True)
        first_ts = out.groupby(labels.to_numpy())["ts"].min()
        # batches in the order they started; a label's first row breaks ties
        first_row = pd.Series(np.arange(n), index=labels.to_numpy()).groupby(level=0).min()
        order = pd.DataFrame({"ts": first_ts, "row": first_row}).sort_values(["ts", "row"])
        out["batch"] = labels.map({b: i for i, b in enumerate(order.index)}).to_numpy(np.int64)
        out = out.sort_values(["batch", "ts", "row"], kind="mergesort")
        n_batches = len(order)
        size = int(round(n / n_batches))
    else:
        out = out.sort_values(["ts", "row"], kind="mergesort")
        size = int(batch_size) if batch_size is not None else max(1, -(-n // DEFAULT_N_BATCHES))
        out["batch"] = np.arange(n, dtype=np.int64) // size
        n_batches = int(out["batch"].iloc[-1]) + 1
        if batch_size is None:
            notes.append(f"no batch column or size given: {n_batches} batches of {size} "
                         f"decisions in time order")
    out = out.reset_index(drop=True)
    if not has_prop:
        notes.append(f"no propensity column {propensity_col!r}: "
                     + ("intended shares from the intended arms" if intended_col
                        else "the sample-ratio check cannot be made"))
    if out["reward"].isna().any():
        notes.append(f"{int(out['reward'].isna().sum()):,} rewards not arrived yet "
                     f"(empty cells); join them later with `recscope bandit rewards`")
    cols = {"time": time_col, "arm": arm_col, "reward": reward_col,
            "propensity": propensity_col if has_prop else None, "id": id_col,
            "intended": intended_col, "batch": batch_col}
    return DecisionLog(p, out, arms, size, n_batches, cols, has_prop,
                       intended_col is not None, notes)


def intended_shares(log: DecisionLog) -> np.ndarray:
    """(batches x arms) intended share of a decision per arm; NaN where unknown."""
    d, k = log.decisions, len(log.arms)
    shares = np.full((log.n_batches, k), np.nan)
    if log.has_propensity:
        # the policy's probability of each arm, read off the decisions it made for it
        # Harmonic mean: n_a / sum(1 / propensity) over the arm's decisions. It is the
        # propensity itself when the policy is fixed within the batch; when propensities
        # vary from decision to decision (contextual policies, positions) it still
        # estimates the arm's mean probability over all the batch's decisions, since
        # E[sum over a's decisions of 1/p] = batch size. The plain mean of the chosen
        # decisions' propensities would estimate E[p^2]/E[p] instead, above every share
        # (OBD's Thompson-sampling log: the shares would add up to 3.7).
        g = (d.assign(inv=1.0 / d["propensity"])
              .groupby(["batch", "intended_index"])["inv"].agg(["size", "sum"]))
        g = g["size"] / g["sum"]
        shares[g.index.get_level_values(0), g.index.get_level_values(1)] = g.to_numpy()
        # An arm without a decision in a batch still had its probability: take it from
        # the nearest batch before (else after) that has one. Leaving it out would count
        # a rare arm's expected decisions only in the batches where it happened to be
        # chosen, and raise the sample-ratio alarm on every log with rare arms.
        shares = pd.DataFrame(shares).ffill().bfill().to_numpy()
    elif log.has_intended:
        counts = np.zeros((log.n_batches, k))
        np.add.at(counts, (d["batch"].to_numpy(), d["intended_index"].to_numpy(int)), 1)
        shares = counts / counts.sum(axis=1, keepdims=True)
    return shares


def varying_propensity(log: DecisionLog, rel: float = 0.01) -> float:
    """Share of (batch, intended arm) pairs with two or more decisions whose propensities
    differ by more than ``rel`` (relative): 0 when the policy is fixed within batches."""
    if not log.has_propensity:
        return 0.0
    g = log.decisions.groupby(["batch", "intended_index"])["propensity"].agg(["size", "min", "max"])
    g = g[g["size"] >= 2]
    if g.empty:
        return 0.0
    return float(((g["max"] - g["min"]) > rel * g["max"]).mean())


def replay(arms: list[str], prior_alpha: float, prior_beta: float, decisions: pd.DataFrame,
           shares: np.ndarray, progress: ProgressFn = null_progress) -> pd.DataFrame:
    """One snapshot row per (batch, arm), as ``simulation.advance`` records them.

    ``decisions``: batch (0..B-1), ts, arm_index and reward (NaN: not arrived);
    ``shares``: (B x arms) intended shares. Regret is unknown for real traffic (NaN).
    """
    k = len(arms)
    n_batches = shares.shape[0]
    b_idx = decisions["batch"].to_numpy(np.int64)
    a_idx = decisions["arm_index"].to_numpy(np.int64)
    reward = decisions["reward"].to_numpy(float)
    arrived = ~np.isnan(reward)
    # per (batch, arm) counts, then running sums over batches
    flat = b_idx * k + a_idx
    per_pulls = np.bincount(flat, minlength=n_batches * k).reshape(n_batches, k)
    per_obs = np.bincount(flat[arrived], minlength=n_batches * k).reshape(n_batches, k)
    per_succ = np.bincount(flat[arrived], weights=reward[arrived],
                           minlength=n_batches * k).reshape(n_batches, k)
    pulls, n_obs, succ = (np.cumsum(x, axis=0) for x in (per_pulls, per_obs, per_succ))
    ts = decisions.groupby("batch")["ts"].max().reindex(range(n_batches))
    frames = []
    for b in range(n_batches):
        a2 = prior_alpha + succ[b]
        b2 = prior_beta + n_obs[b] - succ[b]
        summ = posterior.summarize(arms, a2, b2)
        frames.append(pd.DataFrame({
            "batch": b, "ts": ts.iloc[b], "arm_index": np.arange(k, dtype=np.int16),
            "arm": arms, "alpha": a2, "beta": b2, "pulls": pulls[b].astype(np.int64),
            "rewards": succ[b], "n_obs": n_obs[b].astype(np.int64),
            "mean": summ["mean"].to_numpy(), "lo": summ["lo"].to_numpy(),
            "hi": summ["hi"].to_numpy(), "prob_best": summ["prob_best"].to_numpy(),
            "expected_loss": summ["expected_loss"].to_numpy(),
            "intended_share": shares[b], "batch_pulls": per_pulls[b].astype(np.int64),
            "cum_regret": np.nan, "n_steps": int(pulls[b].sum())}))
        progress("posteriors per batch", b + 1, n_batches)
    return pd.concat(frames, ignore_index=True)


@dataclass
class ImportResult:
    experiment_id: int
    n: int
    arms: list[str]
    pulls: list[int]
    rewards: list[float]        # arrived rewards (successes) per arm
    prob_best: list[float]
    n_batches: int
    batch_size: int
    notes: list[str]

    def as_json(self) -> dict:
        return {"experiment_id": self.experiment_id, "n": self.n, "arms": self.arms,
                "pulls": self.pulls, "rewards": self.rewards, "prob_best": self.prob_best}


def import_log(store: Store, path, *, name: str, policy: str = "thompson",
               prior_alpha: float = 1.0, prior_beta: float = 1.0,
               progress: ProgressFn = null_progress, **columns) -> ImportResult:
    """Read, check and replay a log, then store it as an experiment (environment 'log',
    status 'imported') in one transaction. ``columns``: the keyword arguments of
    ``read_decisions``."""
    if not str(name).strip():
        raise DataError("--name must not be empty.")
    progress("reading the log", 0, 1)
    log = read_decisions(path, **columns)
    progress("reading the log", 1, 1)
    spec = Spec(log.arms, policy, {}, log.batch_size, 0, prior_alpha, prior_beta, 0)  # validates
    snaps = replay(spec.arms, spec.prior_alpha, spec.prior_beta, log.decisions,
                   intended_shares(log), progress)
    d = log.decisions
    events = pd.DataFrame({
        "event_id": np.arange(len(d), dtype=np.int64), "batch": d["batch"].to_numpy(np.int64),
        "step": np.arange(len(d), dtype=np.int64), "ts": d["ts"].to_numpy(),
        "arm": d["arm"].to_numpy(object), "arm_index": d["arm_index"].to_numpy(np.int16),
        "propensity": d["propensity"].to_numpy(float),
        "policy_version": d["batch"].to_numpy(np.int64),
        "reward": d["reward"].to_numpy(float), "decision_id": d["decision_id"].to_numpy(object)})
    exp = dict(name=str(name), status="imported", environment="log", dataset=None,
               arms=[{"name": a} for a in log.arms], policy=spec.policy,
               policy_params=spec.policy_params,
               env_params={"source": str(log.path.resolve()), "columns": log.columns,
                           "first_ts": str(d["ts"].min()), "last_ts": str(d["ts"].max()),
                           "batch_col": log.columns["batch"], "notes": log.notes,
                           "varying_propensity": varying_propensity(log)},
               batch_size=log.batch_size, seed=0, prior_alpha=float(prior_alpha),
               prior_beta=float(prior_beta), reward_delay=0, max_steps=None,
               n_batches=log.n_batches, n_steps=len(d), cum_regret=None)
    exp_id = sql.import_experiment(store, exp, events, snaps)
    last = snaps[snaps["batch"] == log.n_batches - 1].sort_values("arm_index")
    return ImportResult(exp_id, len(d), log.arms, [int(x) for x in last["pulls"]],
                        [float(x) for x in last["rewards"]],
                        [float(x) for x in last["prob_best"]], log.n_batches, log.batch_size,
                        log.notes)


@dataclass
class RewardsResult:
    experiment_id: int
    n: int                      # rows in the file
    joined: int                 # decisions that received a reward now
    unchanged: int              # decisions that already had this very reward
    pending: int                # decisions still without a reward


def add_rewards(store: Store, experiment_id: int, path, *, id_col: str = "decision_id",
                reward_col: str = "reward") -> RewardsResult:
    """Join rewards that arrived later to their decisions, by decision id.

    Decision ids are the ``--id-col`` values given at import (or, without one, the data
    row numbers of the imported file); for a simulated experiment, its event ids. A
    decision that already has a different reward, an unknown id, a repeated id or a
    reward other than 0/1 is an error and nothing is written. An imported experiment's
    snapshots are recomputed with the new rewards, in the same transaction.
    """
    exp = sql.get_experiment(store, experiment_id)
    df = read_table(path)
    p = Path(path)
    require_columns(df, p, {"--id-col": id_col, "--reward-col": reward_col})
    ids = ids_as_text(df[id_col], p, id_col, "decision id").reset_index(drop=True)
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{p} row {i + 1} repeats the decision id {ids.iloc[i]!r} in column "
                        f"{id_col!r}; give each decision's reward once.")
    rewards = _rewards(df[reward_col], p, reward_col)
    if rewards.isna().any():
        i = int(np.flatnonzero(rewards.isna().to_numpy())[0])
        raise DataError(f"{p} row {i + 1} has an empty cell in the reward column "
                        f"{reward_col!r}; a rewards file needs a 0 or 1 in every row.")
    ev = sql.decision_rewards(store, experiment_id)
    known = pd.Series(np.arange(len(ev)), index=ev["decision_id"].astype(str).to_numpy())
    pos = ids.map(known)
    if pos.isna().any():
        i = int(np.flatnonzero(pos.isna().to_numpy())[0])
        raise NotFound(f"{p} row {i + 1} names the decision {ids.iloc[i]!r} (column "
                       f"{id_col!r}), which experiment {experiment_id} does not have.")
    pos = pos.to_numpy(np.int64)
    old = ev["reward"].to_numpy(float)[pos]
    clash = ~np.isnan(old) & (old != rewards.to_numpy())
    if clash.any():
        i = int(np.flatnonzero(clash)[0])
        raise DataError(f"{p} row {i + 1} gives decision {ids.iloc[i]!r} the reward "
                        f"{rewards.iloc[i]:g}, but it already has {old[i]:g}.")
    new = np.isnan(old)
    joined = pd.DataFrame({"event_id": ev["event_id"].to_numpy(np.int64)[pos][new],
                           "reward": rewards.to_numpy()[new]})
    snaps = None
    if exp["environment"] == "log" and len(joined):
        full = ev.copy()
        full.loc[full.index[pos[new]], "reward"] = joined["reward"].to_numpy()
        stored = sql.snapshots(store, experiment_id)
        n_batches = int(exp["n_batches"])
        shares = (stored.pivot(index="batch", columns="arm_index", values="intended_share")
                  .reindex(index=range(n_batches), columns=range(len(exp["arms"])))
                  .to_numpy(float))
        snaps = replay([a["name"] for a in exp["arms"]], float(exp["prior_alpha"]),
                       float(exp["prior_beta"]), full, shares)
    sql.join_rewards(store, experiment_id, joined, snaps, expected_pending=int(ev["reward"].isna().sum()))
    pending = int(ev["reward"].isna().sum()) - len(joined)
    return RewardsResult(int(experiment_id), len(ids), len(joined), int((~new).sum()), pending)
