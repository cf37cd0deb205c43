"""Every number and name from a person is checked once, here, at the edge.

One mechanism for the CLI (argparse ``type=`` functions built by ``arg_int`` /
``arg_float`` / ``arg_floats`` / ``arg_name``) and for the pages' forms and the engine's
public functions (``check_int`` / ``check_float`` / ``check_name``, which raise
``DataError`` with one sentence). Conventions:

- Numbers must be finite: NaN, inf and ``1e400`` (which parses as inf) are refused.
- ``true``/``false`` is never a number (``float(True)`` is 1 in Python; not here).
- A whole number must be written as one (``3``, ``3.0``, ``1e3``); ``2.5`` is refused.
- Where a value can exhaust the machine (memory, time), it has an upper bound listed in
  ``BOUNDS`` below; the bound is in the error sentence and in ``--help`` via the parser.
- Names (datasets, runs, experiments, reviewers) must not hold control characters
  (newlines, tabs, terminal escape codes): they are printed in terminals and pages.
"""

from __future__ import annotations

import argparse
import math
import unicodedata
from typing import Callable

from engine.errors import DataError
from engine.textsafe import printable

#: Documented upper bounds of sizes that can exhaust memory or time, by what they count.
#: ``(low, high)``; ``None`` means unbounded on that side.
BOUNDS: dict[str, tuple] = {
    "seed": (0, 2**32 - 1),          # numpy's seed range
    "k": (1, 1_000),                 # list length: rows = users x k
    "neighbours": (0, 1_000),        # similar items kept per item
    "test_n": (1, 100_000),
    "min_history": (1, 1_000_000),
    "folds": (2, 50),                # cross-validation folds of the review classifier
    "C": (1e-9, 1e9),                # inverse regularisation of the review classifier
    "arms": (1, 1_000),              # fixed-rate bandit arms
    "steps": (1, 10_000_000),        # simulated decisions (arrays of this length)
    "batch": (1, 1_000_000),         # decisions per bandit batch
    "batches": (1, 10_000),          # batches per `bandit step` / `bandit run` step
    "delay": (0, 10_000),            # batches before a reward arrives
    "max_steps": (1, 1_000_000_000),
    "prior": (1e-6, 1e6),            # Beta prior alpha / beta
    "every": (0.01, 86_400.0),       # seconds between `bandit run` steps
    "duration": (0.0, 31_536_000.0),  # `bandit run --for`: at most a year
    "id": (1, 2**31 - 1),            # run / experiment / split ids (INTEGER columns)
    "trials": (1, 10_000),           # `recscope tune` trials in one call
    "timeout": (0.0, 31_536_000.0),  # `recscope tune --timeout` seconds (0: one trial): a year at most
    "cv_folds": (2, 50),             # `recscope train --folds`: runs per algorithm
    "candidates": (1, 1_000),        # `predict rerank`: candidates re-ordered per user
    "horizon": (0.0, 36_500.0),      # `predict train --horizon` days
    "top": (1, 1_000_000),           # rows a listing prints
    # recommender parameters (engine.recommend.registry calls ``check_param``)
    "param.factors": (1, 1_024),
    "param.iterations": (1, 10_000),
    "param.K": (1, 10_000),
    "param.neg_prop": (1, 1_000),
    "param.max_items": (1, 30_000),  # EASE holds a dense max_items^2 float matrix
}


def _bounds_text(low, high) -> str:
    if low is not None and high is not None:
        return f"between {low:,} and {high:,}" if isinstance(low, int) else f"between {low:g} and {high:g}"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}"


def _number(value, what: str, whole: bool):
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in
                                   ("true", "false")):
        raise DataError(f"{what} must be {kind}, not {value!r}.")
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{what} must be {kind}; got {value!r}.") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise DataError(f"{what} must be a finite number; got {value!r}.")
    if whole:
        if isinstance(number, float):
            if not number.is_integer():
                raise DataError(f"{what} must be a whole number; got {value!r}.")
            number = int(number)
    return number


def check_int(value, what: str, low=None, high=None, *, bound: str | None = None) -> int:
    """``value`` as an int within [low, high] (or ``BOUNDS[bound]``), else one sentence."""
    if bound is not None:
        low, high = BOUNDS[bound]
    n = _number(value, what, whole=True)
    if (low is not None and n < low) or (high is not None and n > high):
        raise DataError(f"{what} must be {_bounds_text(low, high)}; got {value!r}.")
    return int(n)


def check_float(value, what: str, low=None, high=None, *, bound: str | None = None,
                low_inclusive: bool = True) -> float:
    """``value`` as a finite float within [low, high] (or ``BOUNDS[bound]``)."""
    if bound is not None:
        low, high = BOUNDS[bound]
    x = float(_number(value, what, whole=False))
    too_low = low is not None and (x < low or (x == low and not low_inclusive))
    if too_low or (high is not None and x > high):
        text = _bounds_text(low, high) if low_inclusive or low is None else (
            f"above {low:g}" + (f" and at most {high:g}" if high is not None else ""))
        raise DataError(f"{what} must be {text}; got {value!r}.")
    return x


