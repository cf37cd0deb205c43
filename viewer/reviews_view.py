"""Components of the flagged-reviews page.

Review text is untrusted. It reaches the page only through ``highlight_html`` and
``review_card_html``, which escape every piece of it with ``html.escape`` before adding
their own markup, and is then rendered with ``st.html`` (no Markdown pass); tables show
it through ``st.dataframe``, which renders text as text.

The positive class is called what the dataset calls it (``positive_name``: "meaningless"
for the demo, "deceptive" for a set imported with ``--positive-name deceptive``); the
stored label key, the button keys and the URL values stay 'meaningless'.
"""

from __future__ import annotations

import html
import json
import uuid

import numpy as np
import pandas as pd
import streamlit as st

from engine.errors import RecscopeError
from engine.report.review_charts import pr_figure, score_hist_figure  # noqa: F401 (moved; re-exported)
from engine.reviews import queue as Q
from engine.reviews.labels import current_labels, display_label, export_frame
from engine.reviews.threshold import at_threshold, pr_curve
from engine.store import datasets as ddb
from engine.services import reviews as svc
from engine.services.reviews import compare_models, train_dataset, weak_model_note
from engine.store import reviews as rdb
from viewer import db, state
from viewer.components import bound_select
from viewer.format import WHY, fmt, fmt_column, fmt_frame, has_missing, is_missing
from viewer.safe import code, md

LABEL_BUTTONS = [("meaningless", "Meaningless", "m", "primary"), ("fine", "Fine", "f", "secondary"),
                 ("skip", "Skip", "s", "secondary")]
#: Keys the page already uses for something else (fine, skip, undo, next).
_TAKEN_KEYS = {"f", "s", "u", "n"}


def label_buttons(positive: str) -> list[tuple[str, str, str, str]]:
    """LABEL_BUTTONS with the positive button named after the dataset's positive class;
    its shortcut is the name's first letter when that is a free letter, else "m"."""
    first = positive[:1].lower()
    key = first if first.isascii() and first.isalpha() and first not in _TAKEN_KEYS else "m"
    return [("meaningless", positive[:1].upper() + positive[1:], key, "primary"), *LABEL_BUTTONS[1:]]


def positive_name(dataset: str) -> str:
    """What the dataset calls its positive review class ("meaningless" by default)."""
    return db.read(ddb.positive_name, dataset)


def page_caption(positive: str) -> str:
    return (f"Reviews a classifier (character n-grams + rule signals, calibrated logistic "
            f"regression) thinks are {md(positive)}. Check them, label them, tune the threshold, "
            f"retrain.")

# --------------------------------------------------------------------------- pure HTML


def merge_spans(explanation: list[dict], length: int) -> list[tuple[int, int, float, str]]:
    """Non-overlapping (start, end, weight, n-grams) intervals from an explanation's spans;
    overlapping or touching spans merge (weight = the largest)."""
    raw = []
    for item in explanation or []:
        for a, b in item.get("spans", []):
            a, b = max(0, int(a)), min(length, int(b))
            if a < b:
                raw.append((a, b, float(item.get("weight", 0.0)), str(item.get("ngram", ""))))
    raw.sort()
    out: list[list] = []
    for a, b, w, g in raw:
        if out and a <= out[-1][1]:
            last = out[-1]
            last[1] = max(last[1], b)
            last[2] = max(last[2], w)
            if g not in last[3]:
                last[3].append(g)
        else:
            out.append([a, b, w, [g]])
    return [(a, b, w, ", ".join(gs)) for a, b, w, gs in out]


