"""Tables of the funnel (application / hire) prediction models.

- ``oracle``: the true P(apply | view) and P(hire | apply) of each view, for synthetic
  datasets that know them (one row per view event).
- ``prediction_models``: one row per trained model: its dataset, target and given events,
  kind (lightgbm | logistic), parameters and metrics (JSON), and the model itself (a
  pickled blob: the fitted estimator, calibrator and feature names).
- ``predictions``: the model's calibrated probability for each test row, with its label,
  so that anyone can recompute the metrics; ``ts`` and ``segment`` columns are extras.
"""

DDL = [
    """CREATE TABLE IF NOT EXISTS oracle (
        dataset VARCHAR, user_id VARCHAR, item_id VARCHAR, time TIMESTAMP,
        p_apply DOUBLE, p_hire DOUBLE
    )""",
    "CREATE SEQUENCE IF NOT EXISTS prediction_model_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS prediction_models (
        model_id INTEGER PRIMARY KEY, dataset VARCHAR, target VARCHAR, given VARCHAR,
        kind VARCHAR, run_id INTEGER,
        params VARCHAR,           -- JSON
        metrics VARCHAR,          -- JSON: the test-period figures, baselines, lift, segments
        importance VARCHAR,       -- JSON: feature -> {gain, permutation}
        model BLOB,               -- pickle of the fitted model bundle
        created_at TIMESTAMP DEFAULT current_timestamp
    )""",
    """CREATE TABLE IF NOT EXISTS predictions (
        model_id INTEGER, user_id VARCHAR, item_id VARCHAR, label INTEGER, score DOUBLE,
        ts TIMESTAMP, oracle DOUBLE
    )""",
]

#: Runs evaluated against one kind of held-out event only (``relevance``: apply | hire),
#: computed on first request from the run's stored lists and split, then kept here.
DDL += [
    """CREATE TABLE IF NOT EXISTS relevance_metrics (
        run_id INTEGER, relevance VARCHAR, metric VARCHAR, k INTEGER, value DOUBLE
    )""",
    """CREATE TABLE IF NOT EXISTS relevance_user_metrics (
        run_id INTEGER, relevance VARCHAR, user_id VARCHAR, metric VARCHAR, k INTEGER, value DOUBLE
    )""",
]
