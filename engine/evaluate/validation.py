"""Validation parts and cross-validation folds, for tuning and ``--folds``.

``validation_split(train, method, params)``: tuning scores its trials on a part carved
from the TRAINING part of a split by the same rule as the split itself (only ``train``
is ever passed in, so the test part cannot be read):

- leave_last_n: each user's last ``n`` training items (same ``n``, same seed) are the
  validation targets; random: the same fraction of each user's training items;
- time_cut: a time cut inside the training period: the same quantile when the split's
  cut was a quantile, else the 0.8 quantile of the training event times.

``user_folds`` / ``time_folds``: the folds of ``recscope train --folds N``:

- random and leave_last_n splits: the split is made once over all users; the test
  users are then dealt into N groups (seeded shuffle). Fold f tests group f's held-out
  items; every other user's held-out items go back into training. Each user is tested
  in exactly one fold, so the folds' per-user values pool into one paired sample.
- time_cut splits: N rolling windows: the event times' quantiles 0.5, 0.5 + 0.5/N, ...,
  1 cut the second half of the log into N windows; fold f trains on everything before
  window f and tests on window f (the same time_cut rules, events after the window
  dropped). A user can be tested in several windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.evaluate.splits import Split, make_split

#: Quantile of training times used as the validation cut when the split's cut was a date.
VALIDATION_TIME_QUANTILE = 0.8
#: Rolling time windows cover the event times from this quantile on.
TIME_FOLDS_START = 0.5


def validation_split(train: pd.DataFrame, method: str, params: dict | None = None,
                     seed: int = 0) -> Split:
    """The validation split of a training part (see the module doc)."""
    p = dict(params or {})
    min_history = int(p.get("min_history", 2))
    if method == "leave_last_n":
        out = make_split(train, "leave_last_n", n=int(p.get("n", 1)), seed=seed,
                         min_history=min_history)
    elif method == "random":
        out = make_split(train, "random", fraction=float(p.get("fraction", 0.2)), seed=seed,
                         min_history=min_history)
    elif method == "time_cut":
        cut = p.get("cut")
        q = cut if isinstance(cut, float) and 0 < cut < 1 else VALIDATION_TIME_QUANTILE
        out = make_split(train, "time_cut", cut=float(q), seed=seed, min_history=min_history)
    else:
        raise DataError(f"Cannot carve a validation part for split method {method!r}.")
    if out.test is None or len(out.test) == 0:
        raise DataError("The validation part carved from the training part is empty; the "
                        "training part is too small to tune on.")
    return out


def user_folds(train: pd.DataFrame, test: pd.DataFrame, n_folds: int, seed: int = 0
               ) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """[(train_f, test_f)] for f in 0..n_folds-1: test users dealt into ``n_folds`` groups;
    the held-out items of the users outside group f join the training part."""
    users = np.array(sorted(test["user_id"].astype(str).unique()), dtype=object)
    if len(users) < n_folds:
        raise DataError(f"{n_folds} folds need at least {n_folds} test users; the split has "
                        f"{len(users)}.")
    order = np.random.default_rng(seed).permutation(len(users))
    group = pd.Series(np.arange(len(users)) % n_folds, index=users[order])
    test_group = test["user_id"].astype(str).map(group).to_numpy()
    out = []
    for f in range(n_folds):
        mine = test_group == f
        back = test.loc[~mine, [c for c in train.columns if c in test.columns]]
        out.append((pd.concat([train, back], ignore_index=True),
                    test.loc[mine].reset_index(drop=True)))
    return out


def time_folds(positives: pd.DataFrame, n_folds: int, seed: int = 0, min_history: int = 2
               ) -> list[Split]:
    """Rolling windows (see the module doc): one time_cut split per window."""
    ts = pd.to_datetime(positives["timestamp"])
    edges = np.linspace(TIME_FOLDS_START, 1.0, n_folds + 1)
    out = []
    for f in range(n_folds):
        start = ts.dropna().quantile(float(edges[f]))
        end = ts.dropna().quantile(float(edges[f + 1]))
        keep = (ts < end) | ts.isna() if f < n_folds - 1 else pd.Series(True, index=ts.index)
        split = make_split(positives.loc[keep.to_numpy()], "time_cut", cut=start, seed=seed,
                           min_history=min_history)
        if len(split.test) == 0:
            raise DataError(f"Time window {f + 1} of {n_folds} holds no test interactions; "
                            f"use fewer --folds.")
        out.append(split)
    return out
