"""Text from users is text, never markup: the one place that makes a user-controlled
string (a URL parameter, a stored name, an item's title, a reviewer's name) inert before
it reaches something that Streamlit or Plotly would interpret.

- ``md(text)``: for anything Streamlit renders as Markdown (st.warning/info/error/
  success/markdown/caption/title, widget labels, help texts, tab and expander labels).
  Backslash escapes (always literal in CommonMark) go before every character that can
  open markup: ``\\ ` * _ [ ] < > | ~ $ @ &`` everywhere (links, images, emphasis, code,
  HTML tags, tables, strikethrough, LaTeX, e-mail autolinks, entities), a ``:`` that is
  followed by a non-space (``https://``, ``javascript:``, colour directives
  ``:red[...]``, ``:material/icon:``), an invisible word joiner into ``https:``,
  ``www.`` and ``@`` (GFM's literal autolinks, which no backslash stops), and with ``start=True`` a block marker at the start (``#``, ``-``, ``1.``).
  Ordinary punctuation (``-``, ``.``, ``'``, ``:`` before a space) stays as it is, so a
  name like ``#3 my-als (als)`` or a sentence ``MemoryError: too big`` reads the same in
  the page's source as on the page.
- ``html(text)``: for HTML we build ourselves (``unsafe_allow_html``) and for Plotly,
  whose titles, legends, ticks and hover texts understand a few tags (``<a href>``,
  ``<b>``, ``<br>``) and HTML entities.
- ``plain(text)``: for places that show text as it is (selectbox options, dataframe
  cells): only the cleaning shared by all three.

All three first drop control and format characters (newlines become spaces; bidi
overrides, zero-width characters and terminal escapes disappear) and cut very long
values to ``limit`` characters with "…", so a hostile link cannot flood or reorder a
message. The cut happens before escaping, so an escape is never split.

Lives in engine/report (the HTML reports and the charts they share with the viewer
escape text the same way); ``viewer/safe.py`` re-exports it for the pages.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata

#: Longest user-controlled value shown in a message (longer ones end with "…").
LIMIT = 120

#: Characters that can open markup wherever they stand.
_MD_ALWAYS = re.compile(r"([\\`*_\[\]<>|~$@&])")
#: A colon that something follows: ``https://``, ``javascript:``, ``:red[``, ``:smile:``.
_MD_COLON = re.compile(r":(?=\S)")
#: Where GFM's literal autolinks start: "http://", "https://", "www." and the "@" of an
#: e-mail address. remark-gfm finds them in the text *after* escapes are undone, so a
#: backslash cannot stop them: a WORD JOINER (U+2060, invisible) splits the pattern.
_MD_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto|xmpp)(?=\\:)|\bwww(?=\.)|\\@)")
_WJ = "\u2060"
#: A block marker at the start of a line: heading, quote, list item, setext line.
_MD_BLOCK = re.compile(r"^(\s*\d*)([#>+=-]|(?<=\d)[.)])")


def plain(text, limit: int | None = LIMIT) -> str:
    """``text`` as one line of printable characters, at most ``limit`` long.

    Categories Cc (controls), Cf (format: bidi overrides, zero-width), Cs, Co and Cn are
    dropped; line and paragraph breaks and tabs become a space."""
    if text is None:
        return "—"
    s = str(text)
    out = []
    for ch in s:
        if ch in "\n\r\t\v\f\u2028\u2029\x85":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch)
    s = "".join(out)
    if limit is not None and len(s) > limit:
        s = s[: max(limit - 1, 0)] + "…"
    return s


def md(text, limit: int | None = LIMIT, *, start: bool = False) -> str:
    """``text`` made inert for Streamlit's Markdown (see the module docstring).

    ``start``: the text begins a line (a title, a caption of its own), so a leading
    block marker (``#``, ``>``, ``-``, ``+``, ``=``, ``1.``) is escaped too."""
    s = _MD_ALWAYS.sub(r"\\\1", plain(text, limit))
    s = _MD_COLON.sub(r"\\:", s)
    s = _MD_AUTOLINK.sub(lambda m: m.group(1) + _WJ, s)
    if start:
        s = _MD_BLOCK.sub(lambda m: m.group(1) + "\\" + m.group(2), s, count=1)
    return s


def html(text, limit: int | None = LIMIT) -> str:
    """``text`` made inert for HTML and Plotly text (``<``, ``>``, ``&``, quotes escaped)."""
    return _html.escape(plain(text, limit), quote=True)


def code(text, limit: int | None = LIMIT) -> str:
    """``text`` as an inline Markdown code span (literal inside: no escapes needed), its
    fence one backtick longer than the longest run of backticks in it."""
    s = plain(text, limit)
    runs = [len(m) for m in re.findall(r"`+", s)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def plot(text, limit: int | None = LIMIT) -> str:
    """``text`` made inert for Plotly (titles, legends, ticks, hover texts, annotations),
    which reads ``<a href>``, ``<b>``, ``<br>`` and entities in any of them."""
    return _html.escape(plain(text, limit), quote=False)


def plot_labels(labels: dict | None) -> dict:
    """{key: ``plot(label)``}: a chart's labels made inert once, at its door."""
    return {k: plot(v) for k, v in (labels or {}).items()}
