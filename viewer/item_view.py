"""Pieces of the Item page: find an item, show its metadata and popularity, the items
similar to it, and who gets it recommended by each run.

URL parameters: dataset, item (the dataset's own item id), simrun (the run whose model's
neighbours show as "Similar by <run>"), run (the run whose lists give "recommended
together"). Each list says which source it is (see engine/store/items.py).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from engine.store import items as I
from engine.store import runs as store_runs
from viewer import components, db, runs_charts, state
from viewer.charts import run_color
from viewer.components import run_label
from viewer.format import MISSING, cut, format_attrs, is_missing
from viewer.runs_view import compare_href
from viewer.safe import md

N_SIMILAR = 10
N_SAMPLE = 5
_NEUTRAL = "#6E6E6E"


def item_href(dataset: str, item_id: str) -> str:
    return "item?" + urlencode({"dataset": dataset, "item": item_id})


def _option_text(row) -> str:
    title = row["title"] if isinstance(row["title"], str) and row["title"] else "(no title)"
    n = int(row["n_users"])
    return f"{title} · {row['item_id']} · {n:,} user{'' if n == 1 else 's'}"


def pick_item(dataset: str) -> str | None:
    """Search by id or title substring; the chosen item is bound to ``item`` in the URL.

    An unknown id in the link is named in one warning and the search takes over.
    """
    wanted = state.param("item")
    if wanted is not None and not db.read(I.item_exists, dataset, wanted):
        st.warning(f"Dataset “{md(dataset)}” has no item with id “{md(wanted)}”. Search for one "
                   "below by its id or part of its title.", icon=":material/warning:")
        wanted = None
    cols = st.columns([2, 3])
    with cols[0]:
        q = st.text_input("Find an item", key="_item_q", placeholder="id or part of the title",
                          help="Matches ids that start with the text and titles that contain "
                               "it (any case); the most popular matches come first.")
    hits = db.read(I.search_items, dataset, q.strip(), 50)
    texts = {r["item_id"]: _option_text(r) for _, r in hits.iterrows()}
    options = list(texts)
    if not q.strip() and wanted is not None and wanted not in texts:
        info = db.read(I.item_info, dataset, wanted)
        texts[wanted] = f"{info['title'] or '(no title)'} · {wanted}"
        options = [wanted] + options
    if not options:
        with cols[1]:
            st.info(f"No item of “{md(dataset)}” matches “{md(q)}”.", icon=":material/search_off:")
        return None
    key = "_item_pick"
    state.sync_widget(key, "item", wanted or options[0])
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    with cols[1]:
        chosen = st.selectbox(f"Item ({len(hits):,}{'+' if len(hits) == 50 else ''} matches)"
                              if q.strip() else "Item", options, key=key,
                              format_func=lambda i: texts.get(i, i))
    state.set_params(item=chosen)
    state.mark_seen(key, "item")
    return chosen


# --------------------------------------------------------------------------- the item itself

def _value_text(key: str, value) -> str:
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        v = int(value) if float(value).is_integer() else value
        if "year" in key or key.endswith("id"):
            return str(v)
        return f"¥{v:,}" if "wage" in key or "salary" in key else f"{v:,}"
    text = str(value)
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":
        return text[:10] + " " + text[11:16]
    return text


def top_share_text(rank: int, n_items: int) -> str:
    """'top 0.01%' for rank 1 of 9,724 (a fixed one decimal said 'top 0.0%')."""
    pct = 100 * rank / max(n_items, 1)
    return f"top {pct:.2g}%" if pct < 10 else f"top {pct:.0f}%"


def popularity_rank(dataset: str, n_users: int) -> tuple[int, int]:
    """(rank, n_items): 1 + the items with more distinct users than ``n_users`` (tied
    items share the best rank), out of all the dataset's items. Every item's count is
    read once per store version, not once per item shown."""
    pop = db.read(I.item_popularity, dataset)
    return 1 + int((pop["n_users"] > int(n_users)).sum()), len(pop)


def header(dataset: str, item_id: str) -> dict:
    info = db.read(I.item_info, dataset, item_id)
    stats = db.read(I.item_stats, dataset, item_id, False)
    stats["popularity_rank"], stats["n_items"] = popularity_rank(dataset, stats["n_users"])
    st.header(md(info["title"] or item_id, 300, start=True), anchor=False)
    st.caption(" · ".join(md(x) for x in [f"item {item_id}", info["category"] or ""] if x))
    left, right = st.columns([3, 2])
    with left:
        attrs = {k: v for k, v in info["attrs"].items() if v not in (None, "")}
        if attrs:
            st.dataframe(pd.DataFrame({"Detail": [k.replace("_", " ") for k in attrs],
                                       "Value": [_value_text(k, v) for k, v in attrs.items()]}),
                         hide_index=True, width="stretch", key="_item_attrs")
        else:
            st.caption("No further metadata for this item.")
    with right:
        c = st.columns(3)
        c[0].metric("Users", f"{stats['n_users']:,}", help="Distinct users with any interaction.")
        c[1].metric("Interactions", f"{stats['n_interactions']:,}")
        c[2].metric("Popularity rank", f"#{stats['popularity_rank']:,}",
                    help=f"By distinct users, among {stats['n_items']:,} items (1 = most "
                         f"popular; tied items share a rank).")
        st.caption(f"of {stats['n_items']:,} items ({top_share_text(stats['popularity_rank'], stats['n_items'])})")
        if stats["events"]:
            st.caption("Events: " + " · ".join(f"{md(e)} {n:,}" for e, n in stats["events"].items()))
        if stats["first_ts"] is not None:
            st.caption(f"First seen {str(stats['first_ts'])[:10]}, last {str(stats['last_ts'])[:10]}")
    return info


# --------------------------------------------------------------------------- similar items

def _meta(category, attrs_json, max_parts: int = 3, max_len: int = 30) -> str:
    """'category · value · key value' for a card row (``format_attrs``); links are left
    out of a card, the Details table above shows them."""
    attrs = {k: v for k, v in I.parse_attrs(attrs_json).items()
             if not (isinstance(v, str) and v.startswith(("http://", "https://")))}
    parts = [str(category)] if isinstance(category, str) and category else []
    line = format_attrs(json.dumps(attrs), max_len=max_len, max_parts=max_parts)
    return " · ".join(parts + ([line] if line else []))


def _rows(dataset: str, df: pd.DataFrame, score_col: str, tip) -> list[dict]:
    rows = []
    for n, (_, r) in enumerate(df.iterrows(), 1):
        meta = _meta(r.get("category"), r.get("attrs"))
        rows.append({"rank": n, "title": r.get("title") or r["item_id"], "meta": meta,
                     "score": float(r[score_col]), "href": item_href(dataset, r["item_id"]),
                     "tooltip": tip(r)})
    return rows


#: What the score of "Similar by <run>" is, per algorithm (the models that can say).
SCORE_TEXT = {
    "itemknn": "the kNN model's item-item cosine similarity (0 to 1; only its K nearest "
               "neighbours per item count)",
    "bm25": "the BM25 kNN model's item-item similarity (only its K nearest neighbours per "
            "item count)",
    "als": "cosine of the two items' factor vectors (−1 to 1)",
    "bpr": "cosine of the two items' factor vectors (−1 to 1)",
    "lmf": "cosine of the two items' factor vectors (−1 to 1)",
    "ease": "EASE weight B[this item, other]: how much having this item raises the "
            "other's score",
}


def _best_run(dataset: str, ids: list[int]) -> int:
    """Of ``ids``, the run with the best nDCG@10 (the first when none has it)."""
    wide = db.read(store_runs.runs_with_metrics, dataset, (10,))
    if "ndcg@10" in wide.columns:
        have = wide[wide["run_id"].isin(ids) & wide["ndcg@10"].notna()]
        if len(have):
            return int(have.sort_values(["ndcg@10", "run_id"], ascending=[False, True])
                       ["run_id"].iloc[0])
    return ids[0]


def pick_simrun(dataset: str, runs: pd.DataFrame) -> int | None:
    """The "Similar according to" picker: runs that kept their model's neighbours (URL
    ``simrun``, by default the best by nDCG@10). None when no run kept any."""
    rows = runs.set_index("run_id")
    # a run created after ``runs`` was read (a trainer writing meanwhile) is left out
    ids = [r for r in db.read(I.runs_with_neighbours, dataset) if r in rows.index]
    if not ids:
        return None
    labels = {r: run_label(rows.loc[r].to_dict() | {"run_id": r}) for r in ids}
    return int(components.bound_select(
        "Similar according to", ids, "simrun", _best_run(dataset, ids), key="_item_simrun",
        cast=int, format_func=labels.get,
        unknown=f"simrun=“{{raw}}” in the link is not a run of “{md(dataset)}” that kept its "
                "model's neighbours; showing {default}.",
        help="Runs whose model can say which items are alike (kNN, BM25, ALS, BPR, LMF, "
             "EASE); by default the best by nDCG@10."))


def model_similar(dataset: str, item_id: str, runs: pd.DataFrame, rid: int | None) -> None:
    """The card of run ``rid``'s model neighbours of the item (or how to get some)."""
    if rid is None:
        st.info("No run of this dataset kept its model's item neighbours: train a kNN, "
                "BM25, ALS, BPR, LMF or EASE run to see what a model calls similar.",
                icon=":material/info:")
        return
    rows = runs.set_index("run_id")
    label = run_label(rows.loc[rid].to_dict() | {"run_id": rid})
    algo = str(rows.loc[rid, "algorithm"])
    nb = db.read(I.model_neighbours, rid, item_id, N_SIMILAR)
    components.ranked_list_card(
        f"Similar by {label}", run_color(rid),
        _rows(dataset, nb, "score", lambda r: f"score {r['score']:.3f}"),
        subtitle=f"What the model itself calls similar. Score: "
                 f"{SCORE_TEXT.get(algo, 'the model’s own similarity')}.",
        empty_text=f"{label} has no neighbours for this item (it was not in the "
                   "run's training data).")


