"""Reusable page pieces: the dataset picker, widgets bound to URL parameters
(``bound_select``, ``pick_runs``), run labels, and the ranked-list card.

Every widget bound to a URL parameter reads it with ``state.url_value`` (a bad value in a
link gets one warning and the default), keeps what the person chose across reruns
(``state.sync_widget``) and writes the choice back to the URL.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine.report.runs import run_label  # noqa: F401  (the reports label runs alike)
from engine.store.datasets import list_datasets
from engine.store import runs as store_runs
from engine.store.runs import list_runs
from viewer import db, state
from viewer.format import WHY, fmt_column, has_missing
from viewer.safe import md


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
            st.warning(f"Dataset “{md(wanted)}” has no {what}; showing “{md(names[0])}” instead.",
                       icon=":material/warning:")
        else:
            st.warning(f"There is no dataset named “{md(wanted)}” in this store; showing "
                       f"“{md(names[0])}” instead.", icon=":material/warning:")
        wanted = None
    index = names.index(wanted) if wanted in names else 0
    choice = st.selectbox(label, names, index=index, key=f"_picker_{key}")
    state.set_params(**{key: choice})
    return choice


# --------------------------------------------------------------------------- URL-bound widgets

def bound_select(label: str, options: list, name: str, default, what: str = "", *, key: str,
                 cast=str, format_func=str, help: str | None = None, kind: str = "select",
                 bounds: tuple | None = None, note: str = "", unknown: str | None = None,
                 omit_default: bool = False, where=None, label_visibility: str = "visible"):
    """A selectbox (``kind`` "select"), horizontal radio ("radio") or segmented control
    ("segmented") bound to URL parameter ``name``; returns the chosen option.

    The link's value is read by ``state.url_value`` (``what``, ``bounds``, ``note`` and
    ``unknown`` word its warning). ``omit_default`` leaves the default out of the URL;
    ``where`` is the column or container to draw in.
    """
    if default not in options:
        default = options[0]
    value = state.url_value(name, default, cast=cast, options=options, bounds=bounds,
                            what=what, note=note, format_func=format_func, unknown=unknown)
    state.sync_widget(key, name, value)
    if st.session_state.get(key) not in options:
        st.session_state[key] = value
    where = where or st
    common = dict(key=key, format_func=format_func, help=help, label_visibility=label_visibility)
    if kind == "radio":
        out = where.radio(label, options, horizontal=True, **common)
    elif kind == "segmented":
        out = where.segmented_control(label, options, **common)
        out = default if out is None else out      # a click on the chosen one clears it
    else:
        out = where.selectbox(label, options, **common)
    state.set_params(**{name: None if omit_default and out == default else out})
    state.mark_seen(key, name)
    return out


def dash_numbers(table: pd.DataFrame, formats: dict[str, str], config: dict | None = None,
                 helps: dict[str, str] | None = None, why: dict[str, str] | None = None) -> dict:
    """Column configs for the numeric columns ``formats`` ({column: printf format such as
    "%.2f"}) of ``table``, changing ``table`` in place where needed: a column without
    missing values stays a sortable NumberColumn; one with missing values becomes text
    with an em dash there (``viewer.format.fmt``), so the grid never shows "None", and
    its help says why (``why``: {column: reason}, e.g. ``format.WHY["no_shared"]``)."""
    config = dict(config or {})
    helps, why = helps or {}, why or {}
    for col, f in formats.items():
        if col not in table.columns:
            continue
        help_ = helps.get(col)
        if has_missing(table[col]):
            table[col] = fmt_column(table[col], f if f.startswith("%") else "")
            reason = why.get(col, WHY["no_value"])
            config[col] = st.column_config.TextColumn(help=f"{help_}. {reason}" if help_ else reason)
        else:
            config[col] = st.column_config.NumberColumn(format=f, help=help_)
    return config


def pick_runs(dataset: str, runs: pd.DataFrame, *, max_runs: int, key: str, label: str,
              default, help: str | None = None) -> list[int]:
    """A multiselect of the dataset's finished runs, bound to ``runs`` in the URL.

    Bad entries in a link (not a number, unknown id, another dataset's run, a run that
    failed or is still running, one listed twice, more than ``max_runs``) are named in
    one warning and dropped. ``default``: the run ids (or a function giving them) when
    the link names none that can be shown.
    """
    done = runs[runs["status"] == "done"]
    labels = {int(r["run_id"]): run_label(r) for _, r in done.iterrows()}
    raw = state.raw_list("runs")
    problems, wanted = [], []
    twice = sorted({t for t in raw if raw.count(t) > 1})
    if twice:
        problems.append(("run " + md(twice[0]) + " is" if len(twice) == 1 else
                         "runs " + ", ".join(md(t) for t in twice) + " are")
                        + " listed more than once")
    raw = list(dict.fromkeys(raw))  # each problem named once
    if raw:
        known = {int(r["run_id"]): r for _, r in db.read(list_runs).iterrows()}
        for tok in raw:
            if not tok.lstrip("-").isdigit():
                problems.append(f"“{md(tok)}” is not a run id (run ids are whole numbers)")
                continue
            rid = int(tok)
            if rid not in known:
                # run ids are never reused: one below the newest was deleted
                gone = " (deleted)" if known and rid < max(known) else ""
                problems.append(f"there is no run {rid} in this store{gone}")
            elif known[rid]["dataset"] != dataset:
                problems.append(f"run {rid} belongs to dataset “{md(known[rid]['dataset'])}”, "
                                f"not “{md(dataset)}”")
            elif rid not in labels:
                problems.append(f"run {rid} is {known[rid]['status']}, so it has no results")
            else:
                wanted.append(rid)
        if len(wanted) > max_runs:
            problems.append(f"at most {max_runs} runs at once; keeping the first {max_runs}")
            wanted = wanted[:max_runs]
    if problems:
        st.warning("In this link: " + "; ".join(problems) + ".", icon=":material/warning:")
    if not wanted:
        wanted = list(default() if callable(default) else default)
    return run_multiselect(label, labels, wanted, key=key, max_runs=max_runs, help=help)


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
.rs-warn{color:#8a5a00;background:#fff4d6;border-radius:4px;font-size:0.76rem;padding:2px 6px;margin:2px 0 4px 0}
</style>"""


