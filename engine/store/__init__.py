"""The DuckDB store: schema and the only code in recscope that speaks SQL.

Readers and writers only, organised by table: ``runs`` (runs, splits' definitions, run
artifacts), ``recommendations``, ``metrics`` (summary and per-user), ``interactions``
(and users), ``splits``, ``items``, ``item_index`` (per run and item summaries of the
lists, for the Item page), ``datasets``, ``reviews``, ``bandits``; shared SQL
helpers in ``sql``; the connection handling (``Store``, ``Store.session``) in ``core``.
Nothing here imports the computation packages or the services (tests/unit/test_layers.py).
"""

from engine.store.core import DEFAULT_DB, Store, default_db_location, default_db_path  # noqa: F401