def highlight_html(text: str, explanation: list[dict]) -> str:
    """The text, escaped, with the contributing n-grams wrapped in <mark>."""
    text = text or ""
    spans = merge_spans(explanation, len(text))
    top = max((w for _, _, w, _ in spans), default=0.0) or 1.0
    parts, pos = [], 0
    for a, b, w, grams in spans:
        parts.append(html.escape(text[pos:a]))
        alpha = 0.25 + 0.6 * min(1.0, w / top)
        tip = html.escape(f"n-grams {grams}: +{w:.3f} to the logit", quote=True)
        parts.append(f'<mark class="rv-hl" style="background:rgba(255,140,0,{alpha:.2f})" '
                     f'title="{tip}">{html.escape(text[a:b])}</mark>')
        pos = b
    parts.append(html.escape(text[pos:]))
    return "".join(parts)


CARD_CSS = """<style>
.rv-card{border:1px solid #ddd;border-left:6px solid var(--rv-c);border-radius:8px;padding:10px 14px;
  background:#fff;font-family:sans-serif}
.rv-head{display:flex;gap:14px;align-items:baseline;flex-wrap:wrap;margin-bottom:6px}
.rv-score{font-size:1.5rem;font-weight:700;color:var(--rv-c)}
.rv-meta{color:#555;font-size:0.85rem}
.rv-text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:1.05rem;line-height:1.6;padding:8px;
  background:#fafafa;border-radius:6px;max-height:22em;overflow-y:auto}
.rv-hl{border-radius:3px;padding:0 1px}
.rv-reasons{margin:8px 0 0 0;padding-left:1.2em;font-size:0.88rem;color:#333}
.rv-label{display:inline-block;padding:1px 8px;border-radius:10px;font-size:0.8rem;background:#eee}
</style>"""


def review_card_html(row: dict, threshold: float | None, positive: str = "meaningless") -> str:
    """A review as an HTML card: score, meta, highlighted text, reasons. All text escaped."""
    e = html.escape
    score = row.get("score")
    has_score = score is not None and not (isinstance(score, float) and np.isnan(score))
    flagged = has_score and threshold is not None and score >= threshold
    color = "#c0392b" if flagged else "#2e7d32" if has_score else "#888"
    spans = json.loads(row["spans"]) if isinstance(row.get("spans"), str) and row["spans"] else []
    reasons = json.loads(row["reasons"]) if isinstance(row.get("reasons"), str) and row["reasons"] else []
    meta = [f"review {row['review_id']}"]
    if row.get("company"):
        meta.append(str(row["company"]))
    if row.get("created_at") is not None and not pd.isna(row.get("created_at")):
        meta.append(pd.Timestamp(row["created_at"]).strftime("%Y-%m-%d"))
    meta.append(f"{int(row.get('length') or 0)} characters")
    if row.get("truth") is not None and not pd.isna(row.get("truth")):
        meta.append("label in the data: " + (f"1 ({positive})" if int(row["truth"]) == 1 else "0 (fine)"))
    human = row.get("human")
    label = (f'<span class="rv-label" data-testid="rv-current-label">labelled '
             f'{e(str(display_label(human, positive)))} by '
             f'{e(str(row.get("reviewer")))}</span>') if isinstance(human, str) else \
        '<span class="rv-label" data-testid="rv-current-label">not labelled</span>'
    score_txt = f"{score:.3f}" if has_score else "no score"
    verdict = ("flagged" if flagged else "not flagged") if has_score else ""
    out = [CARD_CSS, f'<div class="rv-card" style="--rv-c:{color}" data-testid="rv-card" '
                     f'data-review-id="{e(str(row["review_id"]), quote=True)}">',
           f'<div class="rv-head"><span class="rv-score">{e(score_txt)}</span>'
           f'<span class="rv-meta">{e(verdict)}</span>'
           f'<span class="rv-meta">{e(" · ".join(meta))}</span>{label}</div>',
           f'<div class="rv-text" data-testid="rv-text">{highlight_html(str(row.get("text") or ""), spans)}</div>']
    if reasons:
        out.append('<ul class="rv-reasons">' + "".join(f"<li>{e(str(r.get('text', '')))}</li>" for r in reasons)
                   + "</ul>")
    out.append("</div>")
    return "".join(out)


