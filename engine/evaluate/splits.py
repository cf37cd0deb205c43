"""Train/test splits of interactions for offline evaluation of recommenders.

``make_split(interactions, method, ...)`` returns a ``Split`` (train, test, method,
params, info). Rules shared by all methods (read these before trusting a number):

- Splits are over distinct (user, item) pairs, because recommenders exclude items a user
  has already seen: an item in a user's test set is never also in their train set. A
  pair's time is its FIRST interaction. ``test`` has one row per (user, item) pair (the
  pair's first event in the test period, with ``weight`` = the largest weight among its
  test-period events); ``train`` keeps every event of its pairs, repeats included (they
  carry weight for the models). Repeat events of a test pair are dropped, counted in
  ``info["test_repeat_events_collapsed"]``.
- Users with fewer than ``min_history`` distinct items are never evaluated: for
  leave_last_n and random they stay entirely in train; they are counted in
  ``info["users_train_only"]`` (together with any other user left without a test item).
- Every evaluated user keeps at least one item in train.
- Deterministic given ``seed``: ties and random draws use one random key per (user, item)
  pair, drawn in sorted-id order, so the result does not depend on the input row order.

Methods:
- ``leave_last_n``: per user, the ``n`` most recently first-seen items go to test (at most
  the user's distinct items - 1). Same-time ties are broken by the seeded random key.
  Events without a timestamp (NaT) count as the oldest.
- ``random``: per user, round(``fraction`` x distinct items) items, at least 1 and at most
  distinct items - 1, drawn at random.
- ``time_cut``: global. ``cut`` is a timestamp, or a float in (0, 1) read as the quantile
  of event times. Events before the cut (and NaT events) are train. A pair whose first
  event is at/after the cut goes to test; events at/after the cut of pairs the user already
  had before it are dropped (``info["test_dropped_seen_in_train"]``). Here ``min_history``
  counts distinct items BEFORE the cut; users below it, and users with no events before
  the cut (``info["test_users_without_train"]``), are not evaluated and their post-cut
  events are dropped rather than moved into train, which would leak the future.
- ``auto``: leave_last_n when any timestamp exists, else random.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.errors import DataError

METHODS = ("auto", "leave_last_n", "random", "time_cut")


@dataclass
class Split:
    """A train/test split. ``info`` holds counts: n_train, n_test (rows), n_test_users,
    n_users, users_train_only, and method-specific diagnostics (see the module doc)."""

    train: pd.DataFrame
    test: pd.DataFrame
    method: str
    params: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def make_split(interactions: pd.DataFrame, method: str = "auto", *, n: int = 1,
               fraction: float = 0.2, cut=None, seed: int = 0,
               min_history: int = 2) -> Split:
    """Split interactions[user_id, item_id, timestamp, weight, ...] into train and test."""
    missing = [c for c in ("user_id", "item_id") if c not in interactions.columns]
    if missing:
        raise DataError(f"Interactions lack the column(s) {', '.join(missing)}.")
    if method not in METHODS:
        raise DataError(f"Unknown split method {method!r}; expected one of {', '.join(METHODS)}.")
    if not (isinstance(min_history, (int, np.integer)) and min_history >= 1):
        raise DataError(f"min_history must be an integer of at least 1, got {min_history!r}.")
    df = interactions.reset_index(drop=True)
    if "timestamp" not in df.columns:
        df = df.assign(timestamp=pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]"))
    if "weight" not in df.columns:
        df = df.assign(weight=1.0)
    if df["user_id"].isna().any() or df["item_id"].isna().any():
        col = "user_id" if df["user_id"].isna().any() else "item_id"
        row = int(np.flatnonzero(df[col].isna().to_numpy())[0])
        raise DataError(f"Interactions row {row + 1} has no {col}.")
    ts = pd.to_datetime(df["timestamp"])
    has_ts = bool(ts.notna().any())
    if method == "auto":
        method = "leave_last_n" if has_ts else "random"

    # Canonical integer codes (sorted ids) so randomness does not depend on row order.
    u_code, _ = pd.factorize(df["user_id"].astype(str), sort=True)
    i_code, i_uniq = pd.factorize(df["item_id"].astype(str), sort=True)
    n_items = np.int64(max(len(i_uniq), 1))
    pair_code, pair_keys = pd.factorize(u_code.astype(np.int64) * n_items + i_code, sort=True)
    n_pairs = len(pair_keys)
    pair_user = (np.asarray(pair_keys) // n_items).astype(np.int64)
    rng = np.random.default_rng(seed)
    pair_rand = rng.random(n_pairs)
    # nanoseconds since epoch; NaT counts as the oldest possible time
    t_ns = ts.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    t_ns = np.where(ts.isna().to_numpy(), np.iinfo(np.int64).min + 1, t_ns)

    if method in ("leave_last_n", "random"):
        if method == "leave_last_n":
            if not (isinstance(n, (int, np.integer)) and n >= 1):
                raise DataError(f"n must be a positive integer, got {n!r}.")
            if not has_ts:
                raise DataError("leave_last_n needs timestamps, and these interactions have "
                                "none; use method='random'.")
            params = {"n": int(n), "seed": int(seed), "min_history": int(min_history)}
        else:
            if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
                raise DataError(f"fraction must be strictly between 0 and 1, got {fraction!r}.")
            params = {"fraction": float(fraction), "seed": int(seed),
                      "min_history": int(min_history)}
        test_pair = _per_user_holdout(method, pair_code, pair_user, pair_rand, t_ns, n,
                                      fraction, min_history)
        is_test_event = test_pair[pair_code]
        train_mask = ~is_test_event
        test_events = np.flatnonzero(is_test_event)
        extra = {"test_dropped_seen_in_train": 0}
    else:
        if not has_ts:
            raise DataError("time_cut needs timestamps, and these interactions have none; "
                            "use method='random'.")
        cut_ts = _resolve_cut(cut, ts)
        params = {"cut": cut if isinstance(cut, float) else str(cut_ts), "seed": int(seed),
                  "min_history": int(min_history)}
        before = (ts < cut_ts).to_numpy() | ts.isna().to_numpy()
        pair_in_train = np.zeros(n_pairs, dtype=bool)
        pair_in_train[pair_code[before]] = True
        n_users_all = int(u_code.max()) + 1 if len(u_code) else 0
        train_items = np.bincount(pair_user[pair_in_train], minlength=n_users_all)
        user_ok = train_items >= min_history
        after = ~before
        seen = after & pair_in_train[pair_code]
        candidate = after & ~pair_in_train[pair_code]
        no_train_user = candidate & (train_items[u_code] == 0)
        test_ev = candidate & user_ok[u_code]
        train_mask = before
        test_events = np.flatnonzero(test_ev)
        extra = {
            "cut": str(cut_ts),
            "test_dropped_seen_in_train": int(np.unique(pair_code[seen]).size),
            "test_users_without_train": int(np.unique(u_code[no_train_user]).size),
            "users_below_min_history_dropped": int(np.unique(
                u_code[candidate & ~user_ok[u_code] & (train_items[u_code] > 0)]).size),
            "events_dropped_after_cut": int(np.count_nonzero(after & ~test_ev)),
        }

    train = df.loc[train_mask].copy()
    test = _one_row_per_pair(df, test_events, pair_code, t_ns)
    n_users = int(df["user_id"].nunique())
    n_test_users = int(test["user_id"].nunique())
    info = {
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "n_test_users": n_test_users,
        "n_users": n_users,
        "users_train_only": int(train["user_id"].nunique()
                                - train.loc[train["user_id"].isin(test["user_id"]), "user_id"].nunique()),
        "test_repeat_events_collapsed": int(len(test_events) - len(test)),
        **extra,
    }
    return Split(train=train.reset_index(drop=True), test=test, method=method,
                 params=params, info=info)


def _per_user_holdout(method, pair_code, pair_user, pair_rand, t_ns, n, fraction,
                      min_history) -> np.ndarray:
    """Boolean per pair: does it go to test (leave_last_n / random)?"""
    n_pairs = pair_user.size
    n_users = int(pair_user.max()) + 1 if n_pairs else 0
    size = np.bincount(pair_user, minlength=n_users)
    if method == "leave_last_n":
        # every pair code 0..n_pairs-1 occurs, so the sorted group index is the pair code
        first_ns = pd.Series(t_ns).groupby(pair_code, sort=True).min().to_numpy()
        want = np.minimum(n, size - 1)
        # newest first; among equal times, the larger random key first
        order = np.lexsort((-pair_rand, -first_ns, pair_user))
    else:
        want = np.clip(np.floor(fraction * size + 0.5).astype(np.int64), 1, size - 1)
        order = np.lexsort((pair_rand, pair_user))
    want = np.where(size >= min_history, want, 0)
    u_sorted = pair_user[order]
    starts = np.searchsorted(u_sorted, np.arange(n_users))
    pos_in_user = np.arange(n_pairs) - starts[u_sorted]
    test_pair = np.zeros(n_pairs, dtype=bool)
    test_pair[order[pos_in_user < want[u_sorted]]] = True
    return test_pair


def _resolve_cut(cut, ts: pd.Series) -> pd.Timestamp:
    if cut is None:
        raise DataError("time_cut needs cut: a timestamp, or a float in (0, 1) read as a "
                        "quantile of the interaction times.")
    if isinstance(cut, (float, np.floating)) and not isinstance(cut, bool):
        if not 0 < cut < 1:
            raise DataError(f"cut as a quantile must be strictly between 0 and 1, got {cut!r}.")
        return ts.dropna().quantile(float(cut))
    try:
        cut_ts = pd.Timestamp(cut)
    except (ValueError, TypeError):
        raise DataError(f"cut must be a timestamp or a quantile in (0, 1), got {cut!r}.") from None
    if cut_ts.tzinfo is not None and ts.dt.tz is None:
        cut_ts = cut_ts.tz_convert(None)
    return cut_ts


def _one_row_per_pair(df: pd.DataFrame, rows: np.ndarray, pair_code: np.ndarray,
                      t_ns: np.ndarray) -> pd.DataFrame:
    """The earliest event of each (user, item) pair among ``rows``, weight = max weight."""
    if rows.size == 0:
        return df.iloc[0:0].reset_index(drop=True)
    pc_ = pair_code[rows]
    order = np.lexsort((rows, t_ns[rows], pc_))
    first = np.ones(order.size, dtype=bool)
    first[1:] = pc_[order][1:] != pc_[order][:-1]
    keep = rows[order[first]]
    test = df.iloc[keep].copy()
    wmax = pd.Series(df["weight"].to_numpy()[rows]).groupby(pc_).max()
    test["weight"] = wmax.reindex(pair_code[keep]).to_numpy()
    return test.sort_values(["user_id", "item_id"], kind="stable").reset_index(drop=True)
