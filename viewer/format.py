"""Display formatting of item metadata: one line of an item's attributes for a card or
a table row. Every viewer path formats item attributes through ``format_attrs``.

Conventions: text values appear as they are, numbers with their key and a thousands
separator (not for years and ids), booleans as yes/no, ISO timestamps as dates; empty,
null, NaN and nested values are left out, so no "None" or "nan" reaches the page.

Missing values (None, NaN, NaT) anywhere in the viewer go through ``fmt``/``fmt_column``:
they read as an em dash (``MISSING``), and the place that shows them says why on hover
(``WHY``: a column's help or a caption's tooltip).
"""

from __future__ import annotations

import json
import re

import numpy as np

# Missing values and text widths live in the engine: the HTML reports use them too.
from engine.report.text import (  # noqa: F401  (re-exported for the viewer)
    MISSING, WHY, cut, fmt, fmt_column, fmt_frame, has_missing, is_missing, text_width, wrap)

_ISO_TS = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def format_attrs(attrs: str | None, max_len: int = 32, max_parts: int = 3) -> str:
    """A short display line from an item's attrs JSON.

    Text values appear as they are (``東京都``), numbers with their key (``hourly wage
    1,500``), timestamps as dates; at most ``max_parts`` values, each cut at ``max_len``.
    """
    if not attrs:
        return ""
    try:
        d = json.loads(attrs)
    except (TypeError, ValueError):
        return ""
    if not isinstance(d, dict):
        return ""
    parts = []
    for key, value in d.items():
        if value is None or value == "" or isinstance(value, (list, dict)) \
                or (isinstance(value, float) and np.isnan(value)):
            continue
        name = str(key).replace("_", " ")
        if isinstance(value, bool):
            text = f"{name}: {'yes' if value else 'no'}"
        elif isinstance(value, (int, float)):
            value = int(value) if float(value).is_integer() else value
            # no thousands separator for years and ids ("year 1997", not "year 1,997")
            plain = isinstance(value, int) and (name.endswith("year") or name.endswith(" id"))
            text = f"{name} {value}" if plain else f"{name} {value:,}"
        else:
            text = str(value)
            if _ISO_TS.match(text):
                text = f"{name} {text[:10]}"
        if len(text) > max_len:
            text = text[: max_len - 1] + "…"
        parts.append(text)
        if len(parts) >= max_parts:
            break
    return " · ".join(parts)