# --------------------------------------------------------------------------- figures


# --------------------------------------------------------------------------- page pieces


def reviewer_input() -> str:
    """The reviewer's name, kept in session state and the ``reviewer`` URL parameter."""
    if "rv_reviewer" not in st.session_state:
        st.session_state["rv_reviewer"] = state.param("reviewer", "") or ""
    name = st.text_input("Your name (stored with each label)", key="rv_reviewer").strip()
    state.set_params(reviewer=name or None)
    return name


def model_picker(dataset: str) -> dict | None:
    models = db.read(rdb.list_models, dataset)
    if models.empty:
        return None
    ids = models["model_id"].astype(int).tolist()
    wanted = state.url_value("model", ids[0], cast=int, options=ids, unknown=(
        f"There is no review model #{{raw}} for “{md(dataset)}”; showing the newest."))
    index = ids.index(wanted)

    def fmt(mid: int) -> str:
        r = models[models["model_id"] == mid].iloc[0]
        return f"model {mid} · ROC-AUC {r['roc_auc']:.3f} · {int(r['n_train'])} labels"

    choice = st.selectbox("Model", ids, index=index, format_func=fmt, key="rv_model")
    state.set_params(model=choice if choice != ids[0] else None)
    return db.read(rdb.get_model, int(choice))


def weak_model_warning(model: dict) -> None:
    """A warning above the queue when the model is near chance (its flags are noise)."""
    note = weak_model_note(model)
    if note:
        st.warning(note, icon=":material/report:")


def train_button(dataset: str, label: str) -> dict | None:
    """A button that trains a new model with progress; returns its row when it ran."""
    if not st.button(label, key="rv_train", icon=":material/model_training:"):
        return None
    bar = st.progress(0.0, text="starting")

    def progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 0.0, text=stage)

    with st.spinner("Training, cross-validating and scoring…"):
        try:
            row = train_dataset(db.get_store(), dataset, progress=progress)
        except Exception as exc:  # RecscopeError: one sentence for a person
            if isinstance(exc, RecscopeError):
                st.error(md(exc, 300))
                return None
            raise
    db.invalidate()
    st.session_state["rv_compare"] = (row.get("parent_model_id"), row["model_id"])
    if row.get("parent_model_id") is None:  # the first model: the queue's default order changes
        st.session_state.pop("rv_order", None)
        st.session_state.pop("rv_current", None)  # start the new order at its top
        state.set_params(order=None)
    state.set_params(model=None)
    return row


def _companies_and_lengths(dataset: str, frame: pd.DataFrame) -> tuple[list[str], int]:
    comps = sorted(c for c in frame["company"].dropna().unique().tolist())
    max_len = int(frame["length"].max()) if len(frame) else 1
    return comps, max(max_len, 1)


