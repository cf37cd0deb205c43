"""Text normalisation that remembers where each normalised character came from.

The classifier reads NFKC-normalised, lower-cased text with whitespace runs collapsed
to one space; the page highlights n-grams in the *original* text. ``normalise`` returns
the normalised string and, for each of its characters, the span of the original text
it came from, so that an n-gram found at ``norm[i:j]`` maps to ``text[start[i]:end[j-1]]``.

Written by hand because ``unicodedata.normalize`` gives no offsets. NFKC is applied per
segment: a segment is a character plus any following characters whose NFKC form begins
with a combining mark (e.g. half-width katakana ``ｶ`` + ``ﾞ``, or ``e`` + U+0301), so
compositions across that boundary come out as whole-string NFKC does.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

_SPACE = re.compile(r"\s")


def _segments(text: str) -> list[tuple[int, int]]:
    segs: list[tuple[int, int]] = []
    for i, ch in enumerate(text):
        nf = unicodedata.normalize("NFKC", ch)
        if segs and nf and unicodedata.combining(nf[0]):
            segs[-1] = (segs[-1][0], i + 1)
        else:
            segs.append((i, i + 1))
    return segs


def normalise(text: str) -> tuple[str, np.ndarray, np.ndarray]:
    """(normalised text, start offsets, end offsets) into ``text``, one pair per character."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    prev_space = True  # drop leading whitespace
    for a, b in _segments(text):
        piece = unicodedata.normalize("NFKC", text[a:b]).lower()
        for ch in piece:
            if _SPACE.match(ch):
                if prev_space:
                    continue
                ch = " "
                prev_space = True
            else:
                prev_space = False
            out.append(ch)
            starts.append(a)
            ends.append(b)
    if out and out[-1] == " ":  # drop trailing whitespace
        out.pop()
        starts.pop()
        ends.pop()
    return "".join(out), np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def normalise_text(text: str) -> str:
    """Only the normalised string (the vectoriser's preprocessor)."""
    return normalise(text)[0]


def dedup_key(text: str) -> str:
    """Key under which two reviews count as exact duplicates: normalised, punctuation-blind."""
    norm = normalise_text(text)
    return "".join(ch for ch in norm if not unicodedata.category(ch).startswith(("P", "Z")))
