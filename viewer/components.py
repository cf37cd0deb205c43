"""Reusable page pieces."""

from __future__ import annotations

import streamlit as st

from engine.store.datasets import list_datasets
from viewer import db, state


def empty_store_message() -> None:
    st.info(
        "The store has no datasets yet. Build the demo with `recscope demo` (or `make run`, "
        "which builds it on first use), or add your own data with `recscope import ...` — "
        "see the Home page.",
        icon=":material/info:",
    )


def dataset_picker(key: str = "dataset", label: str = "Dataset", require: str | None = None) -> str | None:
    """A dataset selectbox bound to the ``dataset`` URL parameter.

    ``require`` = "interactions" or "reviews" keeps only datasets that have them. Returns
    the chosen name or None (after showing a message) when there is nothing to choose.
    An unknown name in the URL gets a friendly warning and falls back to the first.
    """
    all_ds = db.read(list_datasets)
    ds = all_ds
    if require == "interactions":
        ds = ds[ds["n_interactions"] > 0]
    elif require == "reviews":
        ds = ds[ds["n_reviews"] > 0]
    names = ds["name"].tolist()
    wanted = state.param(key)
    if not names:
        if all_ds.empty:
            empty_store_message()
        else:
            what = "interactions" if require == "interactions" else "reviews"
            st.info(f"No dataset in this store has {what} yet; the Home page says how to add "
                    f"one.", icon=":material/info:")
        return None
    if wanted is not None and wanted not in names:
        if wanted in set(all_ds["name"]):
            what = ("interactions to recommend from" if require == "interactions"
                    else "reviews")
            st.warning(f"Dataset “{wanted}” has no {what}; showing “{names[0]}” instead.",
                       icon=":material/warning:")
        else:
            st.warning(f"There is no dataset named “{wanted}” in this store; showing "
                       f"“{names[0]}” instead.", icon=":material/warning:")
        wanted = None
    index = names.index(wanted) if wanted in names else 0
    choice = st.selectbox(label, names, index=index, key=f"_picker_{key}")
    state.set_params(**{key: choice})
    return choice



def run_multiselect(label: str, labels: dict[int, str], wanted: list[int], *, key: str,
                    max_runs: int, help: str | None = None) -> list[int]:
    """A multiselect of runs bound to the ``runs`` URL parameter (comma-separated ids).

    ``labels`` maps the selectable run ids to their labels; ``wanted`` is what the link
    (or a default) asks for. Returns the chosen run ids."""
    state.sync_widget(key, "runs", list(wanted))
    st.session_state[key] = [r for r in st.session_state.get(key) or [] if r in labels]
    chosen = [int(r) for r in st.multiselect(
        label, list(labels), key=key, format_func=lambda r: labels.get(r, str(r)),
        max_selections=max_runs, help=help)]
    state.set_params(runs=chosen)
    state.mark_seen(key, "runs")
    return chosen

# --------------------------------------------------------------------------- ranked-list card

import html as _html  # noqa: E402

#: CSS for ranked-list cards (emitted with each card; identical blocks are harmless).
CARD_CSS = """<style>
.rs-card{border:1px solid #e3e3e3;border-top:6px solid var(--rs-c);border-radius:8px;
  padding:6px 8px 4px 8px;background:#fff;margin-bottom:8px}
.rs-head{font-weight:600;font-size:0.95rem;margin-bottom:2px;display:flex;gap:6px;align-items:center}
.rs-dot{width:11px;height:11px;border-radius:50%;background:var(--rs-c);display:inline-block;flex:none}
.rs-sub{color:#666;font-size:0.78rem;margin-bottom:4px}
.rs-list{margin:0;padding:0}
.rs-row{display:flex;gap:6px;align-items:flex-start;padding:3px 2px;border-top:1px solid #f0f0f0;
  font-size:0.84rem;line-height:1.25}
.rs-row.hit{background:#e6f4ea}
.rs-rank{flex:none;width:1.6em;text-align:right;color:#555;font-variant-numeric:tabular-nums}
.rs-marks{flex:none;width:1.7em;white-space:nowrap;font-size:0.8rem}
.rs-m-hit{color:#1a7f37;font-weight:700}
.rs-m-shared{color:#555}
.rs-m-unique{color:#b35900}
.rs-body{flex:1;min-width:0}
.rs-title{font-weight:500;overflow-wrap:anywhere}
.rs-title a{color:inherit;text-decoration:none}
.rs-title a:hover{text-decoration:underline}
.rs-meta{color:#666;font-size:0.75rem;overflow-wrap:anywhere}
.rs-why{color:#555;font-size:0.75rem;font-style:italic;overflow-wrap:anywhere}
.rs-score{flex:none;color:#777;font-size:0.75rem;font-variant-numeric:tabular-nums}
.rs-empty{color:#777;font-size:0.84rem;padding:6px 2px}
</style>"""


def ranked_list_html(title: str, color: str, rows: list[dict], subtitle: str = "",
                     empty_text: str = "No items.") -> str:
    """HTML of a ranked-list card; every text is escaped here.

    rows: dicts with ``title`` and optionally ``rank`` (shown when present), ``meta``,
    ``why``, ``score`` (float), ``href``, ``hit``/``shared``/``unique`` (bool marks:
    ✓ hit, ● shared with another list, ◆ only in this list), ``tooltip``.
    """
    e = _html.escape
    out = [f'<div class="rs-card" style="--rs-c:{e(color)}">',
           f'<div class="rs-head"><span class="rs-dot"></span><span>{e(title)}</span></div>']
    if subtitle:
        out.append(f'<div class="rs-sub">{e(subtitle)}</div>')
    if not rows:
        out.append(f'<div class="rs-empty">{e(empty_text)}</div>')
    out.append('<div class="rs-list">')
    for r in rows:
        marks = []
        if r.get("hit"):
            marks.append('<span class="rs-m-hit" title="hit: a held-out item of this user">✓</span>')
        if r.get("shared"):
            marks.append('<span class="rs-m-shared" title="also in another run\'s list">●</span>')
        if r.get("unique"):
            marks.append('<span class="rs-m-unique" title="only this run recommends it">◆</span>')
        name = e(str(r.get("title", "")))
        if r.get("href"):
            name = f'<a href="{e(str(r["href"]), quote=True)}" target="_self">{name}</a>'
        tip = f' title="{e(str(r["tooltip"]), quote=True)}"' if r.get("tooltip") else ""
        row = [f'<div class="rs-row{" hit" if r.get("hit") else ""}"{tip}>']
        if r.get("rank") is not None:
            row.append(f'<span class="rs-rank">{int(r["rank"])}</span>')
        row.append(f'<span class="rs-marks">{"".join(marks)}</span>')
        row.append(f'<div class="rs-body"><div class="rs-title">{name}</div>')
        if r.get("meta"):
            row.append(f'<div class="rs-meta">{e(str(r["meta"]))}</div>')
        if r.get("why"):
            row.append(f'<div class="rs-why">{e(str(r["why"]))}</div>')
        row.append("</div>")
        if r.get("score") is not None and r["score"] == r["score"]:
            row.append(f'<span class="rs-score">{float(r["score"]):.3g}</span>')
        row.append("</div>")
        out.append("".join(row))
    out.append("</div></div>")
    return "".join(out)


def ranked_list_card(title: str, color: str, rows: list[dict], subtitle: str = "",
                     empty_text: str = "No items.") -> None:
    """Render ``ranked_list_html`` (a compact card with rank, marks, title, metadata)."""
    st.markdown(CARD_CSS + ranked_list_html(title, color, rows, subtitle, empty_text),
                unsafe_allow_html=True)
