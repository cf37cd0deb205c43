"""Samples: (user, item) pairs with an event of the *given* type, labelled by the target.

Conventions:
- One sample per (user, item) pair that has an event of the given type; its ``time`` is
  the pair's first such event (int64 nanoseconds since the epoch).
- Target ``"apply"`` (an event name): label 1 when the pair also has that event (any
  time, or within ``horizon_days`` of the sample's time); ``target_time`` is its first
  occurrence (when the outcome became known).
- Target ``"rating>=4"`` (a condition on the rating, i.e. the event's weight): the given
  event is the rating itself; label 1 when the pair's first rating meets the condition;
  ``target_time`` = ``time``.
- A dataset without timestamps gets a random order (seeded) in place of time, so the
  time split becomes a random split (``Samples.note`` says so in one line).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import DataError

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
_CONDITION = re.compile(r"^\s*(rating|weight)\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Target:
    text: str
    event: str                 # the event whose occurrence (or weight) decides the label
    op: str | None = None      # a rating condition: operator and threshold
    threshold: float | None = None

    @property
    def is_condition(self) -> bool:
        return self.op is not None


def parse_target(text: str) -> Target:
    """``"apply"`` -> an event target; ``"rating>=4"`` -> a condition on the rating."""
    text = (text or "").strip()
    if not text:
        raise DataError("--target is empty; give an event name (apply, hire) or a rating "
                        "condition such as 'rating>=4'.")
    m = _CONDITION.match(text)
    if m:
        return Target(text=text.replace(" ", ""), event="rating", op=m.group(2), threshold=float(m.group(3)))
    if any(c in text for c in "<>="):
        raise DataError(f"--target {text!r} is not a rating condition like 'rating>=4' "
                        f"(operators >=, >, <=, <, ==).")
    return Target(text=text, event=text)


@dataclass
class Samples:
    frame: pd.DataFrame        # user_id, item_id, time (int64 ns), label (0/1), target_time
    target: Target
    given: str
    note: str | None = None    # e.g. no timestamps: random split
    timed: bool = True
    maturity_days: float | None = None  # test samples this close to the data's end left out


def event_times(inter: pd.DataFrame, seed: int = 0) -> tuple[np.ndarray, bool]:
    """Event times as int64 ns; a random order instead when the data has no timestamps."""
    ts = pd.to_datetime(inter["timestamp"])
    if ts.notna().any():
        t = ts.astype("datetime64[ns]").to_numpy().astype("int64")
        if ts.isna().any():  # a few missing: they sort first (known before everything)
            t = np.where(ts.isna().to_numpy(), np.iinfo(np.int64).min // 2, t)
        return t, True
    order = np.random.default_rng(seed).permutation(len(inter))
    return order.astype("int64"), False


def build_samples(inter: pd.DataFrame, target: Target, given: str | None = None, seed: int = 0,
                  dataset: str = "", horizon_days: float | None = None) -> Samples:
    """The labelled samples of ``target`` given ``given`` (see the module docstring).
    ``horizon_days``: an event target counts only within this many days of the sample's
    time (None: any time)."""
    events = inter["event"].astype(str)
    known = sorted(events.unique())
    if target.is_condition:
        if "rating" not in known:
            raise DataError(f"--target {target.text!r} is a rating condition, but dataset "
                            f"{dataset!r} has no rating events (its events: {', '.join(known)}).")
        given = given or "rating"
        if given != "rating":
            raise DataError(f"--given {given!r}: a rating condition is judged on the rating "
                            f"itself, so --given must be 'rating' (or left out).")
    else:
        if target.event not in known:
            raise DataError(f"--target {target.event!r} is not an event of dataset {dataset!r}; "
                            f"its events are: {', '.join(known)}.")
        given = given or "view"
        if given not in known:
            raise DataError(f"--given {given!r} is not an event of dataset {dataset!r}; its "
                            f"events are: {', '.join(known)}.")
        if given == target.event:
            raise DataError(f"--given and --target are both {given!r}; the target must be a "
                            f"later step (e.g. --given view --target apply).")
    t, timed = event_times(inter, seed)
    df = pd.DataFrame({"user_id": inter["user_id"].astype(str).to_numpy(),
                       "item_id": inter["item_id"].astype(str).to_numpy(), "time": t,
                       "event": events.to_numpy(), "weight": inter["weight"].to_numpy(dtype="float64")})
    g = df[df["event"] == given].sort_values("time", kind="stable").drop_duplicates(["user_id", "item_id"])
    if target.is_condition:
        label = _OPS[target.op](g["weight"].to_numpy(), target.threshold).astype("int8")
        out = pd.DataFrame({"user_id": g["user_id"].to_numpy(), "item_id": g["item_id"].to_numpy(),
                            "time": g["time"].to_numpy(), "label": label,
                            "target_time": g["time"].to_numpy()})
    else:
        tg = (df[df["event"] == target.event].groupby(["user_id", "item_id"], sort=False)["time"].min()
              .rename("target_time"))
        out = g[["user_id", "item_id", "time"]].join(tg, on=["user_id", "item_id"])
        hit = out["target_time"].notna()
        if horizon_days is not None:
            if not horizon_days > 0:
                raise DataError(f"--horizon must be a positive number of days; got {horizon_days}.")
            hit &= (out["target_time"] - out["time"]) <= horizon_days * 86_400e9
            out.loc[~hit, "target_time"] = np.nan
        out["label"] = hit.astype("int8")
        # unknown outcome: never (the largest time), so it never counts as a past positive
        out["target_time"] = out["target_time"].fillna(np.iinfo(np.int64).max).astype("int64")
        out = out[["user_id", "item_id", "time", "label", "target_time"]]
    if len(out) == 0:
        raise DataError(f"Dataset {dataset!r} has no {given!r} events to predict from.")
    n_pos = int(out["label"].sum())
    if n_pos == 0 or n_pos == len(out):
        what = "never" if n_pos == 0 else "always"
        raise DataError(f"--target {target.text!r} {what} occurs after a {given!r} in dataset "
                        f"{dataset!r}; there is nothing to predict.")
    out = out.sort_values(["time", "user_id", "item_id"], kind="stable").reset_index(drop=True)
    note = None if timed else (f"Dataset {dataset!r} has no timestamps: the samples are split "
                               f"at random, and 'past' means earlier in a random order.")
    return Samples(frame=out, target=target, given=given, note=note, timed=timed)


def time_split(times: np.ndarray, test_fraction: float = 0.2, calibration_fraction: float = 0.2
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (fit, calibrate, test) by time: the last ``test_fraction`` of the
    samples (by time) are the test period; the last ``calibration_fraction`` of the rest
    is the held-out calibration slice; the earliest part fits the model. Samples at the
    same time fall on the same side."""
    times = np.asarray(times)
    order = np.sort(times)
    n = len(order)
    t_test = order[min(n - 1, int(np.floor(n * (1 - test_fraction))))]
    test = times >= t_test
    before = order[order < t_test]
    t_cal = before[min(len(before) - 1, int(np.floor(len(before) * (1 - calibration_fraction))))] if len(before) else t_test
    cal = (times >= t_cal) & ~test
    fit = ~test & ~cal
    if not fit.any() or not cal.any() or not test.any():
        raise DataError(f"Too few distinct times ({len(np.unique(times))}) to split the "
                        f"samples into training, calibration and test periods.")
    return fit, cal, test