def check_floats(text: str, what: str, low=None, high=None, *, count: int | None = None,
                 max_count: int | None = None) -> list[float]:
    """Comma-separated finite numbers, each within [low, high]."""
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise DataError(f"{what} is empty; expected comma-separated numbers, e.g. 0.04,0.05.")
    if any(not p for p in parts):
        raise DataError(f"{what} has an empty entry in {text!r}; expected comma-separated "
                        f"numbers, e.g. 0.04,0.05.")
    for p in parts:
        try:
            float(p)
        except ValueError:  # not a number at all: say what the whole value should look like
            raise DataError(f"{what} must be comma-separated numbers, e.g. 0.04,0.05; got "
                            f"{text!r}.") from None
    vals = [check_float(p, f"Each value of {what}", low, high) for p in parts]
    if count is not None and len(vals) != count:
        raise DataError(f"{what} needs {count} numbers; got {len(vals)}.")
    if max_count is not None and len(vals) > max_count:
        raise DataError(f"{what} holds {len(vals):,} values; at most {max_count:,} are allowed.")
    return vals


def check_ints(text: str, what: str, low=None, high=None) -> list[int]:
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts) or any(not p for p in parts):
        raise DataError(f"{what} must be comma-separated whole numbers; got {text!r}.")
    return [check_int(p, f"Each value of {what}", low, high) for p in parts]


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (newline, tab, ESC, DEL, C1, ...)."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in str(text))


def shown(text: str, limit: int = 80) -> str:
    """``text`` for a one-line message: control characters as escapes, cut at ``limit``."""
    text = printable(str(text))
    return text if len(text) <= limit else text[:limit] + "..."


def check_name(value, what: str, *, max_len: int = 200) -> str:
    """A name a person gave: non-empty, no control characters, at most ``max_len`` long."""
    text = str(value)
    if not text.strip():
        raise DataError(f"{what} must not be empty.")
    if has_control(text):
        raise DataError(f"{what} must not hold control characters (newlines, tabs, terminal "
                        f"escape codes); got '{shown(text)}'.")
    if len(text) > max_len:
        raise DataError(f"{what} is {len(text):,} characters long; at most {max_len} are allowed.")
    return text


def check_param(algo: str, key: str, default, value):
    """A recommender parameter before the registry's own range check: no booleans for
    numbers, finite, and within ``BOUNDS['param.<key>']`` where one is listed."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise DataError(f"Parameter {key!r} of {algo!r} must be true or false; got {value!r}.")
        return value
    what = f"Parameter {key!r} of {algo!r}"
    if isinstance(value, float) and value != value or str(value).strip().lower() == "nan":
        return value  # NaN: the registry's range check names the range it misses
    # the lower bound is the registry's RANGES (its sentences); the upper one is ours
    high = BOUNDS.get(f"param.{key}", (None, None))[1]
    if isinstance(default, int):
        check_int(value, what, None, high)
    else:
        check_float(value, what, None, high)
    return value  # as given: the registry converts it and names it in its own sentences


# --------------------------------------------------------------------------- argparse

def _argtype(fn: Callable, name: str, numeric: bool = False) -> Callable[[str], object]:
    def parse(text: str):
        if numeric:
            try:
                float(text)
            except ValueError:  # argparse's own "invalid int value: 'abc'" sentence
                raise ValueError(text) from None
        try:
            return fn(text)
        except DataError as exc:
            raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None
    parse.__name__ = name  # argparse names the type in its messages
    return parse


def arg_int(low=None, high=None, *, bound: str | None = None, what: str = "the value",
            upper_only: bool = False):
    """An argparse ``type=`` for a bounded whole number. ``upper_only``: the command checks
    the lower bound itself with its own sentence (kept for its users), this the rest."""
    if bound is not None:
        low, high = BOUNDS[bound]
    if upper_only:
        low = None
    return _argtype(lambda t: check_int(t, what, low, high), "int", numeric=True)


def arg_float(low=None, high=None, *, bound: str | None = None, what: str = "the value",
              low_inclusive: bool = True, upper_only: bool = False):
    """An argparse ``type=`` for a bounded finite number (``upper_only`` as in arg_int)."""
    if bound is not None:
        low, high = BOUNDS[bound]
    if upper_only:
        low = None
    return _argtype(lambda t: check_float(t, what, low, high,
                                          low_inclusive=low_inclusive), "float",
                    numeric=True)


def arg_name(what: str = "the name"):
    """An argparse ``type=`` for a name without control characters."""
    return _argtype(lambda t: check_name(t, what), "name")


def arg_text(what: str = "the value"):
    """An argparse ``type=`` for other text (ids, column names, paths): no control
    characters except a tab (a separator may be one)."""
    def check(t: str) -> str:
        if has_control(t.replace("\t", "")):
            raise DataError(f"{what} must not hold control characters; got "
                            f"'{shown(t)}'.")
        return t
    return _argtype(check, "text")
