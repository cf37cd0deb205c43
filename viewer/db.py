"""Cached read handles to the store.

``read(fn, *args)`` calls an engine function ``fn(store, *args)`` and caches its result
per store file and file version: a write by the CLI (or by this viewer) changes the
file's modification time, so the next read sees fresh data without a manual refresh.

``write_only(writer, *args, affects=(reader, ...))`` runs a small write by this viewer
whose effect only the listed readers can see (a visit stamp): every other read keeps its
cached result across that write instead of reading the whole store again.
``figure(name, builder, *args)`` keeps a chart built from cached reads for as long as the
store version it came from (building plotly figures costs more than the reads).
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


#: store version after a viewer write -> (version before it, ids of the readers it affects)
_aliases: dict[tuple[str, int], tuple[tuple[str, int], frozenset[str]]] = {}


def _fn_id(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _version_for(fn_id: str) -> tuple[str, int]:
    v = store_version()
    alias = _aliases.get(v)
    if alias is not None and fn_id not in alias[1]:
        return alias[0]
    return v


def read(fn: Callable, *args, **kwargs) -> Any:
    """``fn(store, *args, **kwargs)``, cached until the store file changes."""
    fn_id = _fn_id(fn)
    return _cached(fn, fn_id, _version_for(fn_id), args, tuple(sorted(kwargs.items())))


def write_only(writer: Callable, *args, affects: tuple[Callable, ...], **kwargs) -> Any:
    """``writer(store, *args, **kwargs)``, a write whose effect only the ``affects`` readers
    see: their next read is fresh, every other read keeps its cached result."""
    before = store_version()
    out = writer(get_store(), *args, **kwargs)
    after = store_version()
    if after != before:
        base, fresh = _aliases.get(before, (before, frozenset()))
        _aliases[after] = (base, fresh | {_fn_id(f) for f in affects})
    return out


@st.cache_resource(show_spinner=False, max_entries=256, ttl=3600)
def _figure(_builder: Callable, name: str, key: tuple, version: tuple[str, int], _args: tuple) -> Any:
    return _builder(*_args)


def figure(name: str, key: tuple, builder: Callable, *args) -> Any:
    """``builder(*args)``, kept while the store version stays the same. ``key`` must
    identify ``args`` (e.g. the experiment id: args are frames read from the store);
    the figure is shared, so whoever draws it must not change it."""
    return _figure(builder, name, key, _version_for(name), args)


def invalidate() -> None:
    """Forget cached reads (call after this viewer wrote to the store)."""
    _cached.clear()
    _figure.clear()