#: The mark of a run with health warnings (Runs table, Compare cards).
WARN_ICON = "⚠️"


def warnings_by_run(dataset: str) -> dict[int, list[str]]:
    """{run_id: [warning sentence, ...]} of ``dataset``'s runs that have health warnings
    (``engine.evaluate.health``); runs without any are absent."""
    df = db.read(store_runs.run_warnings, dataset=dataset)
    return {int(r): g["message"].tolist() for r, g in df.groupby("run_id", sort=False)}


def health_text(messages: list[str] | None) -> str:
    """'⚠️ 2: sentence · sentence' for the Runs table's Health column (icon and count
    first, so a narrow cell still reads); '' when healthy."""
    return f"{WARN_ICON} {len(messages)}: " + " · ".join(messages) if messages else ""


def ranked_list_html(title: str, color: str, rows: list[dict], subtitle: str = "",
                     empty_text: str = "No items.", warnings: list[str] | None = None) -> str:
    """HTML of a ranked-list card; every text is escaped here.

    rows: dicts with ``title`` and optionally ``rank`` (shown when present), ``meta``,
    ``why``, ``score`` (float), ``href``, ``hit``/``shared``/``unique`` (bool marks:
    ✓ hit, ● shared with another list, ◆ only in this list), ``tooltip``.
    warnings: the run's health warnings, one line each under the subtitle.
    """
    e = _html.escape
    out = [f'<div class="rs-card" style="--rs-c:{e(color)}">',
           f'<div class="rs-head"><span class="rs-dot"></span><span>{e(title)}</span></div>']
    if subtitle:
        out.append(f'<div class="rs-sub">{e(subtitle)}</div>')
    for w in warnings or ():
        out.append(f'<div class="rs-warn" title="{e(w, quote=True)}">{WARN_ICON} {e(w)}</div>')
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
                     empty_text: str = "No items.", warnings: list[str] | None = None) -> None:
    """Render ``ranked_list_html`` (a compact card with rank, marks, title, metadata)."""
    st.markdown(CARD_CSS + ranked_list_html(title, color, rows, subtitle, empty_text, warnings),
                unsafe_allow_html=True)
