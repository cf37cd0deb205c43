"""Pieces of the Compare page: selections bound to the URL, the per-user view, the
disagreement explorer and exposure. All data comes from engine.services.compare through
``viewer.db.read`` (cached per store version).

URL parameters: dataset, runs (comma-separated run ids), user, k, view (the tab),
pair (the two runs of the all-user tabs), why (1/0: show history drivers).

The "↳" line under each recommendation names the history item behind it: for ALS runs
that kept their item factors, the model's own explanation (the history item that adds
most to the item's score, ``C.model_drivers``); for every other run a data stand-in
(the history item most co-interacted with it, ``C.drivers``). Each card says which.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from engine.data import DEFAULT_EVENT_WEIGHTS
from engine.evaluate.metrics import HIT_METRICS
from engine.recommend.registry import explains
from engine.services import compare as C
from engine.store.datasets import list_datasets
from engine.store.runs import list_runs
from viewer import charts, components, db, nav, state
from viewer.format import WHY, cut, fmt_column, format_attrs, has_missing
from viewer.safe import code, md

MAX_RUNS = 4
#: Longest title in a list card (half-width cells; the whole title is in the hover).
CARD_TITLE = 60
K_CHOICES = [3, 5, 10, 15, 20, 30, 50, 100]
DEFAULT_K = 10
TABS = ["One user", "Where they disagree", "Exposure across users"]

MARKS_CAPTION = ("**✓ hit**: an item this user interacted with later, held out from training "
                 "(green rows) · **●** also in another run's list · **◆** only this run "
                 "recommends it · the small number on the right is the run's score.")


def done_runs(dataset: str) -> pd.DataFrame:
    runs = db.read(list_runs, dataset)
    return runs[runs["status"] == "done"].reset_index(drop=True)


def selection_info(runs: pd.DataFrame, run_ids: list[int]) -> tuple[dict, int, int | None]:
    """({run_id: label}, the deepest K every chosen run stores, the first run's split)."""
    chosen = runs.set_index("run_id").loc[run_ids].reset_index()
    labels = {int(r["run_id"]): components.run_label(r) for _, r in chosen.iterrows()}
    ks = chosen["k"].dropna()
    max_k = int(ks.min()) if len(ks) == len(chosen) and len(ks) else 20
    splits = chosen["split_id"].dropna()
    return labels, max_k, (int(splits.iloc[0]) if len(splits) else None)


def pick_runs(dataset: str, runs: pd.DataFrame) -> list[int]:
    """The runs to compare (``components.pick_runs``; by default the first three)."""
    return components.pick_runs(
        dataset, runs, max_runs=MAX_RUNS, key="_cmp_runs", default=[int(r) for r in runs["run_id"]][:3],
        label=f"Runs to compare (2 to {MAX_RUNS})",
        help="Each run is one algorithm trained on one split; the Runs page lists them all.")


def pick_k(max_k: int) -> int:
    """The list depth K, bound to ``k`` in the URL: any K from 1 to ``max_k`` (the depth
    every chosen run stores) from a link, the usual choices in the selectbox."""
    options = sorted({c for c in K_CHOICES if c <= max_k} | {max_k})
    linked = state.param("k", None, int)
    if linked is not None and 1 <= linked <= max_k:
        options = sorted(set(options) | {linked})
    return int(components.bound_select(
        "Top K", options, "k", min(DEFAULT_K, max_k), key="_cmp_k", cast=int,
        bounds=(1, max_k), note=f" (the runs store top-{max_k} lists)",
        help="How many of each run's recommendations to show and compare."))


def _surprise(dataset: str, run_ids: list[int], split_id, k: int | None) -> None:
    n = st.session_state.get("_cmp_surprise_n", 0) + 1
    st.session_state["_cmp_surprise_n"] = n
    u = db.read(C.random_user, tuple(run_ids), split_id, C.stable_seed(dataset, n), True, k,
                HIT_METRICS)
    if u is not None:
        _set_user(u)


def _set_user(u: str) -> None:
    st.session_state["_cmp_user"] = u
    st.query_params["user"] = u
    st.session_state["_cmp_user__url"] = u


def _from_matches() -> None:
    u = st.session_state.get("_cmp_match")
    if u:
        _set_user(u)
    st.session_state["_cmp_match"] = None


def pick_user(dataset: str, run_ids: list[int], split_id, k: int | None = None) -> str | None:
    """A user id box (bound to ``user``), prefix matches and "Surprise me".

    With no user in the URL, a random user with held-out items is shown (and put in the
    URL, so the link reproduces the view). Returns a user id that exists, or None after
    a friendly message.
    """
    url_user = state.param("user")
    if url_user is None and run_ids:
        url_user = db.read(C.random_user, tuple(run_ids), split_id, 0, True, k, HIT_METRICS)
        if url_user is not None:
            state.set_params(user=url_user)
    key = "_cmp_user"
    state.sync_widget(key, "user", url_user or "")
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    typed = c1.text_input("User id", key=key, placeholder="type a user id",
                          help="Type an exact id, or the start of one and pick from the matches.")
    typed = (typed or "").strip()
    matches = db.read(C.search_users, dataset, typed, 50)
    c2.selectbox(f"…or pick a user starting with “{md(typed, 40)}”" if typed else "…or pick a user",
                 matches, index=None, key="_cmp_match", on_change=_from_matches,
                 placeholder=(f"{len(matches)}{'+' if len(matches) == 50 else ''} matching users"
                              if matches else "no user id starts with that"))
    c3.button("Surprise me", icon=":material/casino:", on_click=_surprise,
              args=(dataset, run_ids, split_id, k), width="stretch",
              help="A random user for whom at least one of these runs has a hit in its "
                   "top K (or, failing that, one with held-out items).")
    state.set_params(user=typed or None)
    state.mark_seen(key, "user")
    if not typed:
        st.info("Pick a user: type an id, choose from the matches or press **Surprise me**.",
                icon=":material/person_search:")
        return None
    if not db.read(C.user_exists, dataset, typed):
        hint = (f" Ids starting with “{md(typed)}”: {', '.join(md(m) for m in matches[:5])}…"
                if matches else "")
        st.warning(f"There is no user “{md(typed)}” in dataset “{md(dataset)}”. Pick one from the "
                   f"matches, type another id, or press **Surprise me**.{hint}",
                   icon=":material/person_off:")
        return None
    return typed


# --------------------------------------------------------------------------- one user

def _item_href(dataset: str, item_id: str) -> str | None:
    if not nav.has_page("item"):
        return None
    return "item?" + urlencode({"dataset": dataset, "item": item_id})


def _cut(text, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _meta_line(row) -> str:
    parts = [str(row["category"])] if row.get("category") else []
    attrs = format_attrs(row.get("attrs"), max_parts=2)
    if attrs:
        parts.append(attrs)
    return " · ".join(parts)


def _event_text(event, weight) -> str:
    """"view" for the job board's typed events; "rating 2" where the weight is the
    signal (MovieLens), so a low rating in the history is not mistaken for a like."""
    if event is None or pd.isna(event) or not event:
        return ""
    if str(event) in DEFAULT_EVENT_WEIGHTS or weight is None or pd.isna(weight):
        return str(event)
    return f"{event} {float(weight):g}"


def history_card(dataset: str, history: pd.DataFrame, n_history: int) -> None:
    rows = []
    for _, h in history.iterrows():
        when = "" if pd.isna(h["ts"]) else pd.Timestamp(h["ts"]).strftime("%Y-%m-%d")
        ev = _event_text(h.get("event"), h.get("weight"))
        lead = " · ".join(p for p in (when, ev) if p)
        rows.append({"title": cut(h["title"], CARD_TITLE), "meta": " · ".join(p for p in (lead, _meta_line(h)) if p),
                     "hit": bool(h["held_out"]),
                     "why": "held out: the runs did not see this" if h["held_out"] else "",
                     "href": _item_href(dataset, h["item_id"])})
    sub = (f"{n_history} interactions, newest first" +
           (f" (showing {len(history)})" if n_history > len(history) else ""))
    components.ranked_list_card("History", "#7F7F7F", rows, subtitle=sub,
                                empty_text="This user has no interactions in the dataset.")


#: What the "↳" line of a run card is, shown in the card's subtitle.
WHY_MODEL = "↳ the model's own explanation"
WHY_DATA = "↳ data stand-in, not the model"


def run_card(dataset: str, rid: int, label: str, lst: pd.DataFrame, labels: dict,
             why: dict | None, k: int, why_kind: str | None = None,
             warnings: list[str] | None = None) -> None:
    """One run's list. ``why``: {item_id: "↳ ..." line}; ``why_kind``: WHY_MODEL or
    WHY_DATA (named in the subtitle when the lines are shown); ``warnings``: the run's
    health warnings, shown under the subtitle."""
    rows = []
    for _, r in lst.iterrows():
        # other runs by id only ("#2 at 3"): whole run names made each line a paragraph
        also = ", ".join(f"#{o} at {rk}" for o, rk in r["other_ranks"])
        meta = _meta_line(r)
        if also:
            meta = (meta + " · " if meta else "") + f"also: {also}"
        drv = (why or {}).get(r["item_id"])
        rows.append({"rank": r["rank"], "title": cut(r["title"], CARD_TITLE), "meta": meta,
                     "score": r["score"],
                     "hit": bool(r["hit"]), "shared": bool(r["shared"]), "unique": bool(r["unique"]),
                     "why": drv or "",
                     "href": _item_href(dataset, r["item_id"]),
                     "tooltip": f"{r['title']} (item {r['item_id']})"})
    n_hit = int(lst["hit"].sum()) if len(lst) else 0
    n_unique = int(lst["unique"].sum()) if len(lst) else 0
    sub = f"top {k}: {n_hit} hit{'s' if n_hit != 1 else ''} · {n_unique} only here"
    if why is not None and why_kind and len(lst):
        sub += f" · {why_kind}"
    components.ranked_list_card(label, charts.run_color(rid), rows, subtitle=sub,
                                empty_text="No list for this user in this run (the run "
                                           "lists only the users it evaluated).",
                                warnings=warnings)


def _drivers_text(dataset: str, view: dict, run_split: dict, user: str,
                  run_ids: list[int] | None = None) -> dict:
    """{item_id: "↳ like title (0.42)"}: the co-interaction stand-in for the lists of
    ``run_ids`` (all runs when None)."""
    lists = view["lists"]
    if run_ids is not None:
        lists = lists[lists["run_id"].isin(run_ids)]
    out: dict[str, str] = {}
    for sid in sorted({run_split.get(r) for r in set(lists["run_id"])} - {None}):
        items = tuple(sorted(set(lists.loc[lists["run_id"].map(run_split) == sid, "item_id"])))
        if not items:
            continue
        d = db.read(C.drivers, dataset, sid, user, items, 1)
        for item_id, g in d.groupby("item_id"):
            g = g.iloc[0]
            out.setdefault(item_id, f"↳ like {_cut(g['driver_title'], 22)} ({g['similarity']:.2f})")
    return out


def _model_drivers_text(dataset: str, rid: int, lst: pd.DataFrame, user: str) -> dict | None:
    """{item_id: "↳ driven by title (+0.12)"}: the ALS run's own explanation (the history
    item contributing most to the item's score), one cached read per run and user; None
    when the run kept no item factors."""
    items = tuple(sorted(set(lst["item_id"])))
    if not items:
        return None                      # no list for this user: nothing to explain
    d = db.read(C.model_drivers, dataset, int(rid), user, items, 1)
    if d is None:
        return None
    return {item_id: f"↳ driven by {_cut(g.iloc[0]['driver_title'], 22)} "
                     f"({g.iloc[0]['contribution']:+.2f})"
            for item_id, g in d.groupby("item_id")}


def one_user(dataset: str, run_ids: list[int], runs: pd.DataFrame, user: str, k: int) -> None:
    info = runs.set_index("run_id").loc[run_ids].reset_index()
    labels = {int(r["run_id"]): components.run_label(r) for _, r in info.iterrows()}
    run_split = {int(r["run_id"]): (None if pd.isna(r["split_id"]) else int(r["split_id"]))
                 for _, r in info.iterrows()}
    view = db.read(C.user_view, dataset, tuple(run_ids), user, k)
    lists, tests = view["lists"], view["tests"]
    n_test = tests["item_id"].nunique() if len(tests) else 0
    st.markdown(f"#### User {code(user)} · {view['n_history']} interactions · "
                f"{n_test} held-out test item{'s' if n_test != 1 else ''}")
    st.caption(MARKS_CAPTION)
    if len(set(run_split.values())) > 1:
        st.caption("These runs were evaluated on different splits: each ✓ refers to the "
                   "run's own held-out items.")
    if view["missing_runs"]:
        names = ", ".join(md(labels.get(r, f"#{r}")) for r in view["missing_runs"])
        st.info(f"{names} has no list for user “{md(user)}”: runs list only the users they "
                f"evaluated (users with held-out items). Try **Surprise me**.",
                icon=":material/info:")

    why_on = state.param("why", "1") != "0"
    why: dict[int, dict | None] = {r: None for r in run_ids}
    why_kind: dict[int, str] = {}
    if why_on:
        algos = dict(zip(info["run_id"].astype(int), info["algorithm"]))
        for r in run_ids:
            if explains(algos.get(r)):
                why[r] = _model_drivers_text(dataset, r, lists[lists["run_id"] == r], user)
                if why[r] is not None:
                    why_kind[r] = WHY_MODEL
        others = [r for r in run_ids if r not in why_kind]
        standin = _drivers_text(dataset, view, run_split, user, others) if others else {}
        for r in others:
            why[r], why_kind[r] = standin, WHY_DATA

    if len(run_ids) >= 4:
        # four run columns leave no room for a fifth: the history goes above, compact
        h = view["history"]
        with st.expander(f"History: {view['n_history']} interactions, newest first", expanded=True):
            no_ts = has_missing(h["ts"])
            st.dataframe(pd.DataFrame({
                "When": fmt_column(h["ts"], "%Y-%m-%d") if no_ts else h["ts"],
                "Event": [_event_text(e, w) for e, w in zip(h["event"], h["weight"])],
                "Item": [cut(t, 36) for t in h["title"]],
                "Category": [cut(c, 20) for c in h["category"]],
                "Details": [cut(format_attrs(a, max_parts=3), 20) for a in h["attrs"]],
                "Held out": h["held_out"]}), hide_index=True, width="stretch", height=210,
                # widths that add up to the page's width, so no column hides at the right
                column_config={"When": st.column_config.TextColumn(width=90, help=WHY["no_timestamp"])
                               if no_ts else st.column_config.DatetimeColumn(format="YYYY-MM-DD", width=90),
                               "Event": st.column_config.TextColumn(width=100),
                               "Item": st.column_config.TextColumn(width=280),
                               "Category": st.column_config.TextColumn(width=160),
                               "Details": st.column_config.TextColumn(width=160),
                               "Held out": st.column_config.CheckboxColumn(
                                   width=70, help="held out from training: a hit if a run recommends it")})
        cols = st.columns(len(run_ids))
    else:
        cols = st.columns([0.85] + [1] * len(run_ids))
        with cols[0]:
            history_card(dataset, view["history"], view["n_history"])
        cols = cols[1:]
    health = components.warnings_by_run(dataset)
    for col, rid in zip(cols, run_ids):
        with col:
            run_card(dataset, rid, labels[rid], lists[lists["run_id"] == rid], labels, why[rid], k,
                     why_kind.get(rid), health.get(rid))
    new_why = st.toggle(
        "Show “↳”: the history item behind each recommendation", value=why_on,
        help="ALS runs: “driven by” is the model's own explanation, the history item that "
             "adds most to the item's score (implicit's ALS explain on the run's item "
             "factors; the contributions of all history items add up to the score). "
             "Other runs: “like” is a stand-in from the data, the history item most "
             "co-interacted with it (cosine similarity of item columns in the training "
             "data), not the model's internals. Each card's subtitle says which it shows.")
    if new_why != why_on:
        state.set_params(why=None if new_why else "0")
        st.rerun()

    st.markdown("##### Rank shifts")
    st.caption("Each column is a run; lines join the same item across runs "
               "(dark lines: hits). Items without a line appear in one run only. "
               "Hover a dot for its title.")
    if lists.empty:
        st.caption("No lists to draw.")
    else:
        st.plotly_chart(db.figure("compare.rank_shift", (dataset, tuple(run_ids), user, k),
                                  charts.rank_shift_chart, lists, run_ids, labels, k),
                        width="stretch", config={"displayModeBar": False})
    # One above the other at full width: side by side, long run names squeezed each
    # table into half the page and "This user's metrics" scrolled inside a small box.
    st.markdown("##### How much the lists agree")
    ov = view["overlaps"]
    if ov.empty:
        st.caption("Pick at least two runs to compare their lists.")
    else:
        table = pd.DataFrame({
            "Runs": [f"{cut(labels[a], 24)} vs {cut(labels[b], 24)}" for a, b in zip(ov["run_a"], ov["run_b"])],
            "Shared": ov["n_shared"], "Jaccard": ov["jaccard"], "RBO": ov["rbo"],
            "Kendall τ": ov["kendall_tau"]})
        cfg = components.dash_numbers(
            table, {"Shared": "%d", "Jaccard": "%.2f", "RBO": "%.2f", "Kendall τ": "%.2f"},
            config={"Runs": st.column_config.TextColumn(width="large")},
            helps={"Shared": f"items in both top-{k} lists",
                   "Jaccard": "shared / all distinct items",
                   "RBO": "rank-biased overlap (p=0.9): 1 = same list, 0 = nothing in common; "
                          "agreement at the top counts most",
                   "Kendall τ": "order agreement of the shared items (-1 to 1)"},
            why={"Kendall τ": WHY["no_shared"]})
        st.dataframe(table, hide_index=True, width="stretch", column_config=cfg)
    st.markdown("##### This user's metrics")
    m = view["metrics"]
    if m.empty:
        st.caption("The runs stored no per-user metrics for this user (users without "
                   "held-out items are not evaluated).")
    else:
        m = m.assign(what=m["metric"].astype(str) + "@" + m["k"].astype(int).astype(str))
        wide = m.pivot_table(index="what", columns="run_id", values="value", aggfunc="first")
        wide = wide.reindex(columns=[r for r in run_ids if r in wide.columns])
        full = {cut(labels[r], 28): labels[r] for r in wide.columns}
        wide.columns = list(full)
        wide.index.name = "metric"
        wide = wide.reset_index()
        cfg = components.dash_numbers(wide, {c: "%.3f" for c in full},
                                      helps=full, why={c: WHY["no_value"] for c in full})
        st.dataframe(wide, hide_index=True, width="stretch", column_config=cfg,
                     height=min(35 * (len(wide) + 1) + 3, 600))


# --------------------------------------------------------------------------- all users

def pick_pair(run_ids: list[int], labels: dict, key: str) -> tuple[int, int] | None:
    """Two of the chosen runs (bound to ``pair`` in the URL)."""
    if len(run_ids) < 2:
        st.info("Pick at least two runs above.", icon=":material/info:")
        return None
    pairs = [(a, b) for i, a in enumerate(run_ids) for b in run_ids[i + 1:]]
    if len(pairs) == 1:
        return pairs[0]
    return components.bound_select(
        "Which two runs", pairs, "pair", pairs[0], "a pair of the chosen runs", key=key,
        cast=lambda t: tuple(int(x) for x in t.split(",")), omit_default=True,
        format_func=lambda p: f"{labels.get(p[0], p[0])} vs {labels.get(p[1], p[1])}")


def _open_user(table_key: str, users: list[str]) -> None:
    sel = st.session_state.get(table_key)
    rows = sel.selection.rows if sel is not None else []
    if rows:
        _set_user(users[rows[0]])
        st.session_state["view"] = TABS[0]   # the tabs are bound to ?view=; set the widget


def relevance_summary(run_ids: list[int], labels: dict, k: int, relevance: str) -> None:
    """Each run's mean accuracy at K judged against held-out applications / hires only."""
    from engine.services import relevance as REL

    m = db.read(REL.run_metrics, [int(r) for r in run_ids], relevance)
    m = m[(m["k"] == int(k)) & m["metric"].isin(["ndcg", "recall", "precision", "hit_rate"])]
    if m.empty:
        return
    wide = m.pivot_table(index="run_id", columns="metric", values="value", aggfunc="first")
    table = pd.DataFrame({"Run": [labels.get(int(r), str(r)) for r in wide.index]})
    for c in wide.columns:
        table[f"{c}@{k}"] = fmt_column(wide[c], ".4f")
    what = {"apply": "held-out applications", "hire": "held-out hires"}.get(relevance, relevance)
    st.caption(f"Judged against {what} only (users with at least one):")
    st.dataframe(table, hide_index=True, width="stretch")


def _relevance_values(dis: pd.DataFrame, a: int, b: int, metric: str, k: int, relevance: str) -> pd.DataFrame:
    """The disagreement table's per-user metric columns under ``relevance``."""
    from engine.services import relevance as REL

    sa = db.read(REL.user_series, a, relevance, metric, k)
    sb = db.read(REL.user_series, b, relevance, metric, k)
    out = dis.assign(metric_a=dis["user_id"].map(sa), metric_b=dis["user_id"].map(sb))
    return out.assign(metric_diff=out["metric_b"] - out["metric_a"])


def disagreement_tab(dataset: str, run_ids: list[int], labels: dict, k: int, relevance: str = "any") -> None:
    st.caption("Users ordered by how differently two runs rank for them. Click a row to "
               "open that user's comparison.")
    pair = pick_pair(run_ids, labels, "_cmp_pair_d")
    if pair is None:
        return
    a, b = pair
    metrics = db.read(C.stored_user_metrics, (a, b))
    metric = "ndcg" if (metrics["metric"] == "ndcg").any() else (
        metrics["metric"].iloc[0] if len(metrics) else "ndcg")
    with st.spinner(f"Comparing {md(labels[a])} and {md(labels[b])} for every user…"):
        dis = db.read(C.disagreement, a, b, k, metric)
    if dis.empty:
        st.info("These two runs have no user in common.", icon=":material/info:")
        return
    if relevance != "any":
        dis = _relevance_values(dis, a, b, metric, k, relevance)
    if dis.attrs.get("sampled_from"):
        st.caption(f"Run {md(labels[a])} lists {dis.attrs['sampled_from']:,} users; to stay quick "
                   f"this compares a fixed random sample of {len(dis):,} of them.")
    has_metric = dis["metric_diff"].notna().any()
    c1, c2 = st.columns([2, 3])
    with c1:
        st.metric("Users compared", f"{len(dis):,}")
        st.metric("Median RBO", f"{dis['rbo'].median():.2f}",
                  help="1 = same lists, 0 = nothing in common")
        st.metric("Users with no item in common", f"{(dis['jaccard'] == 0).mean():.0%}")
    with c2:
        st.plotly_chart(charts.rbo_histogram(dis, labels[a], labels[b]), width="stretch",
                        config={"displayModeBar": False})
    order = st.radio("Order by", ["lowest RBO", f"largest {metric}@{k} difference"],
                     horizontal=True, key="_cmp_dis_order", disabled=not has_metric,
                     help=None if has_metric else f"The runs stored no per-user {metric}@{k}.")
    if order != "lowest RBO":
        dis = dis.assign(_abs=dis["metric_diff"].abs()).sort_values(
            ["_abs", "rbo"], ascending=[False, True], na_position="last").drop(columns="_abs")
    top = dis.head(200).reset_index(drop=True)
    ma, mb = f"{metric}@{k} {cut(labels[a], 24)}", f"{metric}@{k} {cut(labels[b], 24)}"
    diff_col = f"difference (#{b} − #{a})"
    table = pd.DataFrame({"User": top["user_id"], "RBO": top["rbo"], "Jaccard": top["jaccard"],
                          "Kendall τ": top["kendall_tau"], ma: top["metric_a"], mb: top["metric_b"],
                          diff_col: top["metric_diff"]})
    tkey = "_cmp_dis_table"
    cfg = components.dash_numbers(table, {c: "%.3f" for c in table.columns if c != "User"},
                                  why={"Kendall τ": WHY["no_shared"]})
    st.dataframe(table, hide_index=True, width="stretch", height=420, key=tkey,
                 on_select=lambda: _open_user(tkey, top["user_id"].tolist()),
                 selection_mode="single-row", column_config=cfg)
    if not has_metric:
        st.caption(f"No per-user {metric}@{k} was stored for these runs (per-user metrics "
                   f"are stored at the K the runs were evaluated at).")


def exposure_tab(dataset: str, run_ids: list[int], labels: dict, k: int) -> None:
    st.caption(f"How often each item appears in the runs' top-{k} across all users.")
    with st.spinner("Counting recommendations across all users…"):
        expo = db.read(C.exposure, dataset, tuple(run_ids), k)
    if expo.empty:
        st.info("These runs have no recommendations.", icon=":material/info:")
        return
    ds = db.read(list_datasets)
    n_items = ds.loc[ds["name"] == dataset, "n_items"]
    n_items = int(n_items.iloc[0]) if len(n_items) and pd.notna(n_items.iloc[0]) else None
    summ = C.exposure_summary(expo, run_ids, n_items)
    st.dataframe(pd.DataFrame({
        "Run": [cut(labels[r], 44) for r in summ["run_id"]], "Distinct items": summ["items"],
        "Catalogue coverage": summ["coverage"], "Top-10 items' share of slots": summ["top10_share"]}),
        hide_index=True, width="stretch", column_config={
            "Catalogue coverage": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            "Top-10 items' share of slots": st.column_config.ProgressColumn(
                format="percent", min_value=0, max_value=1,
                help="How concentrated a run is: the share of all its list slots taken by "
                     "its 10 most recommended items.")})
    st.markdown("##### Most recommended items")
    st.plotly_chart(charts.exposure_chart(expo, run_ids, labels, top=15), width="stretch",
                    config={"displayModeBar": False})
    st.markdown("##### What one run pushes and the other does not")
    pair = pick_pair(run_ids, labels, "_cmp_pair_e")
    if pair is None:
        return
    a, b = pair
    c1, c2 = st.columns(2)
    for col, (x, y) in ((c1, (a, b)), (c2, (b, a))):
        con = C.exposure_contrast(expo, x, y, top=15)
        with col:
            st.markdown(f"**{md(labels[x])}** recommends far more often than **{md(labels[y])}**")
            # the id beside the title: real catalogues repeat a title (one posting
            # per branch), and five identical rows without ids said nothing
            # half the page each: widths that add up to it, run names cut in the headers
            # (the whole names are in the line above)
            # (a cell clips its text without a mark, so text is cut to the column first,
            # about 7 px a half-width cell: a title ends in "…", runs are named by id)
            lx, ly = f"#{x}", f"#{y}"
            st.dataframe(pd.DataFrame({
                "Item": [cut(t, 22) for t in con["title"]], "Id": con["item_id"],
                "Category": [cut(c, 10) for c in con["category"]],
                lx: con["share_a"], ly: con["share_b"]}),
                hide_index=True, width="stretch", column_config={
                    "Item": st.column_config.TextColumn(width=170, help="The item's title (cut; the Item page has it whole)."),
                    "Id": st.column_config.TextColumn(width=55),
                    "Category": st.column_config.TextColumn(width=85),
                    lx: st.column_config.NumberColumn(format="percent", width=65, help=labels[x]),
                    ly: st.column_config.NumberColumn(format="percent", width=65, help=labels[y])})
