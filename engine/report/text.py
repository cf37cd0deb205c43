"""Display text shared by the viewer and the HTML reports: missing values and widths.

Missing values (None, NaN, NaT) read as an em dash (``MISSING``), and the place that
shows them says why on hover (``WHY``). Widths count half-width cells: a CJK (wide or
full-width) character takes two, so a Japanese title is cut at the same visual width
as an English one.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd


# --------------------------------------------------------------------------- missing values

#: What every page shows where a value is missing (never "None", "nan" or "NaT").
MISSING = "—"

#: Why a value is missing, for the hover (a column's help, a caption's tooltip).
WHY = {
    "no_shared": "— : fewer than 2 items shared by both lists, so their order cannot be compared",
    "no_timestamp": "— : the dataset has no timestamp for this event",
    "not_labelled": "— : not labelled yet",
    "no_value": "— : no value (not computed for this row)",
    "no_users": "— : fewer than 2 users in common, so no test",
}


def is_missing(value) -> bool:
    """True for None, NaN, NaT and pandas' NA (and nothing else)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):       # lists and arrays are values, not missing
        return False


def fmt(value, spec: str = "", missing: str = MISSING) -> str:
    """``value`` formatted with ``spec``, or ``missing`` (an em dash) for None/NaN/NaT.

    ``spec``: a printf format as Streamlit's column configs take it (``"%.2f"``,
    ``"%+.4f"``, ``"%d"``, ``"%.1f%%"``), a Python format spec (``".2f"``, ``",d"``), or
    for timestamps a strftime format (default ``"%Y-%m-%d"``).

    The one place the viewer turns a possibly missing value into text."""
    if is_missing(value):
        return missing
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "strftime"):
        return pd.Timestamp(value).strftime(spec or "%Y-%m-%d")
    if spec.startswith("%"):
        return spec % value
    if spec:
        return format(value, spec)
    return str(value)


def fmt_column(values, spec: str = "", missing: str = MISSING) -> list[str]:
    """``fmt`` over a column: text cells, so a grid shows an em dash, not "None"."""
    return [fmt(v, spec, missing) for v in values]


def has_missing(values) -> bool:
    return any(is_missing(v) for v in values)


def text_width(text) -> int:
    """Display width in half-width cells: East Asian wide and full-width characters count
    2 (``unicodedata.east_asian_width``), so a Japanese title is cut at the same width as
    an English one."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def cut(text, n: int) -> str:
    """``text`` cut to at most ``n`` half-width cells, ending in "…" when cut; missing
    values read as an em dash."""
    if is_missing(text):
        return MISSING
    text = str(text)
    if text_width(text) <= n:
        return text
    out, w = [], 0
    for c in text:
        cw = 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if w + cw > n - 1:
            break
        out.append(c)
        w += cw
    return "".join(out).rstrip() + "…"


def wrap(text, n: int, lines: int = 2, sep: str = "<br>") -> str:
    """``text`` in at most ``lines`` lines of at most ``n`` cells (the last one cut with
    "…"), joined by ``sep`` (plotly's line break by default). Breaks after a space or a
    hyphen when one is in the second half of a line, else mid-word."""
    text = "" if is_missing(text) else str(text)
    out = []
    while text and len(out) < lines - 1 and text_width(text) > n:
        w, i = 0, 0
        while i < len(text) and w + text_width(text[i]) <= n:
            w += text_width(text[i])
            i += 1
        brk = max(text.rfind(" ", 0, i), text.rfind("-", 0, i))
        if brk >= i // 2:
            i = brk + 1
        out.append(text[:i].rstrip())
        text = text[i:].lstrip()
    if text:
        out.append(cut(text, n))
    return sep.join(out)


def fmt_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Every cell of ``df`` as text, missing ones as an em dash (for tables shown as
    text, where ``astype(str)`` would write "nan" and "None")."""
    return df.apply(lambda col: fmt_column(col)).astype(object) if len(df.columns) else df