def queue_filters(frame: pd.DataFrame, threshold: float, positive: str = "meaningless",
                  default_order: str = "score") -> Q.QueueFilter:
    """Filter widgets bound to URL parameters."""
    comps, max_len = _companies_and_lengths("", frame)
    notes = st.container()   # warnings about the link, above the filter box
    box = st.container(border=True)
    with notes:
        c1, c2, c3 = box.columns([1.2, 1.2, 1.6])
        order = bound_select("Order", list(Q.ORDERS), "order", default_order, "an order",
                             key="rv_order", format_func=lambda o: Q.ORDERS[o],
                             omit_default=True, where=c1)
        status = bound_select("Label status", list(Q.STATUSES), "status", "unlabelled",
                              "a label status", key="rv_status", omit_default=True, where=c2,
                              format_func=lambda s: display_label(s, positive))
        search = c3.text_input("Text contains", value=state.param("q", "") or "", key="rv_search")
        c4, c5, c6 = box.columns([1.2, 1.2, 1.6])
        smin = state.url_value("smin", 0.0, cast=float, bounds=(0.0, 1.0))
        smax = state.url_value("smax", 1.0, cast=float, bounds=(0.0, 1.0))
        srange = c4.slider("Score range", 0.0, 1.0, (smin, smax), step=0.01, key="rv_score")
        longest = f" (the longest review has {max_len:,} characters)"
        lmin = state.url_value("lmin", 0, cast=int, bounds=(0, max_len), note=longest)
        lmax = state.url_value("lmax", max_len, cast=int, bounds=(0, max_len), note=longest)
        lrange = c5.slider("Length (characters)", 0, max_len, (lmin, lmax), key="rv_len")
        linked = state.raw_list("company")
        unknown = [c for c in linked if c not in comps]
        if unknown:
            state.warn(f"company=“{md(','.join(unknown))}” in the link names no company of these "
                       f"reviews; showing {'the others' if len(unknown) < len(linked) else 'all'}.")
        wanted = [c for c in linked if c in comps]
        chosen = c6.multiselect("Company", comps, default=wanted, key="rv_company")
    state.set_params(q=search or None,
                     smin=srange[0] if srange[0] > 0 else None, smax=srange[1] if srange[1] < 1 else None,
                     lmin=lrange[0] if lrange[0] > 0 else None, lmax=lrange[1] if lrange[1] < max_len else None,
                     company=chosen or None)
    return Q.QueueFilter(order=order, score_min=srange[0], score_max=srange[1], companies=tuple(chosen),
                         length_min=lrange[0] if lrange[0] > 0 else None,
                         length_max=lrange[1] if lrange[1] < max_len else None,
                         status=status, search=search.strip())


def _write_labels(dataset: str, ids: list[str], label: str, reviewer: str, model_id: int | None,
                  batch: bool = False) -> None:
    batch_id = uuid.uuid4().hex[:12] if batch else None
    rdb.append_labels(db.get_store(), dataset, ids, label, reviewer, model_id=model_id, batch_id=batch_id)
    db.invalidate()
    if label != "undo":
        st.session_state.setdefault("rv_undo", []).append(list(ids))


def labelled_frame(dataset: str, model: dict | None) -> pd.DataFrame:
    scored = db.read(rdb.scored_reviews, dataset, None if model is None else int(model["model_id"]))
    labels = current_labels(db.read(rdb.label_history, dataset))
    return Q.with_labels(scored, labels, None if model is None else model["threshold"])


