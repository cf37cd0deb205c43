"""All SQL of the bandits feature: experiments, their decisions, rewards and snapshots,
plus the reads of runs/recommendations/splits that recommender arms need."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd

from engine.errors import DataError, NotFound
from engine.store.core import Store
from engine.validate import check_name

EXPERIMENT_COLUMNS = [
    "experiment_id", "name", "created_at", "updated_at", "status", "environment", "dataset",
    "arms", "policy", "policy_params", "env_params", "batch_size", "seed", "prior_alpha",
    "prior_beta", "reward_delay", "max_steps", "n_batches", "n_steps", "cum_regret",
]

EVENT_COLUMNS = ["event_id", "batch", "step", "arm", "arm_index", "propensity",
                 "policy_version", "outcome", "expected_reward", "user_id"]

SNAPSHOT_COLUMNS = ["batch", "arm", "arm_index", "alpha", "beta", "pulls", "rewards", "n_obs",
                    "mean", "lo", "hi", "prob_best", "expected_loss", "intended_share",
                    "batch_pulls", "cum_regret", "n_steps"]


def _run(con, sql: str, params: list | None = None) -> list:
    """Execute and fetch everything: DuckDB refuses further work on a connection while a
    statement's result (even an INSERT's row count) is unfetched."""
    return con.execute(sql, params or []).fetchall()


def _one(con, sql: str, params: list | None = None):
    """The first row of a query (or None), with the result fully fetched."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def _now() -> datetime:
    return datetime.now()


def insert_experiment(con, exp: dict) -> int:
    """Insert an experiment row on an open connection (inside a transaction); returns its id."""
    check_name(exp.get("name") or "", "An experiment name")  # no newlines / terminal escapes
    exp_id = _one(con, "SELECT nextval('bandit_experiment_id_seq')")[0]
    row = dict(exp)
    row.update(experiment_id=int(exp_id), updated_at=_now())
    for key in ("arms", "policy_params", "env_params"):
        row[key] = json.dumps(row.get(key) or ({} if key != "arms" else []))
    cols = [c for c in EXPERIMENT_COLUMNS if c != "created_at"]
    _run(con, f"INSERT INTO bandit_experiments ({', '.join(cols)}) "
                f"VALUES ({', '.join('?' for _ in cols)})", [row.get(c) for c in cols])
    return int(exp_id)


def create_experiment(store: Store, exp: dict) -> int:
    with store.transaction() as con:
        return insert_experiment(con, exp)


def _decode(row: dict) -> dict:
    for key in ("arms", "policy_params", "env_params"):
        row[key] = json.loads(row[key]) if row.get(key) else ({} if key != "arms" else [])
    return row


def list_experiments(store: Store) -> pd.DataFrame:
    return store.df("SELECT experiment_id, name, status, policy, environment, batch_size, "
                    "n_steps, n_batches, cum_regret, created_at, updated_at "
                    "FROM bandit_experiments ORDER BY experiment_id DESC")


def get_experiment(store: Store, experiment_id: int) -> dict:
    df = store.df(f"SELECT {', '.join(EXPERIMENT_COLUMNS)} FROM bandit_experiments "
                  "WHERE experiment_id = ?", [int(experiment_id)])
    if df.empty:
        raise NotFound(f"There is no bandit experiment with id {experiment_id} in {store.path}.")
    row = df.iloc[0].to_dict()
    return _decode({k: (None if (not isinstance(v, (list, dict, str)) and pd.isna(v)) else v)
                    for k, v in row.items()})


def running_experiment_ids(store: Store) -> list[int]:
    df = store.df("SELECT experiment_id FROM bandit_experiments WHERE status = 'running' "
                  "ORDER BY experiment_id")
    return [int(x) for x in df["experiment_id"]]


def set_status(store: Store, experiment_id: int, status: str) -> None:
    with store.transaction() as con:
        n = _one(con, "SELECT count(*) FROM bandit_experiments WHERE experiment_id = ?",
                        [int(experiment_id)])[0]
        if not n:
            raise NotFound(f"There is no bandit experiment with id {experiment_id}.")
        _run(con, "UPDATE bandit_experiments SET status = ?, updated_at = ? "
                    "WHERE experiment_id = ?", [status, _now(), int(experiment_id)])


def arm_counts(store: Store, experiment_id: int) -> pd.DataFrame:
    """Per arm: pulls, arrived rewards (n_obs) and their sum (successes)."""
    return store.df(
        "SELECT arm_index, count(*) AS pulls, count(reward) AS n_obs, "
        "coalesce(sum(reward), 0) AS successes FROM bandit_events WHERE experiment_id = ? "
        "GROUP BY arm_index ORDER BY arm_index", [int(experiment_id)])


