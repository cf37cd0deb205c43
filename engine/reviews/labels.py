"""Human labels: replaying the append-only history into each review's standing label.

Each review's events are replayed in order: 'meaningless', 'fine' and 'skip' push a
label, 'undo' pops the latest standing one (an undo with nothing to pop does nothing).
History is never deleted; the standing label is what remains on top. A label given to
another text than the review's current one (``earlier_text``: the reviews were replaced
and the id reused) belongs to that earlier version: it is kept in the history and the
export, and never applied to the new text.

'meaningless' is the stored key of the positive class whatever a dataset calls it: a
dataset imported with ``--positive-name deceptive`` still stores 'meaningless' rows, and
``display_label`` turns the key into the dataset's own name for people (page, CLI, export).
"""

from __future__ import annotations

import pandas as pd

from engine.textsafe import defuse_csv_cell, defuse_frame

#: Human label -> training target (skip is no target).
TARGET = {"meaningless": 1, "fine": 0}


def label_stacks(history: pd.DataFrame) -> dict[str, list[tuple]]:
    """Replay label_history rows (label_id, review_id, label, reviewer, labelled_at, ...)
    into each review's stack of (label, reviewer, labelled_at), oldest first: an 'undo'
    pops the latest row, whoever wrote it. Labels given to an earlier text of the review
    (``earlier_text``) are left out."""
    stacks: dict[str, list[tuple]] = {}
    if "earlier_text" in history.columns:  # labels of an earlier text of the review
        history = history[~history["earlier_text"].fillna(False).astype(bool)]
    for row in history.sort_values("label_id").itertuples(index=False):
        st = stacks.setdefault(str(row.review_id), [])
        if row.label == "undo":
            if st:
                st.pop()
        else:
            st.append((row.label, row.reviewer, getattr(row, "labelled_at", None)))
    return stacks


def current_labels(history: pd.DataFrame) -> pd.DataFrame:
    """One row per review whose stack (``label_stacks``) is non-empty, with its standing
    label, reviewer and time. Columns: review_id, label, reviewer, labelled_at."""
    rows = [(rid, *st[-1]) for rid, st in label_stacks(history).items() if st]
    return pd.DataFrame(rows, columns=["review_id", "label", "reviewer", "labelled_at"])


#: The stored key of the positive class.
POSITIVE_KEY = "meaningless"


def display_label(label, positive_name: str | None):
    """A stored human label as people read it: the positive key becomes the dataset's
    positive name; 'fine', 'skip' and anything else stay as they are."""
    return positive_name if (label == POSITIVE_KEY and positive_name) else label


def training_targets(reviews: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Targets for training: the human label where a person gave 'meaningless' or 'fine',
    else the shipped truth; NA where neither. Returns (target Int64, from_human bool),
    indexed like ``reviews``."""
    human = labels.set_index("review_id")["label"].map(TARGET) if len(labels) else pd.Series(dtype=float)
    h = reviews["review_id"].astype(str).map(human)
    truth = reviews["label"].astype("Int64")
    from_human = h.notna()
    target = truth.where(~from_human, h.astype("Int64"))
    return target.astype("Int64"), from_human


def export_frame(history: pd.DataFrame, reviews: pd.DataFrame, full_history: bool = False,
                 positive_name: str | None = None) -> pd.DataFrame:
    """Labels for CSV export: the standing label per review (or every event when
    ``full_history``), with the review's text and shipped truth. With ``positive_name``
    the positive label reads as that name ("deceptive") instead of 'meaningless'."""
    if full_history:
        out = history.copy()
    else:
        out = current_labels(history)
    if positive_name and len(out):
        out["label"] = out["label"].map(lambda v: display_label(v, positive_name))
    txt = reviews[["review_id", "text", "label"]].rename(columns={"label": "truth"})
    out = out.merge(txt, on="review_id", how="left")
    # every text cell (review ids, reviewer names, text...) is untrusted: engine.textsafe
    return defuse_frame(out)


def defuse_formula(text):
    """One cell defused for a spreadsheet (kept name; engine.textsafe holds the rule)."""
    return defuse_csv_cell(text)
