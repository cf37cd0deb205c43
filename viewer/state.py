"""Selections <-> URL query parameters, so every view has a shareable link.

Pages read their selections with ``param`` and write them back with ``set_params``; a
copied URL therefore reopens the same view. Values are text in the URL; lists are
comma-separated.

A value that a widget is bound to is read with ``url_value``: a value in a link that
does not cast, is not among the options or lies outside the bounds gets one warning
naming the parameter, and the view falls back to its default. ``param`` (silent) is for
free text (a search, a name) and for values a page checks itself.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

from viewer.safe import md

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


#: How a cast names what a parameter should be, in a warning.
_KIND = {int: "a whole number", float: "a number"}


def url_value(name: str, default: T, *, cast: Callable[[str], T] = str, options=None,
              bounds: tuple | None = None, what: str = "", note: str = "",
              format_func: Callable = str, unknown: str | None = None) -> T:
    """The value of URL parameter ``name``, or ``default`` with one warning when the link
    holds a bad one.

    ``options``: the values allowed (the warning lists the first 12, shown with
    ``format_func``); ``bounds``: an inclusive (low, high) range; ``what`` names what the
    value should be, ``note`` adds why the bounds are what they are. ``unknown``, a
    template with ``{raw}`` and ``{default}``, replaces the warning for a value that does
    not cast or is not an option (e.g. "There is no experiment #{raw}; ...").
    """
    raw = st.query_params.get(name)
    if raw is None or raw == "":
        return default
    # the raw value and the names shown are user-controlled: escaped for Markdown
    shown = md(format_func(default))
    raw_text = md(raw)
    try:
        value = cast(raw)
    except (TypeError, ValueError):
        if unknown is not None:
            warn(unknown.replace("{raw}", raw_text).replace("{default}", shown))
        else:
            warn(f"{name}=“{raw_text}” in the link is not {_KIND.get(cast, what or 'valid')}; "
                  f"showing {name}={shown}.")
        return default
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        warn(f"{name}={raw_text} in the link is outside {bounds[0]} to {bounds[1]}{note}; "
              f"showing {name}={shown}.")
        return default
    if options is not None and value not in options:
        if unknown is not None:
            warn(unknown.replace("{raw}", raw_text).replace("{default}", shown))
        else:
            choices = ", ".join(md(format_func(o)) for o in list(options)[:12])
            warn(f"{name}=“{raw_text}” in the link is not {what or 'an option'} here (choose "
                  f"from {choices}); showing {shown}.")
        return default
    return value


def warn(text: str) -> None:
    """One warning about a bad value in the link. ``text`` is Markdown: every
    user-controlled value in it must already have gone through ``safe.md``."""
    st.warning(text, icon=":material/warning:")


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