def pending_outcomes(store: Store, experiment_id: int) -> pd.DataFrame:
    """Simulated decisions whose reward has not arrived yet: batch, arm_index, outcome."""
    return store.df(
        "SELECT batch, arm_index, outcome FROM bandit_events WHERE experiment_id = ? "
        "AND reward IS NULL AND outcome IS NOT NULL ORDER BY event_id", [int(experiment_id)])


def write_progress(store: Store, experiment_id: int, expected_batches: int,
                   events: pd.DataFrame, snapshots: pd.DataFrame, reveal_through: int,
                   n_batches: int, n_steps: int, cum_regret: float,
                   status: str | None = None) -> bool:
    """Append decisions and snapshots, reveal the rewards that arrived, move the counters.

    One short transaction. Optimistic: if someone else advanced the experiment since
    its state was read (``n_batches`` differs from ``expected_batches``), nothing is
    written and False is returned.
    """
    with store.transaction() as con:
        return write_progress_con(con, experiment_id, expected_batches, events, snapshots,
                                  reveal_through, n_batches, n_steps, cum_regret, status)


def write_progress_con(con, experiment_id: int, expected_batches: int,
                       events: pd.DataFrame, snapshots: pd.DataFrame, reveal_through: int,
                       n_batches: int, n_steps: int, cum_regret: float,
                       status: str | None = None) -> bool:
    """``write_progress`` on an open connection, inside the caller's transaction."""
    now = _now()
    ev = events.reindex(columns=EVENT_COLUMNS).copy()
    ev["user_id"] = ev["user_id"].astype(object).where(ev["user_id"].notna(), None)
    ev["arm"] = ev["arm"].astype(object)
    sn = snapshots.reindex(columns=SNAPSHOT_COLUMNS).copy()
    sn["arm"] = sn["arm"].astype(object)
    cur = _one(con, "SELECT n_batches FROM bandit_experiments WHERE experiment_id = ?",
                      [int(experiment_id)])
    if cur is None:
        raise NotFound(f"There is no bandit experiment with id {experiment_id}.")
    if int(cur[0] or 0) != int(expected_batches):
        return False
    if len(ev):
        con.register("_bev", ev)
        _run(con, 
            "INSERT INTO bandit_events (experiment_id, event_id, batch, step, ts, arm, "
            "arm_index, propensity, policy_version, reward, reward_ts, outcome, "
            "expected_reward, user_id) SELECT ?, event_id, batch, step, ?, arm, arm_index, "
            "propensity, policy_version, NULL, NULL, outcome, expected_reward, "
            "CAST(user_id AS VARCHAR) FROM _bev", [int(experiment_id), now])
        con.unregister("_bev")
    _run(con, "UPDATE bandit_events SET reward = outcome, reward_ts = ? "
                "WHERE experiment_id = ? AND reward IS NULL AND outcome IS NOT NULL "
                "AND batch <= ?", [now, int(experiment_id), int(reveal_through)])
    if len(sn):
        con.register("_bsn", sn)
        _run(con, f"INSERT INTO bandit_snapshots (experiment_id, ts, "
                    f"{', '.join(SNAPSHOT_COLUMNS)}) SELECT ?, ?, "
                    f"{', '.join(SNAPSHOT_COLUMNS)} FROM _bsn", [int(experiment_id), now])
        con.unregister("_bsn")
    _run(con, "UPDATE bandit_experiments SET n_batches = ?, n_steps = ?, cum_regret = ?, "
                "updated_at = ?, status = coalesce(?, status) WHERE experiment_id = ?",
                [int(n_batches), int(n_steps), float(cum_regret), now, status,
                 int(experiment_id)])
    return True


def record_rewards(store: Store, experiment_id: int, rewards: pd.DataFrame) -> int:
    """Join late rewards to their decisions: ``rewards`` has event_id and reward (0..1).

    Returns how many decisions received a reward. Unknown event ids are an error.
    """
    if not {"event_id", "reward"} <= set(rewards.columns):
        raise DataError("Rewards need the columns event_id and reward.")
    rw = rewards[["event_id", "reward"]].copy()
    rw["event_id"] = pd.to_numeric(rw["event_id"], errors="raise").astype("int64")
    rw["reward"] = rw["reward"].astype(float)
    with store.transaction() as con:
        con.register("_rw", rw)
        missing = _one(con, 
            "SELECT min(r.event_id) FROM _rw r ANTI JOIN bandit_events e "
            "ON e.event_id = r.event_id AND e.experiment_id = ?", [int(experiment_id)]
        )[0]
        if missing is not None:
            raise DataError(f"Experiment {experiment_id} has no decision with event_id {missing}.")
        _run(con, "UPDATE bandit_events e SET reward = r.reward, reward_ts = ? FROM _rw r "
                    "WHERE e.experiment_id = ? AND e.event_id = r.event_id",
                    [_now(), int(experiment_id)])
        con.unregister("_rw")
    return len(rw)


