"""Cached read handles to the store.

``read(fn, *args)`` calls an engine function ``fn(store, *args)`` and caches its result
per store file and file version: a write by the CLI (or by this viewer) changes the
file's modification time, so the next read sees fresh data without a manual refresh.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from engine.store import Store, default_db_path


def db_path() -> Path:
    return default_db_path()


def get_store() -> Store:
    return Store(db_path())


def store_version() -> tuple[str, int]:
    """(path, newest modification time of the file and its WAL), cheap to compute."""
    p = db_path()
    stamps = [0]
    for f in (p, Path(str(p) + ".wal")):
        try:
            stamps.append(os.stat(f).st_mtime_ns)
        except FileNotFoundError:
            pass
    return str(p), max(stamps)


@st.cache_data(show_spinner=False, max_entries=1024, ttl=3600)
def _cached(_fn: Callable, fn_id: str, version: tuple[str, int], args: tuple, kwargs: tuple) -> Any:
    return _fn(Store(version[0]), *args, **dict(kwargs))


def read(fn: Callable, *args, **kwargs) -> Any:
    """``fn(store, *args, **kwargs)``, cached until the store file changes."""
    fn_id = f"{fn.__module__}.{fn.__qualname__}"
    return _cached(fn, fn_id, store_version(), args, tuple(sorted(kwargs.items())))


def invalidate() -> None:
    """Forget cached reads (call after this viewer wrote to the store)."""
    _cached.clear()
