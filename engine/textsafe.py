"""Text from people is text: one rule for every CSV export (labels, reviews, runs...),
and one for every message printed to a terminal (``printable``).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (after any
leading spaces) runs as a formula when the CSV is opened in a spreadsheet
(``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``). Such a cell gets a leading apostrophe,
the OWASP advice for CSV injection. ``defuse_frame`` applies it to every text cell of a
DataFrame (ids, names and free text alike); numbers and timestamps are left as they are.
"""

from __future__ import annotations

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """``text`` for a terminal: every control character (newline, ESC, NUL, DEL, C1,
    bidi overrides...) shown as its escape (``\\n``, ``\\x1b``), so a message stays one
    line and a name cannot drive the terminal."""
    import unicodedata

    return "".join(ch.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                   for ch in str(text))


def defuse_csv_cell(value):
    """``value`` with a leading apostrophe if a spreadsheet would read it as a formula."""
    if isinstance(value, str) and (value[:1] in _TRIGGERS or value.lstrip(" ")[:1] in _TRIGGERS):
        return "'" + value
    return value


def defuse_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell (and text column name) defused."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(defuse_csv_cell)
    out.columns = [defuse_csv_cell(c) for c in out.columns]
    return out
