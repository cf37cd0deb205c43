"""The store: one DuckDB file, the only code that speaks SQL.

Concurrency: DuckDB lets one process hold a file open for writing at a time, and a
reader in another process cannot open it meanwhile. So nobody holds a connection for
long: every read and every write opens the file, does its work and closes it, and an
open that meets another process's lock waits and retries (``RECSCOPE_LOCK_TIMEOUT``
seconds, default 120) before giving up with one sentence. Long jobs compute first and
write their results in one short transaction at the end. Several reads that belong
together (one user on the Compare page) share one connection: ``with store.session() as
s:`` gives an object with the Store's read API.
"""

from __future__ import annotations

import os
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from engine.errors import StoreBusy
from engine.store.schema import SCHEMA_VERSION, all_ddl, migrate

#: The store inside a clone, relative to the clone's top folder.
DEFAULT_DB = Path("data") / "recscope.duckdb"

_initialised: set[str] = set()
_init_lock = threading.Lock()


def default_db_location() -> tuple[Path, str]:
    """The store used when no ``--db`` is given, and where that choice came from.

    In order: ``$RECSCOPE_DB``; ``data/recscope.duckdb`` in the clone this code runs
    from; else ``recscope.duckdb`` in the per-user data folder (an installed package;
    see engine.paths.user_data_dir).
    """
    from engine.paths import source_root, user_data_dir

    env = os.environ.get("RECSCOPE_DB")
    if env:
        return Path(env), "$RECSCOPE_DB"
    root = source_root()
    if root is not None:
        return root / DEFAULT_DB, "the clone's data folder"
    return user_data_dir() / "recscope.duckdb", "the per-user data folder"


def default_db_path() -> Path:
    return default_db_location()[0]


def _schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The version a file says it has; None for a new file (no ``meta`` table yet)."""
    has_meta = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta' "
                           "AND database_name = current_database()").fetchone()[0]
    if not has_meta:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    # a file from before versions were recorded counts as version 1
    return int(row[0]) if row is not None else 1


def _is_lock_error(exc: Exception) -> bool:
    msg = str(exc).lower()
    return "lock" in msg and ("conflicting" in msg or "could not set" in msg)


class Session:
    """Several reads sharing one open connection, with the read API of a Store
    (``connect``, ``df``, ``scalar``): opening the file costs more than a pruned per-user
    query. Made by ``Store.session()``; valid only inside its ``with`` block."""

    def __init__(self, store: "Store", con: duckdb.DuckDBPyConnection):
        self.path = store.path
        self.con = con

    def __repr__(self) -> str:
        return f"Session({str(self.path)!r})"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        yield self.con

    @contextmanager
    def session(self) -> Iterator["Session"]:
        """Itself: a reader that opens a session works inside an outer one too."""
        yield self

    def df(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | dict | None = None):
        row = self.con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]


class Store:
    """A handle on a DuckDB file. Cheap to create; holds no connection."""

    def __init__(self, path: str | os.PathLike | None = None, lock_timeout: float | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        self.lock_timeout = (float(os.environ.get("RECSCOPE_LOCK_TIMEOUT", "120"))
                             if lock_timeout is None else lock_timeout)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def _open(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if not _is_lock_error(exc) or time.monotonic() > deadline:
                    if _is_lock_error(exc):
                        raise StoreBusy(
                            f"The store {self.path} stayed locked by another recscope process "
                            f"for {self.lock_timeout:.0f} s; try again when it has finished."
                        ) from None
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)

    def _ensure_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        key = str(self.path.resolve())
        if key in _initialised:
            return
        with _init_lock:
            # Idempotent DDL, run once per process and file: creates a new store and adds
            # to an older one whatever tables a newer feature introduced.
            con.execute("BEGIN")
            old = _schema_version(con)
            for stmt in all_ddl():
                con.execute(stmt)
            migrate(con, old)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        [str(SCHEMA_VERSION)])
            con.execute("COMMIT")
            _initialised.add(key)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection (schema ensured). Close it quickly."""
        con = self._open()
        try:
            self._ensure_schema(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside BEGIN ... COMMIT; any exception rolls everything back."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One connection that several reads share: ``with store.session() as s:`` gives
        an object with the Store's read API (pass it wherever a reader takes a store)."""
        with self.connect() as con:
            yield Session(self, con)

    def df(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run one query and return a DataFrame."""
        with self.connect() as con:
            return con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | dict | None = None):
        with self.connect() as con:
            row = con.execute(sql, params or []).fetchone()
            return None if row is None else row[0]
