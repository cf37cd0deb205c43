"""Cached read handles to the store, one view of it per page render, and the busy state.

``read(fn, *args)`` calls an engine function ``fn(store, *args)`` and caches its result
per store file and file version: a write by the CLI (or by this viewer) changes the
file's modification time, so the next render sees fresh data without a manual refresh.

One view per render: the version is taken once per script run (the first read of a run,
or of a fragment's run, pins it) and every read of that run is cached under it, so the
reads of one render that were cached together stay together even while a trainer, an
importer or a bandit stepper writes. DuckDB lets no reader in while another process
writes, so a read that misses the cache still sees the file as it is now: code that
joins two reads (a run list and an audience, say) keeps only the ids both know, and the
next render shows the rest.

Busy store: a read waits at most ``RECSCOPE_VIEWER_LOCK_TIMEOUT`` seconds (default 10)
for another process's lock, then raises ``StoreBusy``; ``busy_guard()`` (around every
page in app.py, and inside fragments) turns it into one line, "the store is busy,
retrying", and reruns the page after a short wait: never Streamlit's error box. Something
deleted between two reads of one render (``NotFound``: an experiment, a run) is shown
as deleted in one line, and the page is drawn again (at most ``MAX_RETRIES`` times in a
row) from the store as it now is.

``write_only(writer, *args, affects=(reader, ...))`` runs a small write by this viewer
whose effect only the listed readers can see (a visit stamp): every other read keeps its
cached result across that write instead of reading the whole store again.
``figure(name, builder, *args)`` keeps a chart built from cached reads for as long as the
store version it came from (building plotly figures costs more than the reads).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import streamlit as st

from engine.errors import NotFound, StoreBusy
from engine.store import Store, default_db_path

#: Seconds to wait before a busy page tries again.
RETRY_SECONDS = 2.0
#: Redraws in a row after something was deleted mid-render, before the page settles.
MAX_RETRIES = 2


def db_path() -> Path:
    return default_db_path()


def get_store() -> Store:
    return Store(db_path())


def read_lock_timeout() -> float:
    """How long a page's read waits for another process's lock (seconds)."""
    try:
        return max(0.0, float(os.environ.get("RECSCOPE_VIEWER_LOCK_TIMEOUT", "10")))
    except ValueError:
        return 10.0


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


def _run_ctx():
    """The current script run's context, or None outside a Streamlit script run."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        return get_script_run_ctx(suppress_warning=True)
    except Exception:  # noqa: BLE001 (no runtime: a plain Python caller)
        return None


def pinned_version() -> tuple[str, int]:
    """The store version of this script run: taken at its first read, then kept.

    A run is recognised by the ``cursors`` dict that Streamlit makes anew for every
    script run (whole page or fragment); the pin holds a reference to it, so an identity
    test cannot be fooled by a reused id."""
    ctx = _run_ctx()
    if ctx is None:
        return store_version()
    run_marker = getattr(ctx, "cursors", None)
    pin = getattr(ctx, "_recscope_pin", None)
    if pin is not None and pin[0] is run_marker and pin[1][0] == str(db_path()):
        return pin[1]
    version = store_version()
    try:
        ctx._recscope_pin = (run_marker, version)
    except AttributeError:   # a context that takes no attributes: no pin, fresh versions
        pass
    return version


def _unpin() -> None:
    ctx = _run_ctx()
    if ctx is not None and getattr(ctx, "_recscope_pin", None) is not None:
        ctx._recscope_pin = None


@st.cache_data(show_spinner=False, max_entries=1024, ttl=3600)
def _cached(_fn: Callable, fn_id: str, version: tuple[str, int], args: tuple, kwargs: tuple) -> Any:
    return _fn(Store(version[0], lock_timeout=read_lock_timeout()), *args, **dict(kwargs))


#: store version after a viewer write -> (version before it, ids of the readers it affects)
_aliases: dict[tuple[str, int], tuple[tuple[str, int], frozenset[str]]] = {}


def _fn_id(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _version_for(fn_id: str) -> tuple[str, int]:
    """This render's pinned store version, or the version before this viewer's own small
    writes (``write_only``) for readers those writes cannot affect."""
    v = pinned_version()
    alias = _aliases.get(v)
    if alias is not None and fn_id not in alias[1]:
        return alias[0]
    return v


def read(fn: Callable, *args, **kwargs) -> Any:
    """``fn(store, *args, **kwargs)``, cached under this render's store version."""
    fn_id = _fn_id(fn)
    return _cached(fn, fn_id, _version_for(fn_id), args, tuple(sorted(kwargs.items())))


def write_only(writer: Callable, *args, affects: tuple[Callable, ...], **kwargs) -> Any:
    """``writer(store, *args, **kwargs)``, a write whose effect only the ``affects`` readers
    see: their next read is fresh, every other read keeps its cached result."""
    before = store_version()
    out = writer(get_store(), *args, **kwargs)
    after = store_version()
    _unpin()   # the rest of this run reads the new version (aliased for other readers)
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
    """Forget cached reads (call after this viewer wrote to the store); the rest of this
    run reads the store as it is now."""
    _cached.clear()
    _unpin()
    _figure.clear()


def busy_message() -> None:
    st.info("The store is busy (another recscope process is writing to it); retrying…",
            icon=":material/hourglass_top:")


@contextmanager
def busy_guard(scope: str = "app") -> Iterator[None]:
    """Run a page (or a fragment: ``scope="fragment"``) and, if the store stays locked
    past the read timeout, show one line and rerun it after ``RETRY_SECONDS``; if
    something it read was deleted meanwhile, say so and draw it again."""
    key = f"_db_deleted_retries_{scope}"
    try:
        yield
    except StoreBusy:
        busy_message()
        time.sleep(RETRY_SECONDS)
        st.rerun(scope=scope)
    except NotFound as exc:
        from viewer.safe import md

        st.info(f"Deleted while this page was drawn: {md(exc, 300)}",
                icon=":material/delete:")
        tries = st.session_state.get(key, 0)
        if tries < MAX_RETRIES:
            st.session_state[key] = tries + 1
            st.rerun(scope=scope)
    else:
        if st.session_state.get(key):
            st.session_state[key] = 0
