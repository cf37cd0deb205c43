"""Per (run, item) summaries of a run's lists, for the Item page's one-item reads.

``recommendations`` is sorted by (run_id, user_id, rank): a one-user read prunes to a
few row groups, but a one-item read ("who gets item X?") has to scan every row of the
runs asked (80 M rows on a 1 M-user store with 4 runs). So when a run's lists are
stored, two small tables sorted by (run_id, item_id) are written beside them, and the
Item page reads those, filtered on the item (zonemaps prune to the item's row groups):

- ``run_item_ranks`` (run_id, item_id, rank, n_users, n_hits): how many users get the
  item at each rank, and how many of those hold it in the test part of the run's split
  (a hit). Everything the audience table and the rank chart show is a sum over it (the
  median rank from the cumulative counts); at most items x K rows per run.
- ``run_item_recipients`` (run_id, item_id, pos, user_id, rank, hit): the first
  ``RECIPIENTS_KEPT`` users who get the item, in the order the Item page samples them
  (hits first, then by rank, then a stable hash of the user id, then the id; pos 1 =
  first). At most items x RECIPIENTS_KEPT rows per run.

Written by ``engine.store.runs.finish_run`` in the run's transaction (every path that
stores lists goes through it: the pipeline, the Ray backend, imported and re-ranked
runs), built for existing stores by the schema migration to version 5
(``engine.store.schema.migrate``), dropped with the run. Code that inserts into
``recommendations`` directly (test fixtures, the page benchmark's builder) calls
``index_runs`` afterwards.
"""

from __future__ import annotations

from typing import Iterable

#: Recipients kept per (run, item): the Item page shows 5 per run.
RECIPIENTS_KEPT = 20

#: The tables this module writes, dropped with a run.
TABLES = ("run_item_ranks", "run_item_recipients")

DDL = [
    """CREATE TABLE IF NOT EXISTS run_item_ranks (
        run_id INTEGER, item_id VARCHAR, rank SMALLINT, n_users BIGINT, n_hits BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS run_item_recipients (
        run_id INTEGER, item_id VARCHAR, pos SMALLINT, user_id VARCHAR, rank SMALLINT,
        hit BOOLEAN
    )""",
]

# the (user, item) pairs of the test part of run $r's split: what makes a listed item a hit
_TEST = ("SELECT DISTINCT user_id, item_id FROM splits WHERE part = 'test' "
         "AND split_id = (SELECT split_id FROM runs WHERE run_id = $r)")


def index_run(con, run_id: int) -> None:
    """(Re)write both tables for run ``run_id`` from its stored lists, on the caller's
    connection (inside its transaction)."""
    r = {"r": int(run_id)}
    drop_run(con, run_id)
    # no DuckDB progress bar on stdout (a CLI's --json output) for these two statements
    con.execute("SET enable_progress_bar = false")
    try:
        _insert(con, r)
    finally:
        con.execute("RESET enable_progress_bar")


def _insert(con, r: dict) -> None:
    con.execute(f"""
        INSERT INTO run_item_ranks
        WITH test AS ({_TEST})
        SELECT $r, x.item_id, x.rank, count(*), count(t.user_id)
        FROM recommendations x LEFT JOIN test t USING (user_id, item_id)
        WHERE x.run_id = $r GROUP BY x.item_id, x.rank ORDER BY x.item_id, x.rank""", r)
    # arg_min(value, key, n): the n rows with the smallest keys per item, smallest first
    # (a top-n aggregate: 2.5 s for 20 M rows where a row_number() window sorted for 13 s)
    con.execute(f"""
        INSERT INTO run_item_recipients
        WITH test AS ({_TEST}),
        firsts AS (
            SELECT x.item_id,
                   arg_min({{'user_id': x.user_id, 'rank': x.rank, 'hit': t.user_id IS NOT NULL}},
                           (t.user_id IS NULL, x.rank, hash(x.user_id), x.user_id),
                           {RECIPIENTS_KEPT}) AS l
            FROM recommendations x LEFT JOIN test t USING (user_id, item_id)
            WHERE x.run_id = $r GROUP BY x.item_id),
        flat AS (SELECT item_id, unnest(l) AS s, generate_subscripts(l, 1) AS pos FROM firsts)
        SELECT $r, item_id, CAST(pos AS SMALLINT), s.user_id, s.rank, s.hit
        FROM flat ORDER BY item_id, pos""", r)


def index_runs(con, run_ids: Iterable[int] | None = None) -> None:
    """``index_run`` for each of ``run_ids`` (None: every run with stored lists)."""
    if run_ids is None:
        run_ids = [r[0] for r in con.execute(
            "SELECT DISTINCT run_id FROM recommendations ORDER BY run_id").fetchall()]
    for run_id in run_ids:
        index_run(con, int(run_id))


def drop_run(con, run_id: int) -> None:
    for table in TABLES:
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", [int(run_id)])
