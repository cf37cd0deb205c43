"""DDL of the review tables (owned by the reviews feature)."""

DDL = [
    """CREATE TABLE IF NOT EXISTS reviews (
        dataset VARCHAR, review_id VARCHAR, text VARCHAR,
        label INTEGER,            -- truth shipped with the data: 1 meaningless/spam, 0 fine, NULL unknown
        company VARCHAR, user_id VARCHAR, created_at TIMESTAMP,
        attrs VARCHAR             -- JSON of any further columns
    )""",
]
