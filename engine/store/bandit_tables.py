"""DDL of the bandit tables (owned by the bandits feature).

- ``bandit_experiments``: one row per experiment: its arms (JSON list of objects with
  ``name`` and, for simulations, ``rate``/``drift`` or ``run_id``), policy and its
  parameters, batch size, seed, prior, status ('created' | 'running' | 'paused' |
  'finished', or 'imported' for a production log: environment 'log') and how far it has
  run.
- ``bandit_events``: one row per decision: time, batch, arm, propensity, policy version;
  ``reward``/``reward_ts`` are NULL until the reward arrives (it can be late).
  ``outcome`` is what a simulated environment will reveal (NULL for real traffic) and
  ``expected_reward`` the chosen arm's true rate at that time (simulation only).
  ``decision_id``: the id of a decision imported from a log (to join late rewards by).
- ``bandit_snapshots``: one row per (batch, arm) after the batch: the posterior, its
  summaries, cumulative pulls and rewards, the share the policy intended, regret so far.
"""

DDL: list[str] = [
    "CREATE SEQUENCE IF NOT EXISTS bandit_experiment_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS bandit_experiments (
        experiment_id INTEGER PRIMARY KEY,
        name VARCHAR,
        created_at TIMESTAMP DEFAULT current_timestamp,
        updated_at TIMESTAMP,
        status VARCHAR,           -- 'created' | 'running' | 'paused' | 'finished' | 'imported'
        environment VARCHAR,      -- 'fixed' | 'runs' | 'log' (imported decisions)
        dataset VARCHAR,          -- for recommender arms
        arms VARCHAR,             -- JSON list of {name, rate, drift} or {name, run_id}
        policy VARCHAR,
        policy_params VARCHAR,    -- JSON
        env_params VARCHAR,       -- JSON: k (list length) for recommender arms, ...
        batch_size INTEGER,
        seed BIGINT,
        prior_alpha DOUBLE, prior_beta DOUBLE,
        reward_delay INTEGER,     -- batches before a reward arrives (simulation)
        max_steps BIGINT,         -- NULL: no limit
        n_batches INTEGER,
        n_steps BIGINT,
        cum_regret DOUBLE
    )""",
    """CREATE TABLE IF NOT EXISTS bandit_events (
        experiment_id INTEGER, event_id BIGINT, batch INTEGER, step BIGINT,
        ts TIMESTAMP, arm VARCHAR, arm_index SMALLINT, propensity DOUBLE,
        policy_version INTEGER,
        reward DOUBLE, reward_ts TIMESTAMP,
        outcome DOUBLE, expected_reward DOUBLE, user_id VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS bandit_snapshots (
        experiment_id INTEGER, batch INTEGER, ts TIMESTAMP,
        arm VARCHAR, arm_index SMALLINT,
        alpha DOUBLE, beta DOUBLE, pulls BIGINT, rewards DOUBLE, n_obs BIGINT,
        mean DOUBLE, lo DOUBLE, hi DOUBLE, prob_best DOUBLE, expected_loss DOUBLE,
        intended_share DOUBLE, batch_pulls BIGINT, cum_regret DOUBLE, n_steps BIGINT
    )""",
    # the id of an imported decision; added for files created before the column existed
    "ALTER TABLE bandit_events ADD COLUMN IF NOT EXISTS decision_id VARCHAR",
]