def pick_simrun_row(dataset: str, runs: pd.DataFrame) -> int | None:
    with st.columns(2)[0]:
        return pick_simrun(dataset, runs)


def similar_items(dataset: str, item_id: str, runs: pd.DataFrame) -> None:
    """Two cards side by side: what a run's model calls similar, and co-interaction."""
    done = runs[runs["status"] == "done"]
    split_id = None
    if len(done) and done["split_id"].notna().any():
        split_id = int(done["split_id"].dropna().value_counts().index[0])
    # the picker on a row of its own, so that both cards start at the same height
    rid = pick_simrun_row(dataset, runs)
    left, right = st.columns(2)
    with left:
        model_similar(dataset, item_id, runs, rid)
    with right:
        sim = db.read(I.similar_by_cointeraction, dataset, item_id, N_SIMILAR, split_id)
        source = (f"training data of split #{split_id}" if split_id is not None
                  else "all interactions")
        components.ranked_list_card(
            "Similar by co-interaction", _NEUTRAL,
            _rows(dataset, sim, "similarity",
                  lambda r: f"{int(r['co_users'])} users interacted with both; cosine "
                            f"{r['similarity']:.3f}"),
            subtitle=f"Cosine over the users who interacted with each item ({source}). "
                     "Score: cosine similarity.",
            empty_text="No other item shares a user with this one.")