# --- experiments imported from production logs ---------------------------------------

def import_experiment(store: Store, exp: dict, events: pd.DataFrame,
                      snaps: pd.DataFrame) -> int:
    """Store an imported experiment, its decisions and its snapshots in one transaction.

    ``events``: event_id, batch, step, ts, arm, arm_index, propensity, policy_version,
    reward (NaN: not arrived), decision_id; ``snaps``: ts and SNAPSHOT_COLUMNS."""
    now = _now()
    ev = events.copy()
    for col in ("arm", "decision_id"):
        ev[col] = ev[col].astype(object)
    sn = snaps.reindex(columns=["ts"] + SNAPSHOT_COLUMNS).copy()
    sn["arm"] = sn["arm"].astype(object)
    with store.transaction() as con:
        exp_id = insert_experiment(con, exp)
        con.register("_iev", ev)
        _run(con,
             "INSERT INTO bandit_events (experiment_id, event_id, batch, step, ts, arm, "
             "arm_index, propensity, policy_version, reward, reward_ts, outcome, "
             "expected_reward, user_id, decision_id) SELECT ?, event_id, batch, step, ts, arm, "
             "arm_index, propensity, policy_version, reward, "
             "CASE WHEN reward IS NULL THEN NULL ELSE CAST(? AS TIMESTAMP) END, NULL, NULL, "
             "NULL, CAST(decision_id AS VARCHAR) FROM _iev", [exp_id, now])
        con.unregister("_iev")
        con.register("_isn", sn)
        _run(con, f"INSERT INTO bandit_snapshots (experiment_id, ts, {', '.join(SNAPSHOT_COLUMNS)}) "
                  f"SELECT ?, ts, {', '.join(SNAPSHOT_COLUMNS)} FROM _isn", [exp_id])
        con.unregister("_isn")
    return exp_id


def decision_rewards(store: Store, experiment_id: int) -> pd.DataFrame:
    """Every decision of an experiment in event order: event_id, decision_id (the id
    given at import; a simulated decision's event id as text), batch, ts, arm_index,
    reward (NaN: not arrived)."""
    get_experiment(store, experiment_id)  # NotFound for an unknown id
    return store.df(
        "SELECT event_id, coalesce(decision_id, CAST(event_id AS VARCHAR)) AS decision_id, "
        "batch, ts, arm_index, reward FROM bandit_events WHERE experiment_id = ? "
        "ORDER BY event_id", [int(experiment_id)])


def join_rewards(store: Store, experiment_id: int, rewards: pd.DataFrame,
                 snaps: pd.DataFrame | None, expected_pending: int) -> None:
    """Set the rewards (event_id, reward) of decisions that had none and, when given,
    replace the experiment's snapshots, in one transaction. Refused when the number of
    decisions without a reward is no longer ``expected_pending`` (someone else joined
    rewards since they were read)."""
    rw = rewards[["event_id", "reward"]].astype({"event_id": "int64", "reward": "float64"})
    with store.transaction() as con:
        pending = _one(con, "SELECT count(*) FROM bandit_events WHERE experiment_id = ? "
                            "AND reward IS NULL", [int(experiment_id)])[0]
        if int(pending) != int(expected_pending):
            raise DataError(f"Rewards of experiment {experiment_id} changed while these were "
                            f"being joined; run the command again.")
        if len(rw):
            con.register("_jrw", rw)
            _run(con, "UPDATE bandit_events e SET reward = r.reward, reward_ts = ? FROM _jrw r "
                      "WHERE e.experiment_id = ? AND e.event_id = r.event_id",
                 [_now(), int(experiment_id)])
            con.unregister("_jrw")
        if snaps is not None:
            sn = snaps.reindex(columns=["ts"] + SNAPSHOT_COLUMNS).copy()
            sn["arm"] = sn["arm"].astype(object)
            _run(con, "DELETE FROM bandit_snapshots WHERE experiment_id = ?", [int(experiment_id)])
            con.register("_jsn", sn)
            _run(con, f"INSERT INTO bandit_snapshots (experiment_id, ts, "
                      f"{', '.join(SNAPSHOT_COLUMNS)}) SELECT ?, ts, "
                      f"{', '.join(SNAPSHOT_COLUMNS)} FROM _jsn", [int(experiment_id)])
            con.unregister("_jsn")
        _run(con, "UPDATE bandit_experiments SET updated_at = ? WHERE experiment_id = ?",
             [_now(), int(experiment_id)])


