"""SQL helpers every store module shares (one definition each).

- ``ph(values)``: one ``?`` placeholder per value, comma-separated (for ``IN (...)``).
- ``empty(columns)``: an empty DataFrame with the given column dtypes, so that a reader
  returns the same columns whether or not anything matched (``engine.data.frames``).
- ``run_ids(values)``: run ids as ints, duplicates dropped, first occurrence kept (the
  order asked is the order returned; ``engine.data.frames.unique_ints``).
- ``text_ids(values)``: user or item ids as text (ids are text in every table).
- ``SAMPLE``: a predicate keeping a fixed pseudo-random share of users (by a hash of the
  user id, so the same users in every run); its one parameter is ``sample_threshold``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from engine.data.frames import empty_frame as empty  # noqa: F401  (part of this module's API)
from engine.data.frames import unique_ints as run_ids  # noqa: F401

#: Modulus of the user-sampling hash (a prime, so the share is close to the one asked).
SAMPLE_MOD = 1000003
#: Predicate appended to a WHERE clause to keep a sample of users (one parameter).
SAMPLE = f" AND hash(user_id) % {SAMPLE_MOD} < ?"


def ph(values: Sequence) -> str:
    return ", ".join("?" for _ in values)


def text_ids(values: Iterable) -> list[str]:
    return [str(v) for v in values]


def sample_threshold(keep: int, of: int) -> int:
    """The ``SAMPLE`` parameter keeping about ``keep`` of ``of`` users."""
    return int(SAMPLE_MOD * int(keep) / of)
