"""Small DataFrame helpers that every layer may use (the store's readers and the pure
analysis alike), so each is written once.

- ``empty_frame(columns)``: an empty DataFrame with the given column dtypes, so a function
  returns the same columns whether or not anything matched.
- ``unique_ints(values)``: ids as ints, duplicates dropped, first occurrence kept (the
  order asked is the order returned).
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})


def unique_ints(values: Iterable) -> list[int]:
    return list(dict.fromkeys(int(v) for v in values))