def queue_section(dataset: str, model: dict | None, reviewer: str) -> None:
    frame = labelled_frame(dataset, model)
    positive = positive_name(dataset)
    threshold = None if model is None else float(model["threshold"])
    f = queue_filters(frame, threshold or 0.5, positive, Q.default_order(model is not None))
    if f.order in Q.RANKED:
        frame = frame.merge(db.read(svc.queue_ranks, dataset, f.order), on="review_id", how="left")
        if f.order == "mislabelled" and model is None:
            st.info("Likely label errors need a model's out-of-fold scores: train one first.",
                    icon=":material/info:")
    queue = Q.apply_filter(frame, f)
    ids = queue["review_id"].tolist()
    n_flag = int(queue["flagged"].sum())
    st.caption(f"{len(queue):,} reviews in this selection, {n_flag:,} of them flagged"
               + (f" (threshold {threshold:.3f})" if threshold is not None else ""))

    current = Q.next_after(ids, st.session_state.get("rv_current"), st.session_state.pop("rv_next", None))
    st.session_state["rv_current"] = current
    left, right = st.columns([3, 1.1])
    with right:
        st.markdown("**Label** (keyboard: the letter on each button)")
        if not reviewer:
            st.warning("Type your name above to label.", icon=":material/person:")
        for label, text, key, kind in label_buttons(positive):
            if st.button(md(text, 40), key=f"rv_btn_{label}", shortcut=key, type=kind,
                         disabled=current is None or not reviewer, width="stretch"):
                _write_labels(dataset, [current], label, reviewer,
                              None if model is None else int(model["model_id"]))
                st.session_state["rv_next"] = Q.following(ids, current)
                st.session_state["rv_flash"] = (f"Labelled {md(current)} as "
                                                f"{md(display_label(label, positive))}.")
                st.rerun()
        undo_stack = st.session_state.get("rv_undo", [])
        if st.button("Undo", key="rv_btn_undo", shortcut="u", disabled=not undo_stack or not reviewer,
                     width="stretch", icon=":material/undo:"):
            last = undo_stack.pop()
            _write_labels(dataset, last, "undo", reviewer, None)
            st.session_state["rv_next"] = last[0]
            st.session_state["rv_flash"] = (f"Undid the label of {md(last[0])}." if len(last) == 1
                                            else f"Undid the bulk label of {len(last)} reviews.")
            st.rerun()
        if st.button("Next without labelling", key="rv_btn_next", shortcut="n", disabled=current is None,
                     width="stretch"):
            st.session_state["rv_next"] = Q.following(ids, current)
            st.rerun()
        flash = st.session_state.pop("rv_flash", None)
        if flash:
            st.success(flash, icon=":material/check:")
    with left:
        if current is None:
            st.info("No review matches this selection. Widen the filters or pick another label status.",
                    icon=":material/inbox:")
        else:
            row = queue[queue["review_id"] == current].iloc[0].to_dict()
            pos = ids.index(current) + 1
            st.caption(f"Review {pos:,} of {len(ids):,} in the queue")
            st.html(review_card_html(row, threshold, positive))

    _bulk_section(dataset, model, reviewer, queue, positive)
    _queue_table(queue, positive)


def _queue_table(queue: pd.DataFrame, positive: str = "meaningless") -> None:
    st.subheader("The selection")
    show = queue.head(500)[["review_id", "score", "flagged", "human", "company", "length", "created_at", "text"]]
    show = show.assign(human=[fmt(display_label(v, positive)) for v in show["human"]],
                       company=fmt_column(show["company"]))
    cfg = {"label": st.column_config.TextColumn(help=WHY["not_labelled"]),
           "company": st.column_config.TextColumn(help=WHY["no_value"]),
           "text": st.column_config.TextColumn(width="large")}
    if has_missing(show["created_at"]):
        show = show.assign(created_at=fmt_column(show["created_at"], "%Y-%m-%d"))
        cfg["created_at"] = st.column_config.TextColumn(help=WHY["no_timestamp"])
    if has_missing(show["score"]):
        show = show.assign(score=fmt_column(show["score"], "%.3f"))
        cfg["score"] = st.column_config.TextColumn(help="— : not scored by this model")
    else:
        cfg["score"] = st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.3f")
    ev = st.dataframe(show.rename(columns={"human": "label"}), hide_index=True, width="stretch", height=320,
                      on_select="rerun", selection_mode="single-row", key="rv_table",
                      column_config=cfg)
    rows = ev.selection.rows if ev is not None and hasattr(ev, "selection") else []
    if rows:
        picked = show.iloc[rows[0]]["review_id"]
        if picked != st.session_state.get("rv_current") and picked != st.session_state.get("rv_table_picked"):
            st.session_state["rv_table_picked"] = picked
            st.session_state["rv_next"] = picked
            st.rerun()
    if len(queue) > 500:
        st.caption(f"Showing the first 500 of {len(queue):,}.")