def snapshots(store: Store, experiment_id: int) -> pd.DataFrame:
    return store.df(f"SELECT ts, {', '.join(SNAPSHOT_COLUMNS)} FROM bandit_snapshots "
                    "WHERE experiment_id = ? ORDER BY batch, arm_index", [int(experiment_id)])


def batch_arm_counts(store: Store, experiment_id: int) -> pd.DataFrame:
    """Per (batch, arm): decisions, summed propensity, arrived rewards and their sum."""
    return store.df(
        "SELECT batch, arm_index, any_value(arm) AS arm, count(*) AS pulls, "
        "sum(propensity) AS propensity_sum, count(reward) AS n_obs, "
        "coalesce(sum(reward), 0) AS successes FROM bandit_events WHERE experiment_id = ? "
        "GROUP BY batch, arm_index ORDER BY batch, arm_index", [int(experiment_id)])


def batch_intended(store: Store, experiment_id: int) -> pd.DataFrame:
    """Per (batch, arm): the share of a decision the policy intended for the arm."""
    return store.df("SELECT batch, arm_index, arm, intended_share, batch_pulls "
                    "FROM bandit_snapshots WHERE experiment_id = ? ORDER BY batch, arm_index",
                    [int(experiment_id)])


def events(store: Store, experiment_id: int, limit: int | None = None) -> pd.DataFrame:
    sql = ("SELECT event_id, batch, ts, arm, propensity, policy_version, reward, reward_ts, "
           "user_id FROM bandit_events WHERE experiment_id = ? ORDER BY event_id DESC")
    if limit:
        sql += f" LIMIT {int(limit)}"
    return store.df(sql, [int(experiment_id)])


def delete_experiment(store: Store, experiment_id: int) -> None:
    with store.transaction() as con:
        for t in ("bandit_events", "bandit_snapshots", "bandit_experiments"):
            _run(con, f"DELETE FROM {t} WHERE experiment_id = ?", [int(experiment_id)])


# --- recommender runs as arms -------------------------------------------------------

def finished_runs(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Runs that have lists: run_id, dataset, split_id, name, algorithm, k."""
    sql = ("SELECT run_id, dataset, split_id, coalesce(name, algorithm) AS name, algorithm, k "
           "FROM runs WHERE status = 'done'")
    params: list = []
    if dataset:
        sql += " AND dataset = ?"
        params.append(dataset)
    return store.df(sql + " ORDER BY run_id", params)


def run_hits(store: Store, run_ids: list[int], k: int) -> pd.DataFrame:
    """Long table run_id, user_id, hit: for every held-out user of the runs' split that a
    run has a list for, whether its top-``k`` list contains one of the user's test items."""
    ids = [int(r) for r in run_ids]
    runs = store.df("SELECT run_id, split_id FROM runs WHERE list_contains(?, run_id)", [ids])
    missing = sorted(set(ids) - set(int(r) for r in runs["run_id"]))
    if missing:
        raise NotFound(f"There is no run with id {missing[0]} in {store.path}.")
    splits = runs["split_id"].dropna().unique()
    if len(splits) != 1 or len(runs["split_id"].dropna()) != len(runs):
        raise DataError("Recommender arms must be runs on one and the same split, so that "
                        "they are judged on the same held-out users.")
    return store.df(
        """WITH test AS (SELECT DISTINCT user_id, item_id FROM splits
                         WHERE split_id = ? AND part = 'test'),
                recs AS (SELECT run_id, user_id, item_id FROM recommendations
                         WHERE list_contains(?, run_id) AND rank <= ?
                           AND user_id IN (SELECT user_id FROM test))
           SELECT r.run_id, r.user_id, max(CASE WHEN t.item_id IS NULL THEN 0 ELSE 1 END) AS hit
           FROM recs r LEFT JOIN test t ON t.user_id = r.user_id AND t.item_id = r.item_id
           GROUP BY r.run_id, r.user_id ORDER BY r.user_id, r.run_id""",
        [int(splits[0]), ids, int(k)])
