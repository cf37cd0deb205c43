"""Selections <-> URL query parameters, so every view has a shareable link.

Pages read their selections with ``param`` and write them back with ``set_params``; a
copied URL therefore reopens the same view. Values are text in the URL; lists are
comma-separated.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

T = TypeVar("T")


def param(name: str, default: T | None = None, cast: Callable[[str], T] | None = None) -> T | None:
    """The query parameter ``name`` (cast), or ``default`` when absent or not castable."""
    raw = st.query_params.get(name)
    if raw is None or raw == "":
        return default
    if cast is None:
        return raw  # type: ignore[return-value]
    try:
        return cast(raw)
    except (TypeError, ValueError):
        return default


def param_list(name: str, cast: Callable[[str], T] = str) -> list[T]:
    """A comma-separated query parameter as a list; entries that do not cast are dropped."""
    raw = st.query_params.get(name)
    if not raw:
        return []
    out = []
    for part in str(raw).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(cast(part))
        except (TypeError, ValueError):
            continue
    return out


def raw_list(name: str) -> list[str]:
    raw = st.query_params.get(name)
    return [p.strip() for p in str(raw).split(",") if p.strip()] if raw else []


def set_params(**values) -> None:
    """Write selections to the URL. ``None`` removes a parameter; lists are joined by commas."""
    for key, value in values.items():
        if value is None or value == [] or value == "":
            if key in st.query_params:
                del st.query_params[key]
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        value = str(value)
        if st.query_params.get(key) != value:
            st.query_params[key] = value


_UNSEEN = object()


def sync_widget(key: str, name: str, value) -> None:
    """Before a widget bound to URL parameter ``name`` is drawn: when the parameter
    changed since this page last wrote it (a link, a click elsewhere, a fresh visit), the
    widget ``key`` takes ``value``; otherwise the widget keeps what the person chose."""
    raw = st.query_params.get(name)
    if st.session_state.get(f"{key}__url", _UNSEEN) != raw:
        st.session_state[key] = value
        st.session_state[f"{key}__url"] = raw


def mark_seen(key: str, name: str) -> None:
    """After the page wrote parameter ``name``: remember it as this widget's own."""
    st.session_state[f"{key}__url"] = st.query_params.get(name)