def _bulk_section(dataset: str, model: dict | None, reviewer: str, queue: pd.DataFrame,
                  positive: str = "meaningless") -> None:
    with st.expander(f"Label all {len(queue):,} reviews of this selection at once"):
        c1, c2 = st.columns([1, 2])
        label = c1.selectbox("Label", [b[0] for b in LABEL_BUTTONS], key="rv_bulk_label",
                             format_func=lambda v: display_label(v, positive))
        pending = st.session_state.get("rv_bulk_pending")
        if c2.button(f"Label {len(queue):,} reviews as {md(display_label(label, positive))}…", key="rv_bulk_ask",
                     disabled=queue.empty or not reviewer):
            st.session_state["rv_bulk_pending"] = (label, queue["review_id"].tolist())
            st.rerun()
        if pending:
            lab, ids = pending
            st.warning(f"Label {len(ids):,} reviews as **{md(display_label(lab, positive))}**? Each gets a new label row; history is "
                       f"kept and Undo reverts the whole batch.", icon=":material/warning:")
            a, b = st.columns(2)
            if a.button("Yes, label them", key="rv_bulk_yes", type="primary"):
                _write_labels(dataset, ids, lab, reviewer, None if model is None else int(model["model_id"]),
                              batch=True)
                st.session_state.pop("rv_bulk_pending", None)
                st.session_state["rv_flash"] = (f"Labelled {len(ids):,} reviews as "
                                                f"{md(display_label(lab, positive))}.")
                st.rerun()
            if b.button("Cancel", key="rv_bulk_no"):
                st.session_state.pop("rv_bulk_pending", None)
                st.rerun()


def threshold_section(dataset: str, model: dict) -> None:
    frame = labelled_frame(dataset, model)
    n_human = int(frame["human"].isin(["meaningless", "fine"]).sum())
    sources = ["human", "truth"]
    default = "human" if n_human else "truth"
    src = bound_select("Labels to measure against", sources, "source", default, "a label source",
                       key="rv_source", kind="radio", omit_default=True,
                       format_func=lambda s: f"your labels ({n_human:,})" if s == "human" else
                       f"labels shipped with the data ({int(frame['truth'].notna().sum()):,})")
    y, s = Q.threshold_labels(frame, src)
    if len(y) == 0 or y.min() == y.max():
        st.info(f"A precision-recall curve needs labelled reviews of both kinds ({md(positive_name(dataset))} "
                f"and fine). "
                "Label some in the queue, or measure against the shipped labels.", icon=":material/info:")
        return
    thr = st.slider("Threshold", 0.0, 1.0, float(model["threshold"]), step=0.005, key="rv_thr",
                    format="%.3f")
    figures = at_threshold(y, s, frame["score"].to_numpy(dtype=float), thr)
    c = st.columns(4)
    c[0].metric("Precision", "–" if figures["precision"] != figures["precision"] else f"{figures['precision']:.3f}")
    c[1].metric("Recall", "–" if figures["recall"] != figures["recall"] else f"{figures['recall']:.3f}")
    c[2].metric("F1", "–" if figures["f1"] != figures["f1"] else f"{figures['f1']:.3f}")
    c[3].metric("Reviews flagged", f"{figures['n_flagged']:,} of {int(frame['score'].notna().sum()):,}")
    st.caption(f"On {figures['n_labelled']:,} labelled reviews: {figures['tp']} caught, {figures['fp']} "
               f"false alarms, {figures['fn']} missed. Scores of training reviews are out-of-fold.")
    left, right = st.columns(2)
    left.plotly_chart(pr_figure(pr_curve(y, s), figures), width="stretch", key="rv_pr")
    right.plotly_chart(score_hist_figure(frame["score"], thr), width="stretch", key="rv_hist")
    if abs(thr - float(model["threshold"])) > 1e-9:
        if st.button(f"Use threshold {thr:.3f} for model {int(model['model_id'])}", key="rv_set_thr"):
            rdb.set_threshold(db.get_store(), int(model["model_id"]), thr)
            db.invalidate()
            st.rerun()
    st.caption(f"Cross-validated threshold of this model: {model['cv_threshold']:.3f}.")


