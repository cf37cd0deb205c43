"""DDL of the review tables (owned by the reviews feature)."""

DDL = [
    """CREATE TABLE IF NOT EXISTS reviews (
        dataset VARCHAR, review_id VARCHAR, text VARCHAR,
        label INTEGER,            -- truth shipped with the data: 1 meaningless/spam, 0 fine, NULL unknown
        company VARCHAR, user_id VARCHAR, created_at TIMESTAMP,
        attrs VARCHAR             -- JSON of any further columns
    )""",
    "CREATE SEQUENCE IF NOT EXISTS review_model_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS review_models (
        model_id INTEGER PRIMARY KEY, dataset VARCHAR,
        created_at TIMESTAMP DEFAULT current_timestamp,
        parent_model_id INTEGER,  -- the model this one retrained, if any
        params VARCHAR,           -- JSON (ModelParams)
        n_train BIGINT, n_positive BIGINT,
        n_human_labels BIGINT,    -- training labels that came from people, not the shipped truth
        cv_folds INTEGER,
        roc_auc DOUBLE, pr_auc DOUBLE, f1 DOUBLE, precision DOUBLE, recall DOUBLE,
        cv_threshold DOUBLE,      -- the F1-maximising threshold on out-of-fold scores
        threshold DOUBLE,         -- the threshold in use (cv_threshold unless a person moved it)
        n_scored BIGINT, n_flagged BIGINT,  -- n_flagged at cv_threshold
        top_ngrams VARCHAR,       -- JSON [{ngram, coef}]
        code_version VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS review_scores (
        model_id INTEGER, review_id VARCHAR,
        score DOUBLE,             -- calibrated probability of 'meaningless'
        out_of_fold BOOLEAN,      -- true: a training review scored by a model that did not see it
        reasons VARCHAR,          -- JSON [{code, text}]
        spans VARCHAR             -- JSON [{ngram, weight, spans: [[start, end], ...]}], original offsets
    )""",
    "CREATE SEQUENCE IF NOT EXISTS review_label_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS review_labels (
        label_id BIGINT,          -- order of events; history is append-only
        dataset VARCHAR, review_id VARCHAR,
        label VARCHAR,            -- 'meaningless' | 'fine' | 'skip' | 'undo' (cancels the latest standing row)
        reviewer VARCHAR, labelled_at TIMESTAMP DEFAULT current_timestamp,
        model_id INTEGER,         -- the model whose queue the person was working from, if any
        batch_id VARCHAR          -- rows written by one bulk action share it
    )""",
    # md5 of the review text the label was given for: a replaced reviews dataset that
    # reuses an id with another text keeps the label as one for an earlier version
    # (NULL for labels written before the column existed: they apply as before)
    "ALTER TABLE review_labels ADD COLUMN IF NOT EXISTS text_hash VARCHAR",
]

# --- the daily loop (issue 17). Added with IF NOT EXISTS so older stores gain them on open.
DDL += [
    # Which dataset a score row is about: a model of dataset A can score dataset B's reviews,
    # whose ids may repeat A's. NULL in rows written before the column existed, which were
    # always about the model's own dataset (readers fall back to review_models.dataset).
    "ALTER TABLE review_scores ADD COLUMN IF NOT EXISTS dataset VARCHAR",
    # The fitted model itself, so that it can score reviews later without retraining: one
    # row per model, ``format`` 'pickle' (CalibratedModel pickled; the store is the team's
    # own file, so unpickling it is trusted like the code).
    """CREATE TABLE IF NOT EXISTS review_model_artifacts (
        model_id INTEGER, format VARCHAR, data BLOB
    )""",
    # Each `import reviews --append` is a batch: when, from where, how many were added and
    # how many skipped as already present. Reviews of the first import belong to no batch.
    "CREATE SEQUENCE IF NOT EXISTS review_batch_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS review_batches (
        batch_id INTEGER, dataset VARCHAR, added_at TIMESTAMP DEFAULT current_timestamp,
        source VARCHAR, n_added BIGINT, n_skipped BIGINT,
        model_id INTEGER           -- the model that scored the batch on arrival, if any
    )""",
    """CREATE TABLE IF NOT EXISTS review_batch_members (
        dataset VARCHAR, review_id VARCHAR, batch_id INTEGER
    )""",
    # A reviewer's visits to a dataset's page (the latest one before this session tells
    # what is new since).
    """CREATE TABLE IF NOT EXISTS review_visits (
        dataset VARCHAR, reviewer VARCHAR, visited_at TIMESTAMP DEFAULT current_timestamp
    )""",
]
