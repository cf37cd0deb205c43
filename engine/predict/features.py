"""Leakage-free features of each sample, computed only from data before its time.

Every "before" is strict: an event at exactly the sample's time does not count (so the
sample's own event never describes itself). A past *outcome* counts only once it was
known: a sample contributes to a user's or an item's past positive rate from its
``target_time`` on. Counts come from cumulative sums per key matched to each sample
with ``pandas.merge_asof(..., allow_exact_matches=False)``: vectorised, O(n log n).

Features (columns of the frame ``build_features`` returns; NaN where undefined):
- user_events, item_events: the user's / item's events of any type before the time;
- item_events_7d, item_trend: the item's events in the last 7 days, and their ratio to
  the 7 days before (+1 smoothing): popularity and its trend;
- user_rate, item_rate: past rate of the target among the user's / item's earlier
  samples, smoothed towards the global past rate with weight ``SMOOTHING`` samples;
- category_share, place_share: share of the user's earlier events in the item's
  category / place (``prefecture`` or ``place`` item column), when the items have one;
  category_events (their count) and category_rate (the user's past target rate in the
  item's category, smoothed towards user_rate);
- category_lift: the user's share of earlier events in the item's category (smoothed
  towards the base share with weight ``SHARE_SMOOTHING`` events) over the base share:
  the category's share of all earlier events at the item's place (everyone's; the whole
  board when items have no place). A user who looks at a category more than people at
  that place generally do likes it: what is on offer there is divided out;
- category_share_<event>: for each event type other than the ``given`` one (at most
  ``MAX_EVENT_TYPES``, the most frequent), the share of the user's earlier events of
  that type (a favorite, an application) in the item's category, smoothed towards
  category_share with weight ``SHARE_SMOOTHING`` events: a stronger sign of taste than a
  view. Needs an ``event`` column in ``events``;
- home_match: the item's place is the user's home (``home_prefecture``), when known;
- wage_vs_history: the item's wage over the mean wage of the user's earlier events
  (``hourly_wage`` or ``wage``), NaN without history;
- posting_age_days: time since the item's ``posted_at``;
- run_score, run_rank: the pair's score and rank in a recommender run's lists (NaN when
  the run did not list it);
- wage_vs_category: the item's wage over the median wage of its category's items (the
  catalogue's metadata, as the board shows it), when items have both;
- metadata: other numeric item / user columns (``item_<col>``, ``user_<col>``) and
  categorical ones with at most ``MAX_LEVELS`` levels (pandas ``category`` dtype). A
  categorical item column with more levels, but at most one per two items (an employer,
  a prefecture, a genre combination), enters as ``item_<col>_rate`` instead: the past
  target rate of the items sharing its value, smoothed like item_rate (with a few
  thousand positives, trees split on the levels' noise). Columns with more levels (ids,
  text) and user columns with more levels (a zip code) are left out.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

SMOOTHING = 20.0
SHARE_SMOOTHING = 3.0
MAX_LEVELS = 30
MAX_EVENT_TYPES = 4
DAY = 86_400 * 10**9
PLACE_COLUMNS = ("prefecture", "place")
WAGE_COLUMNS = ("hourly_wage", "wage")
#: Item / user columns never used as metadata features (ids, text, times, handled above).
SKIP_COLUMNS = {"item_id", "user_id", "title", "posted_at", "imdb_url", "release_date",
                "video_release", "zip", "favorite_category"}


def prior_sum(s_key: np.ndarray, s_time: np.ndarray, e_key: np.ndarray, e_time: np.ndarray,
              e_weight: np.ndarray | None = None) -> np.ndarray:
    """For each sample (key, time): the sum of ``e_weight`` (default 1) over events with
    the same key and a time strictly before it."""
    w = np.ones(len(e_key)) if e_weight is None else np.asarray(e_weight, dtype="float64")
    e = pd.DataFrame({"t": np.asarray(e_time, "int64"), "k": np.asarray(e_key, "int64"), "w": w})
    e = e.sort_values("t", kind="stable")
    e["c"] = e.groupby("k", sort=False)["w"].cumsum()
    s = pd.DataFrame({"t": np.asarray(s_time, "int64"), "k": np.asarray(s_key, "int64"),
                      "i": np.arange(len(s_key))}).sort_values("t", kind="stable")
    m = pd.merge_asof(s, e[["t", "k", "c"]], on="t", by="k", allow_exact_matches=False)
    out = np.zeros(len(s_key))
    out[m["i"].to_numpy()] = m["c"].fillna(0.0).to_numpy()
    return out


def _codes(*cols: pd.Series) -> list[np.ndarray]:
    """Integer codes of several id columns on one shared vocabulary."""
    allv = pd.concat([pd.Series(np.asarray(c, dtype=object)) for c in cols], ignore_index=True)
    codes, _ = pd.factorize(allv)
    out, start = [], 0
    for c in cols:
        out.append(codes[start:start + len(c)].astype("int64"))
        start += len(c)
    return out


def _first_col(df: pd.DataFrame | None, names) -> str | None:
    if df is None:
        return None
    return next((c for c in names if c in df.columns), None)


def _category_match(X, S, E, it, col, su, eu, sv, ev, m, st, et, cnt, given) -> None:
    """category_lift and category_share_<event> (see the module docstring), in place."""
    place = _first_col(it, PLACE_COLUMNS)
    if place is not None:
        sp, ep = _codes(S["item_id"].astype(str).map(it[place]).fillna(""),
                        E["item_id"].astype(str).map(it[place]).fillna(""))
    else:
        sp, ep = np.zeros(len(S), "int64"), np.zeros(len(E), "int64")
    base = ((prior_sum(sp * m + sv, st, ep * m + ev, et) + 1.0)
            / (prior_sum(sp, st, ep, et) + m))  # +1 / +m: every category has some share
    n = X["user_events"].to_numpy()
    share = (cnt + SHARE_SMOOTHING * base) / (n + SHARE_SMOOTHING)
    X["category_lift"] = share / base
    if "event" not in E.columns:
        return
    kinds = E["event"].astype(str)
    prior = np.where(n > 0, cnt / np.maximum(n, 1), base)
    used = set(X.columns)
    for kind in kinds[kinds != str(given)].value_counts().index[:MAX_EVENT_TYPES]:
        name = "category_share_" + re.sub(r"[^0-9A-Za-z_]", "_", str(kind))
        while name in used:  # two event names that read the same once cleaned
            name += "_"
        used.add(name)
        sel = (kinds == kind).to_numpy()
        k_cnt = prior_sum(su * m + sv, st, (eu * m + ev)[sel], et[sel])
        k_n = prior_sum(su, st, eu[sel], et[sel])
        X[name] = (k_cnt + SHARE_SMOOTHING * prior) / (k_n + SHARE_SMOOTHING)


def build_features(samples: pd.DataFrame, events: pd.DataFrame, items: pd.DataFrame | None = None,
                   users: pd.DataFrame | None = None, run_scores: pd.DataFrame | None = None,
                   given: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """(features, categorical column names) for ``samples`` (user_id, item_id, time,
    label, target_time; times int64 ns) from ``events`` (user_id, item_id, time of every
    event of any type, and optionally its ``event`` type), item and user metadata, and
    optionally a run's lists (user_id, item_id, score, rank). ``given``: the samples'
    event type (no per-type share is built for it)."""
    S, E = samples, events
    n = len(S)
    su, eu = _codes(S["user_id"], E["user_id"])
    si, ei = _codes(S["item_id"], E["item_id"])
    st, et = S["time"].to_numpy("int64"), E["time"].to_numpy("int64")
    X = pd.DataFrame(index=S.index)
    X["user_events"] = prior_sum(su, st, eu, et)
    X["item_events"] = prior_sum(si, st, ei, et)
    week = prior_sum(si, st - 7 * DAY, ei, et)
    two = prior_sum(si, st - 14 * DAY, ei, et)
    X["item_events_7d"] = X["item_events"] - week
    X["item_trend"] = (X["item_events_7d"] + 1) / (week - two + 1)

    # past outcomes: a sample counts from its time (as a trial) and target_time (as a hit)
    lab = S["label"].to_numpy()
    tt = S["target_time"].to_numpy("int64")
    pos = lab == 1
    zero = np.zeros(n, dtype="int64")
    g_n = prior_sum(zero, st, zero, st)
    g_pos = prior_sum(zero, st, zero[pos], tt[pos])
    prior = (g_pos + 1.0) / (g_n + 2.0)

    def past_rate(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(smoothed past target rate, past samples) of the samples sharing ``key``."""
        k_n = prior_sum(key, st, key, st)
        k_pos = prior_sum(key, st, key[pos], tt[pos])
        return (k_pos + SMOOTHING * prior) / (k_n + SMOOTHING), k_n

    for name, key in (("user", su), ("item", si)):
        X[f"{name}_rate"], X[f"{name}_samples"] = past_rate(key)

    it = items.set_index(items["item_id"].astype(str)) if items is not None else None
    us = users.set_index(users["user_id"].astype(str)) if users is not None else None
    e_items = E["item_id"].astype(str)
    s_items = S["item_id"].astype(str)
    with np.errstate(divide="ignore", invalid="ignore"):
        for feat, col in (("category_share", "category" if it is not None and "category" in it.columns else None),
                          ("place_share", _first_col(it, PLACE_COLUMNS))):
            if col is None:
                continue
            sv, ev = _codes(s_items.map(it[col]).fillna(""), e_items.map(it[col]).fillna(""))
            m = int(max(sv.max(initial=0), ev.max(initial=0))) + 1
            cnt = prior_sum(su * m + sv, st, eu * m + ev, et)
            X[feat] = np.where(X["user_events"] > 0, cnt / X["user_events"], np.nan)
            if feat == "category_share":  # the user's past outcomes in this category
                key = su * m + sv
                k_n = prior_sum(key, st, key, st)
                k_pos = prior_sum(key, st, key[pos], tt[pos])
                X["category_events"] = cnt
                X["category_rate"] = (k_pos + SMOOTHING * X["user_rate"]) / (k_n + SMOOTHING)
                _category_match(X, S, E, it, col, su, eu, sv, ev, m, st, et, cnt, given)
        place = _first_col(it, PLACE_COLUMNS)
        if place and us is not None and "home_prefecture" in us.columns:
            home = S["user_id"].astype(str).map(us["home_prefecture"])
            X["home_match"] = (s_items.map(it[place]).to_numpy() == home.to_numpy()).astype("float64")
        wage = _first_col(it, WAGE_COLUMNS)
        if wage:
            w_item = pd.to_numeric(it[wage], errors="coerce")
            ew = e_items.map(w_item).to_numpy(dtype="float64")
            ok = ~np.isnan(ew)
            total = prior_sum(su, st, eu[ok], et[ok], ew[ok])
            cnt = prior_sum(su, st, eu[ok], et[ok])
            X["wage_vs_history"] = s_items.map(w_item).to_numpy(dtype="float64") / np.where(cnt > 0, total / cnt, np.nan)
            if "category" in it.columns:
                median = w_item.groupby(it["category"]).transform("median")
                X["wage_vs_category"] = s_items.map(w_item / median).to_numpy(dtype="float64")
        if it is not None and "posted_at" in it.columns:
            posted = pd.to_datetime(s_items.map(it["posted_at"]), errors="coerce")
            X["posting_age_days"] = (st - posted.astype("datetime64[ns]").to_numpy().astype("int64")) / DAY
            X.loc[posted.isna().to_numpy(), "posting_age_days"] = np.nan

    if run_scores is not None and len(run_scores):
        rs = run_scores.assign(user_id=run_scores["user_id"].astype(str),
                               item_id=run_scores["item_id"].astype(str))
        rs = rs.drop_duplicates(["user_id", "item_id"]).set_index(["user_id", "item_id"])
        idx = pd.MultiIndex.from_arrays([S["user_id"].astype(str), s_items])
        X["run_score"] = rs["score"].reindex(idx).to_numpy(dtype="float64")
        X["run_rank"] = rs["rank"].reindex(idx).to_numpy(dtype="float64")

    cats: list[str] = []
    for prefix, table, key in (("item", it, s_items), ("user", us, S["user_id"].astype(str))):
        if table is None:
            continue
        for col in table.columns:
            if col in SKIP_COLUMNS or col.startswith("_"):
                continue
            # numeric or categorical by the whole table (not the samples), so the levels
            # never depend on which samples exist
            whole = table[col]
            num_whole = pd.to_numeric(whole, errors="coerce")
            values = key.map(whole)
            if num_whole.notna().mean() > 0.9 and whole.notna().any():
                X[f"{prefix}_{col}"] = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
            elif not whole.map(lambda v: isinstance(v, (list, dict))).any():
                levels = sorted(whole.dropna().astype(str).unique())
                if 2 <= len(levels) <= MAX_LEVELS:
                    text = values.astype(object).where(values.notna(), None)
                    X[f"{prefix}_{col}"] = pd.Categorical(text, categories=levels)
                    cats.append(f"{prefix}_{col}")
                elif prefix == "item" and MAX_LEVELS < len(levels) <= len(whole) // 2:
                    group, = _codes(values.astype(object).where(values.notna(), ""))
                    X[f"item_{col}_rate"], _ = past_rate(group)
    return X.reset_index(drop=True), cats
