"""The DuckDB schema. Versioned: ``meta.schema_version`` records what a file has.

Every statement is idempotent (``IF NOT EXISTS``) so that opening an older file adds
what is missing. Domain modules (reviews, bandits) keep their tables beside their SQL
in ``engine/store/<domain>_tables.py``, which ``all_ddl`` below appends.
"""

from engine.store import bandit_tables, item_index, predict_tables, review_tables, tuning_tables

SCHEMA_VERSION = 5  # 2: runs' owner columns (engine/liveness.py); 3: studies, trials, fold_runs (tuning_tables); 4: oracle, prediction models (predict_tables); 5: per (run, item) summaries (item_index)

CORE_DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    # datasets
    """CREATE TABLE IF NOT EXISTS datasets (
        name VARCHAR PRIMARY KEY,
        source VARCHAR,
        created_at TIMESTAMP DEFAULT current_timestamp,
        n_users BIGINT, n_items BIGINT, n_interactions BIGINT, n_reviews BIGINT,
        info VARCHAR              -- JSON: loader notes (duplicates collapsed, ...)
    )""",
    # the name of a reviews dataset's positive class ("deceptive", "spam"); NULL means the
    # default "meaningless". Added for files created before the column existed.
    "ALTER TABLE datasets ADD COLUMN IF NOT EXISTS positive_name VARCHAR",
    """CREATE TABLE IF NOT EXISTS users (
        dataset VARCHAR, user_id VARCHAR,
        attrs VARCHAR             -- JSON object of display metadata
    )""",
    """CREATE TABLE IF NOT EXISTS items (
        dataset VARCHAR, item_id VARCHAR, title VARCHAR, category VARCHAR,
        attrs VARCHAR             -- JSON object of further display metadata
    )""",
    """CREATE TABLE IF NOT EXISTS interactions (
        dataset VARCHAR, user_id VARCHAR, item_id VARCHAR, ts TIMESTAMP,
        event VARCHAR, weight DOUBLE
    )""",
    # splits: split_defs describes a split, splits holds its (user, item) rows
    "CREATE SEQUENCE IF NOT EXISTS split_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS split_defs (
        split_id INTEGER PRIMARY KEY, dataset VARCHAR, method VARCHAR,
        params VARCHAR,           -- JSON
        created_at TIMESTAMP DEFAULT current_timestamp,
        n_train BIGINT, n_test BIGINT, n_test_users BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS splits (
        split_id INTEGER, user_id VARCHAR, item_id VARCHAR, part VARCHAR, -- 'train' | 'test'
        ts TIMESTAMP, weight DOUBLE
    )""",
    # the event of each split row (so a run on a stored split can weight events); added
    # for files created before the column existed
    "ALTER TABLE splits ADD COLUMN IF NOT EXISTS event VARCHAR",
    # runs
    "CREATE SEQUENCE IF NOT EXISTS run_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id INTEGER PRIMARY KEY, dataset VARCHAR, split_id INTEGER,
        algorithm VARCHAR, name VARCHAR,
        params VARCHAR,           -- JSON
        source VARCHAR,           -- 'trained' | 'imported'
        status VARCHAR,           -- 'running' | 'done' | 'failed'
        error VARCHAR,
        k INTEGER,
        fit_seconds DOUBLE, recommend_seconds DOUBLE, evaluate_seconds DOUBLE,
        n_users BIGINT,
        code_version VARCHAR,
        created_at TIMESTAMP DEFAULT current_timestamp,
        finished_at TIMESTAMP
    )""",
    # version 2: the process that owns a 'running' run and its heartbeat, so a later
    # process can mark a killed run 'failed' (engine/liveness.py); NULL on older rows
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS owner_host VARCHAR",
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS owner_pid INTEGER",
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS owner_started VARCHAR",
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS heartbeat_unix DOUBLE",  # unix seconds
    """CREATE TABLE IF NOT EXISTS recommendations (
        run_id INTEGER, user_id VARCHAR, rank SMALLINT, item_id VARCHAR, score DOUBLE
    )""",
    """CREATE TABLE IF NOT EXISTS metrics (
        run_id INTEGER, metric VARCHAR, k INTEGER, value DOUBLE
    )""",
    """CREATE TABLE IF NOT EXISTS user_metrics (
        run_id INTEGER, user_id VARCHAR, metric VARCHAR, k INTEGER, value DOUBLE
    )""",
    # What a run keeps of its model so the viewer can ask it questions later (an ALS
    # run's item factors and their item ids, for the model's own explanations). One row
    # per (run, artifact): an .npy payload (format 'npy') or UTF-8 JSON ('json'). A BLOB
    # rather than a run_item_factors(run_id, item_id, FLOAT[]) table: the one read the
    # page makes is the whole matrix, and one blob row comes back as a numpy array
    # without 50,000 per-row lists (measured at 50,000 x 64: 0.07 s against 0.11-0.13 s,
    # 12.6 MB against 11.8 MB on disk).
    """CREATE TABLE IF NOT EXISTS run_artifacts (
        run_id INTEGER, name VARCHAR, format VARCHAR, data BLOB
    )""",
    # Each training item's top-N most similar items according to the run's model (the
    # models that can say: kNN, BM25, ALS/BPR/LMF, EASE), for the Item page. Written by
    # finish_run with the run, sorted by (run_id, item_id) so the page's one-item read
    # prunes by zonemaps; rank starts at 1, the item itself is never its own neighbour.
    """CREATE TABLE IF NOT EXISTS item_neighbours (
        run_id INTEGER, item_id VARCHAR, rank SMALLINT, neighbour_id VARCHAR, score DOUBLE
    )""",
    # A run's health warnings (engine.evaluate.health): one row per warning, written by
    # finish_run with the run. Added for files created before it existed; runs finished
    # before then have no rows and show no warnings (they are not re-checked).
    """CREATE TABLE IF NOT EXISTS run_warnings (
        run_id INTEGER, code VARCHAR, message VARCHAR, value DOUBLE
    )""",
]


def all_ddl() -> list[str]:
    return (CORE_DDL + item_index.DDL + review_tables.DDL + bandit_tables.DDL
            + tuning_tables.DDL + predict_tables.DDL)


def migrate(con, old_version: int | None) -> None:
    """Fill what a file written at ``old_version`` lacks, after ``all_ddl`` ran (in the
    same transaction). None = a new file: nothing to fill.

    5: the per (run, item) summaries (``item_index``) of every run with stored lists
    (a 1 M-user store with 4 runs: 30-105 s once, with the write lock held).
    """
    if old_version is None:
        return
    if old_version < 5:
        item_index.index_runs(con)
