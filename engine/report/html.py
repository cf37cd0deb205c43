"""One self-contained HTML file: the assembly shared by every report.

Conventions:
- ``Doc`` collects sections in order; ``render()`` returns the whole page as text.
  plotly.js is embedded once, as a single ``<script>`` in ``<head>``; each figure is a
  ``to_html(full_html=False, include_plotlyjs=False)`` fragment with a fixed div id
  (``fig-1``, ``fig-2``, ...) so the same inputs give the same bytes.
- Every text that can come from a person (dataset, run, arm, reviewer names, review
  texts, parameters) goes through ``html.escape`` here: callers pass plain text.
- The provenance block (when, which store, which code version, the command that remakes
  the file) is one line per fact; the creation time is the only line that changes
  between two builds from the same store (``CREATED_PREFIX`` marks it).
- Nothing here opens the store: pure functions of frames and strings.
"""

from __future__ import annotations

import html
import math
from typing import Iterable

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from engine.report.text import MISSING

#: Latin first, then the CJK families of the major systems, so Japanese text renders.
FONT_STACK = ('system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", '
              'Arial, "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Hiragino Kaku '
              'Gothic ProN", "Yu Gothic", Meiryo, "Source Han Sans", sans-serif')
#: The line holding the creation time starts with this (tests drop it to compare bytes).
CREATED_PREFIX = '<p class="made" id="created">'
DASH = MISSING  # one em dash for every missing value (engine.report.text)

_CSS = f"""
body {{ font-family: {FONT_STACK}; margin: 0 auto; max-width: 1200px; padding: 1rem 2rem;
       color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.25rem; margin-top: 2rem;
       border-bottom: 1px solid #ddd; }} h3 {{ font-size: 1.05rem; }}
table {{ border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }}
th, td {{ border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
th {{ background: #f5f5f5; }} td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.made {{ color: #666; font-size: .85rem; margin: .1rem 0; }}
.warn {{ background: #fff4e5; border-left: 4px solid #e69f00; padding: .4rem .8rem; }}
.note {{ color: #555; font-size: .9rem; }}
.side {{ display: flex; gap: 1rem; flex-wrap: wrap; }}
code {{ background: #f5f5f5; padding: 0 .2rem; }}
"""


def esc(value) -> str:
    """Escaped text of ``value``; missing values (None, NaN, NaT) show as an em dash."""
    if value is None:
        return DASH
    try:
        if pd.isna(value):
            return DASH
    except (TypeError, ValueError):  # lists, dicts: not a scalar
        pass
    return html.escape(str(value))


def fmt_number(value, fmt: str = "%.4f") -> str:
    """printf-style ``fmt`` of a number; a dash for a missing one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    try:
        if pd.isna(value):
            return DASH
    except (TypeError, ValueError):
        pass
    return fmt % value


class Doc:
    """An HTML page built section by section; ``render`` gives the file's text."""

    def __init__(self, title: str):
        self.title = title
        self.parts: list[str] = []
        self.n_figures = 0

    def h2(self, text: str, anchor: str | None = None) -> None:
        aid = f' id="{html.escape(anchor)}"' if anchor else ""
        self.parts.append(f"<h2{aid}>{esc(text)}</h2>")

    def h3(self, text: str) -> None:
        self.parts.append(f"<h3>{esc(text)}</h3>")

    def p(self, text: str, cls: str | None = None) -> None:
        c = f' class="{cls}"' if cls else ""
        self.parts.append(f"<p{c}>{esc(text)}</p>")

    def warn(self, text: str) -> None:
        self.p(text, "warn")

    def raw(self, markup: str) -> None:
        """Markup built by this module's functions (already escaped)."""
        self.parts.append(markup)

    def table(self, df: pd.DataFrame, formats: dict | None = None) -> None:
        self.parts.append(table_html(df, formats))

    def figure(self, fig: go.Figure) -> None:
        self.n_figures += 1
        fig.update_layout(font_family=FONT_STACK)
        self.parts.append(fig.to_html(full_html=False, include_plotlyjs=False,
                                      div_id=f"fig-{self.n_figures}",
                                      config={"displaylogo": False, "responsive": True}))

    def render(self, provenance: "Provenance") -> str:
        script = f'<script type="text/javascript">{get_plotlyjs()}</script>' \
            if self.n_figures else ""
        return "\n".join([
            "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(self.title)}</title>", f"<style>{_CSS}</style>", script, "</head>",
            "<body>", f"<h1>{esc(self.title)}</h1>", provenance.html(), *self.parts,
            "</body>", "</html>", ""])


class Provenance:
    """When, from which store and code version a report was made, and its command."""

    def __init__(self, created: str, store: str, version: str, command: str):
        self.created, self.store, self.version, self.command = created, store, version, command

    def html(self) -> str:
        return "\n".join([
            f"{CREATED_PREFIX}Made {esc(self.created)}</p>",
            f'<p class="made">Store: <code>{esc(self.store)}</code></p>',
            f'<p class="made">Code: {esc(self.version)}</p>',
            f'<p class="made">Remake it: <code>{esc(self.command)}</code></p>'])


def table_html(df: pd.DataFrame, formats: dict | None = None) -> str:
    """A static table; ``formats`` maps column -> printf format (numbers right-aligned)."""
    formats = formats or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for col, v in zip(df.columns, rec):
            if col in formats:
                cells.append(f'<td class="num">{fmt_number(v, formats[col])}</td>')
            else:
                cells.append(f"<td>{esc(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def side_by_side(tables: Iterable[tuple[str, pd.DataFrame]]) -> str:
    """Several small captioned tables in one row (wraps on narrow screens)."""
    blocks = [f"<div><p><strong>{esc(cap)}</strong></p>{table_html(df)}</div>"
              for cap, df in tables]
    return f'<div class="side">{"".join(blocks)}</div>'