def recommended_together(dataset: str, item_id: str, runs: pd.DataFrame) -> None:
    done = runs[runs["status"] == "done"]
    left, _ = st.columns(2)
    with left:
        if done.empty:
            st.info("No finished run yet: train some on the Runs page to see what each "
                    "run recommends alongside this item.", icon=":material/info:")
            return
        labels = {int(r["run_id"]): run_label(r) for _, r in done.iterrows()}
        ids = list(labels)
        # by default the run that recommends this item to the most users
        aud = db.read(I.item_audience, dataset, item_id)
        default = int(aud.sort_values(["n_users", "run_id"], ascending=[False, True])
                      ["run_id"].iloc[0]) if len(aud) else ids[0]
        rid = int(components.bound_select(
            "Recommended together in the lists of", ids, "run", default, key="_item_run",
            cast=int, format_func=labels.get,
            unknown=f"run=“{{raw}}” in the link is not a finished run of “{md(dataset)}”; "
                    "showing {default}."))
        co = db.read(I.co_recommended, rid, item_id, N_SIMILAR)
        components.ranked_list_card(
            f"Recommended together by {labels[rid]}", run_color(rid),
            _rows(dataset, co, "share",
                  lambda r: f"in {int(r['n_lists'])} of the lists holding this item"),
            subtitle="Items most often in the same top-K lists as this one. Score: share of "
                     "those lists that hold both.",
            empty_text=f"{labels[rid]} recommends this item to nobody.")


