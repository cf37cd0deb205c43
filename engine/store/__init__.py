"""The DuckDB store: schema and the only code in recscope that speaks SQL."""

from engine.store.core import DEFAULT_DB, Store, default_db_location, default_db_path  # noqa: F401