def models_section(dataset: str) -> None:
    models = db.read(rdb.list_models, dataset)
    frame = labelled_frame(dataset, None)
    n_human = int(frame["human"].isin(["meaningless", "fine"]).sum())
    st.write(f"Retraining uses your {n_human:,} labels where you gave one (they override the labels "
             f"shipped with the data) and the shipped labels elsewhere; unlabelled reviews are scored, "
             f"not trained on.")
    row = train_button(dataset, "Retrain with the human labels")
    if row is not None:
        st.success(f"Trained model {row['model_id']}: ROC-AUC {row['roc_auc']:.3f}.")
        models = db.read(rdb.list_models, dataset)
    if models.empty:
        return
    cols = ["model_id", "created_at", "n_train", "n_positive", "n_human_labels", "roc_auc", "pr_auc", "f1",
            "threshold", "n_flagged"]
    st.dataframe(fmt_frame(models[cols]) if models[cols].isna().any().any() else models[cols],
                 hide_index=True, width="stretch")
    if len(models) < 2:
        return
    ids = models["model_id"].astype(int).tolist()
    pair = st.session_state.get("rv_compare")
    default_new, default_old = ids[0], ids[1]
    if pair and pair[0] in ids and pair[1] in ids:
        default_old, default_new = pair
    c1, c2 = st.columns(2)
    old = c1.selectbox("Old model", ids, index=ids.index(default_old), key="rv_cmp_old")
    new = c2.selectbox("New model", ids, index=ids.index(default_new), key="rv_cmp_new")
    table, moves = db.read(compare_models, int(old), int(new))
    st.dataframe(fmt_frame(table), width="stretch")
    st.write(f"Between the two (each at its own threshold): **{moves['newly_flagged']:,}** reviews newly "
             f"flagged, **{moves['no_longer_flagged']:,}** no longer flagged, {moves['flagged_by_both']:,} "
             f"flagged by both; score correlation {moves['score_correlation']:.3f}.")


def export_section(dataset: str) -> None:
    reviews = db.read(rdb.load_reviews, dataset)
    history = db.read(rdb.label_history, dataset)
    full = st.checkbox("Every label event (undos included) instead of each review's standing label",
                       key="rv_export_full")
    df = export_frame(history, reviews, full_history=full, positive_name=positive_name(dataset))
    st.write(f"{len(df):,} rows.")
    st.download_button("Download labels (CSV)", df.to_csv(index=False).encode("utf-8"),
                       file_name=f"{dataset}-review-labels{'-history' if full else ''}.csv", mime="text/csv",
                       icon=":material/download:", key="rv_download")
    if len(df):
        st.dataframe(df.head(200), hide_index=True, width="stretch")



# --------------------------------------------------------------------------- the daily loop


def visit_news(dataset: str, reviewer: str) -> None:
    """What was appended since the reviewer's previous visit; records this visit once per
    session (the 'since' stays fixed for the session)."""
    key = f"rv_since::{dataset}::{reviewer}"
    if key not in st.session_state:
        # the previous visit, and this one recorded, on one connection; only last_visit
        # sees this write: every other cached read stays valid
        st.session_state[key] = db.write_only(rdb.visit, dataset, reviewer,
                                              affects=(rdb.last_visit,))
    since = st.session_state[key]
    news = db.read(svc.news_since, dataset, since)
    when = "your last visit" if since is None else \
        f"your last visit ({pd.Timestamp(since).strftime('%Y-%m-%d %H:%M')})"
    if news["n_new"]:
        st.info(f"{news['n_new']:,} reviews are new since {when}, in batch(es) "
                f"{', '.join(map(str, news['batches']))}: order the queue by “newest batch first” "
                f"to see them.", icon=":material/fiber_new:")
    elif since is not None:
        st.caption(f"No reviews have been added since {when}.")


def first_model_progress(dataset: str, positive: str) -> None:
    """Progress towards the labels the first model needs."""
    p = db.read(svc.label_progress, dataset)
    need = p["minimum"] * 2
    have = min(p["n_positive"], p["minimum"]) + min(p["n_negative"], p["minimum"])
    positive = md(positive)
    st.progress(have / need, text=f"Towards the first model: {p['n_positive']:,} {positive} and "
                                  f"{p['n_negative']:,} fine labels; training needs {p['minimum']} of "
                                  f"each ({p['need_positive']} more {positive}, {p['need_negative']} "
                                  f"more fine).")


