"""DDL of the tuning and cross-validation tables (owned by the tuning feature).

- ``studies``: one row per tuning study: dataset, algorithm, the split it tunes on
  (trials are scored on a validation part carved from that split's TRAINING part),
  objectives (JSON list of "metric@k") with their directions, the search space and
  pinned parameters (JSON), the sampler seed, status ('running' | 'finished' |
  'interrupted'), and ``run_id``: the final run (best parameters trained on the whole
  training part, evaluated on the test part), NULL until the study ends.
- ``trials``: one row per finished trial: number (0, 1, ... within its study, resumed
  studies continue it), params (JSON), ``value`` (the first objective) and ``vals``
  (JSON list, one per objective), state ('COMPLETE' | 'PRUNED' | 'FAIL'),
  ``intermediate`` (JSON {percent of the trial's iterations: value}, see
  engine.services.tuning), seconds, and the reason of a failure.
- ``fold_runs``: runs trained by ``recscope train --folds N``: one row per run with its
  ``fold_group`` (one per command call), ``fold`` (0 .. n_folds - 1) and ``n_folds``.
"""

DDL: list[str] = [
    "CREATE SEQUENCE IF NOT EXISTS study_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS studies (
        study_id INTEGER PRIMARY KEY,
        dataset VARCHAR, algorithm VARCHAR, split_id INTEGER,
        objectives VARCHAR,       -- JSON list of "metric@k"
        directions VARCHAR,       -- JSON list of 'maximize' | 'minimize'
        space VARCHAR,            -- JSON {param: {low, high, log, integer}}
        fixed VARCHAR,            -- JSON {param: value}: pinned parameters
        seed INTEGER,
        status VARCHAR,
        run_id INTEGER,
        created_at TIMESTAMP DEFAULT current_timestamp,
        updated_at TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS trials (
        study_id INTEGER, number INTEGER,
        params VARCHAR,           -- JSON
        value DOUBLE,             -- first objective
        vals VARCHAR,             -- JSON list, one per objective
        state VARCHAR,            -- 'COMPLETE' | 'PRUNED' | 'FAIL'
        intermediate VARCHAR,     -- JSON {step: value}
        seconds DOUBLE,
        error VARCHAR,
        finished_at TIMESTAMP DEFAULT current_timestamp
    )""",
    """CREATE TABLE IF NOT EXISTS fold_runs (
        run_id INTEGER, fold_group INTEGER, fold INTEGER, n_folds INTEGER, scheme VARCHAR
    )""",
]
