"""Search spaces of the recommenders' parameters, for tuning (``recscope tune``).

A space maps a parameter name to a ``Dim``: a closed range [low, high], whole numbers
or not (from the type of the parameter's default), on a log scale or not. Each
algorithm declares its space with its registry entry (``AlgoSpec.space``);
``parse_space`` reads ``--space 'bpr.learning_rate=0.001..0.3:log'`` overrides
(``ALGO.NAME=LOW..HIGH`` with an optional ``:log`` or ``:lin``, or ``ALGO.NAME=VALUE``
to pin a parameter). Bad input is one sentence (``DataError``). Pure: no store, no
Optuna (the tuner turns a ``Dim`` into ``trial.suggest_int``/``suggest_float``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.errors import DataError


@dataclass(frozen=True)
class Dim:
    """One searched parameter: low..high inclusive; ``integer``: whole numbers;
    ``log``: sampled uniformly in log space (low must then be above 0)."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def to_json(self) -> dict:
        return {"low": self.low, "high": self.high, "log": self.log, "integer": self.integer}

    @classmethod
    def from_json(cls, d: dict) -> "Dim":
        return cls(d["low"], d["high"], bool(d.get("log")), bool(d.get("integer")))


def ilog(low: int, high: int) -> Dim:
    return Dim(int(low), int(high), log=True, integer=True)


def ilin(low: int, high: int) -> Dim:
    return Dim(int(low), int(high), integer=True)


def flog(low: float, high: float) -> Dim:
    return Dim(float(low), float(high), log=True)


def flin(low: float, high: float) -> Dim:
    return Dim(float(low), float(high))


def _number(text: str, item: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"--space {item!r}: {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise DataError(f"--space {item!r}: {text!r} is not a finite number.")
    return value


def parse_space(items: list[str] | None, algo: str, defaults: dict, base: dict[str, Dim],
                check=None) -> tuple[dict[str, Dim], dict]:
    """(space, fixed): ``base`` with the ``--space`` overrides for algorithm ``algo``
    applied; ``fixed`` holds pinned parameters (``ALGO.NAME=VALUE``).

    ``defaults``: the algorithm's parameters with their defaults (names and types);
    ``check(name, value)``: raises ``DataError`` when a value is out of the parameter's
    valid range (the registry's own check), applied to both ends of a range.
    """
    space = dict(base)
    fixed: dict = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        prefix, dot, name = key.strip().partition(".")
        if not sep or not dot or not prefix or not name or not value.strip():
            raise DataError(f"--space {item!r} is not of the form ALGO.NAME=LOW..HIGH[:log] "
                            f"(e.g. bpr.learning_rate=0.001..0.3:log).")
        if prefix != algo:
            raise DataError(f"--space {item!r} names algorithm {prefix!r}, but the study tunes "
                            f"{algo!r}.")
        if name not in defaults:
            raise DataError(f"--space {item!r}: algorithm {algo!r} has no parameter {name!r}; "
                            f"its parameters are: {', '.join(defaults) or 'none'}.")
        integer = isinstance(defaults[name], int) and not isinstance(defaults[name], bool)
        body, colon, scale = value.strip().partition(":")
        if colon and scale not in ("log", "lin"):
            raise DataError(f"--space {item!r}: the scale after ':' is 'log' or 'lin', "
                            f"not {scale!r}.")
        if ".." not in body:
            if colon:
                raise DataError(f"--space {item!r}: a scale needs a range LOW..HIGH.")
            v = _number(body, item)
            if check is not None:
                v = check(name, v)
            fixed[name] = v
            space.pop(name, None)
            continue
        lo_text, _, hi_text = body.partition("..")
        low, high = _number(lo_text, item), _number(hi_text, item)
        if low >= high:
            raise DataError(f"--space {item!r}: the range {low:g}..{high:g} is "
                            f"{'empty' if low == high else 'inverted'}; give LOW < HIGH.")
        if integer and not (low.is_integer() and high.is_integer()):
            raise DataError(f"--space {item!r}: {name!r} is a whole number; give whole ends.")
        log = scale == "log" if colon else (name in base and base[name].log)
        if log and low <= 0:
            raise DataError(f"--space {item!r}: a log range must stay above 0, and "
                            f"{low:g}..{high:g} includes 0 or less.")
        if check is not None:
            check(name, low)
            check(name, high)
        space[name] = Dim(int(low) if integer else low, int(high) if integer else high,
                          log=log, integer=integer)
        fixed.pop(name, None)
    return space, fixed