def batches_section(dataset: str, model: dict) -> None:
    """Appended batches and the drift of their scores against the model's training scores."""
    batches = db.read(rdb.list_batches, dataset)
    if batches.empty:
        st.info(f"No reviews have been appended to “{md(dataset)}” since it was imported. Add the "
                f"day's reviews with "
                f"{code(f'recscope import reviews FILE --name {dataset} --id-col C --text-col C --append', None)}.",
                icon=":material/info:")
        return
    drift = db.read(svc.drift_report, dataset, model)
    table = batches.merge(drift.drop(columns=["added_at"]), on="batch_id", how="left")
    for sentence in drift["alarm"].dropna():
        st.warning(sentence, icon=":material/trending_up:")
    st.dataframe(_batch_table(table), hide_index=True, width="stretch",
                 column_config={"PSI": st.column_config.TextColumn(help=PSI_HELP)})
    st.caption(f"Against model {int(model['model_id'])}'s out-of-fold scores on its training reviews, "
               f"at threshold {float(model['threshold']):.3f}. {PSI_HELP}")


def _batch_table(table: pd.DataFrame) -> pd.DataFrame:
    """Batches for display: figures as text, an em dash where there is none (a batch added
    before any model, or with nothing new, has no scores)."""
    models = table["model_id"].map(lambda v: v if is_missing(v) else f"model {int(v)}")
    return pd.DataFrame({
        "batch": table["batch_id"].astype(int),
        "added": fmt_column(table["added_at"], "%Y-%m-%d %H:%M"),
        "source": fmt_column(table["source"].where(table["source"] != "")),
        "added reviews": table["n_added"].astype(int), "skipped (already there)": table["n_skipped"].astype(int),
        "scored on arrival by": fmt_column(models),
        "PSI": fmt_column(table["psi"], ".3f"),
        "share flagged": fmt_column(table["share_flagged"], ".1%"),
        "share flagged in training": fmt_column(table["base_share"], ".1%")})


PSI_HELP = ("Population stability index over ten decile bins of the training scores: under 0.1 "
            "stable, 0.1-0.25 a moderate shift, over 0.25 a large one.")


def _kappa(v: float) -> str:
    return fmt(v, ".3f")


def checks_section(dataset: str, model: dict) -> None:
    """Agreement between reviewers and the labels the model doubts."""
    st.subheader("Agreement between reviewers")
    agree = db.read(svc.label_agreement, dataset)
    if agree["n_multi"] == 0:
        st.caption("No review has been labelled by two or more people yet.")
    else:
        st.metric("Fleiss' kappa", _kappa(agree["fleiss"]),
                  help=f"over the {agree['n_multi']:,} reviews labelled by two or more of the "
                       f"{agree['n_reviewers']} reviewers")
        pairs = agree["pairs"].assign(kappa=lambda d: d["kappa"].map(_kappa))
        st.dataframe(pairs, hide_index=True, width="stretch")
        st.caption(f"{len(agree['disagreements']):,} reviews with disagreeing labels: order the queue "
                   f"by “reviewers disagree” to settle them.")
    st.subheader("Likely label errors")
    issues = db.read(svc.label_issues, dataset, 50)
    if issues.empty:
        st.caption("Confident learning (cleanlab) finds no label the model doubts.")
        return
    positive = positive_name(dataset)
    st.dataframe(issues.assign(label=issues["label"].map(lambda v: display_label(v, positive))),
                 hide_index=True, width="stretch")
    st.caption(f"Model {int(model['model_id'])}'s out-of-fold scores against the current labels "
               f"(cleanlab), most doubtful first. Order the queue by “likely mislabelled” to relabel.")