# --------------------------------------------------------------------------- audience

def audience(dataset: str, item_id: str, runs: pd.DataFrame) -> None:
    done = runs[runs["status"] == "done"]
    if done.empty:
        st.info("No finished run yet, so nobody gets this item recommended.", icon=":material/info:")
        return
    labels = {int(r["run_id"]): run_label(r) for _, r in done.iterrows()}
    aud = db.read(I.item_audience, dataset, item_id)
    table = pd.DataFrame({
        "Run": [cut(labels.get(int(r), str(r)), 40) for r in aud["run_id"]],
        "Users who get it": aud["n_users"].astype(int),
        "Share of evaluated users": aud["share"].fillna(0) * 100,
        "Best rank": aud["best_rank"], "Median rank": aud["median_rank"],
        "Hits": aud["n_hits"].astype(int),
    })
    not_listed = "— : no user gets this item from this run, so it has no rank"
    cfg = components.dash_numbers(
        table, {"Share of evaluated users": "%.2f%%", "Best rank": "%d", "Median rank": "%.1f",
                "Hits": "%d"},
        helps={"Share of evaluated users": "Users with this item in their top-K list, out of "
                                           "the users the run evaluated",
               "Hits": "Users who get it recommended and really picked it later (held-out)"},
        why={"Best rank": not_listed, "Median rank": not_listed})
    st.dataframe(table, hide_index=True, width="stretch", key="_item_audience", column_config=cfg)
    # only runs in ``labels``: a run that finished after ``runs`` was read waits for the
    # next render
    getting = [int(r) for r, n in zip(aud["run_id"], aud["n_users"])
               if n > 0 and int(r) in labels]
    if not getting:
        st.caption("No run recommends this item to anyone.")
        return
    ranks = db.read(I.item_rank_counts, item_id, tuple(getting))
    kmax = int(done["k"].max()) if done["k"].notna().any() else None
    st.plotly_chart(db.figure("item.ranks", (dataset, item_id, tuple(getting), kmax), runs_charts.rank_chart,
                              ranks, labels, kmax), width="stretch",
                    key="_item_ranks")
    st.markdown("**Some of the users who get it** — open one to see the runs' lists side by side "
                "on the Compare page (hits first).")
    frames = []
    for r in getting:
        sample = db.read(I.item_recipients, r, item_id, N_SAMPLE)
        others = [o for o in getting if o != r][:3]
        frames.append(pd.DataFrame({
            "Run": cut(labels[r], 40), "User": sample["user_id"],
            "Rank": sample["rank"].astype(int), "Hit": sample["hit"].astype(bool),
            "Open": [compare_href(dataset, [r] + others, None, u) for u in sample["user_id"]]}))
    st.dataframe(pd.concat(frames, ignore_index=True), hide_index=True, width="stretch",
                 key="_item_sample", column_config={
                     "Hit": st.column_config.CheckboxColumn(help="The user picked this item later (held out)."),
                     "Open": st.column_config.LinkColumn(display_text="compare ↗",
                                                         help="This user on the Compare page.")})
