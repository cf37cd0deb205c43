"""The flagged-reviews queue: scored reviews + standing labels, filtered and ordered.

Pure pandas over what ``engine.store.reviews.scored_reviews`` and
``engine.reviews.labels.current_labels`` return, so the page does no arithmetic.

Ranked orders read a rank column the caller merges in (0 = first; a review without a
rank is not in such a queue): 'signals' = ``signal_rank`` (cold start: rule signals dealt
out for diversity, ``engine.reviews.coldstart``), 'batch' = ``batch_id`` (newest appended
batch first), 'disagreement' = ``disagree_rank`` (reviewers disagree) and 'mislabelled' =
``issue_rank`` (cleanlab). The last two list labelled reviews, so the default label
status 'unlabelled' does not filter them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ORDERS = {"score": "highest score first", "uncertainty": "most informative (nearest the threshold) first",
          "date": "newest first", "signals": "rule signals, varied",
          "batch": "newest batch first", "disagreement": "reviewers disagree",
          "mislabelled": "likely mislabelled first"}
#: order -> the rank column it sorts by (ascending).
RANKED = {"signals": "signal_rank", "batch": "batch_rank", "disagreement": "disagree_rank",
          "mislabelled": "issue_rank"}
#: Orders over labelled reviews (the 'unlabelled' status does not apply to them).
LABELLED_ORDERS = ("disagreement", "mislabelled")


def default_order(has_model: bool) -> str:
    """Most informative first once a model exists; rule signals (varied) before."""
    return "uncertainty" if has_model else "signals"
STATUSES = ("unlabelled", "any", "labelled", "meaningless", "fine", "skip")


@dataclass
class QueueFilter:
    order: str = "score"
    score_min: float = 0.0
    score_max: float = 1.0
    companies: tuple[str, ...] = ()
    length_min: int | None = None
    length_max: int | None = None
    status: str = "unlabelled"
    search: str = ""
    flagged_only: bool = False


def with_labels(scored: pd.DataFrame, labels: pd.DataFrame, threshold: float | None) -> pd.DataFrame:
    """scored_reviews rows plus the standing human label (``human``, ``reviewer``,
    ``labelled_at``), ``flagged`` (score >= threshold) and ``uncertainty`` (|score - threshold|)."""
    lab = labels.rename(columns={"label": "human"}) if len(labels) else pd.DataFrame(
        {"review_id": pd.Series(dtype=object), "human": pd.Series(dtype=object),
         "reviewer": pd.Series(dtype=object), "labelled_at": pd.Series(dtype="datetime64[us]")})
    df = scored.merge(lab[["review_id", "human", "reviewer", "labelled_at"]], on="review_id", how="left")
    thr = np.nan if threshold is None else float(threshold)
    df["flagged"] = (df["score"] >= thr).fillna(False).astype(bool)
    df["uncertainty"] = (df["score"] - thr).abs()
    return df


def apply_filter(df: pd.DataFrame, f: QueueFilter) -> pd.DataFrame:
    """Rows of ``with_labels`` that pass the filter, in the filter's order (ties by review_id)."""
    m = pd.Series(True, index=df.index)
    if df["score"].notna().any():
        m &= df["score"].between(f.score_min, f.score_max) | df["score"].isna()
    if f.companies:
        m &= df["company"].isin(list(f.companies))
    if f.length_min is not None:
        m &= df["length"] >= f.length_min
    if f.length_max is not None:
        m &= df["length"] <= f.length_max
    status = f.status if f.status in STATUSES else "unlabelled"
    rank = RANKED.get(f.order)
    if rank is not None:
        m &= df[rank].notna() if rank in df.columns else False
    if status == "unlabelled" and f.order in LABELLED_ORDERS:
        pass
    elif status == "unlabelled":
        m &= df["human"].isna()
    elif status == "labelled":
        m &= df["human"].notna()
    elif status != "any":
        m &= df["human"] == status
    if f.search:
        m &= df["text"].str.contains(f.search, case=False, regex=False, na=False)
    if f.flagged_only:
        m &= df["flagged"]
    out = df[m]
    if rank is not None:  # without its rank column (not merged in) the queue is empty
        out = out.sort_values([rank, "review_id"], na_position="last") if rank in out.columns else out
    elif f.order == "uncertainty":
        out = out.sort_values(["uncertainty", "review_id"], ascending=[True, True], na_position="last")
    elif f.order == "date":
        out = out.sort_values(["created_at", "review_id"], ascending=[False, True], na_position="last")
    else:
        out = out.sort_values(["score", "review_id"], ascending=[False, True], na_position="last")
    return out.reset_index(drop=True)


def next_after(queue_ids: list[str], current: str | None, wanted: str | None) -> str | None:
    """Which review to show: ``wanted`` if still in the queue, else ``current`` if still
    there, else the first."""
    if not queue_ids:
        return None
    for rid in (wanted, current):
        if rid is not None and rid in queue_ids:
            return rid
    return queue_ids[0]


def following(queue_ids: list[str], rid: str) -> str | None:
    """The review after ``rid`` in the queue (None at the end)."""
    try:
        i = queue_ids.index(rid)
    except ValueError:
        return queue_ids[0] if queue_ids else None
    return queue_ids[i + 1] if i + 1 < len(queue_ids) else None


def threshold_labels(df: pd.DataFrame, source: str = "human") -> tuple[np.ndarray, np.ndarray]:
    """(y, scores) of the labelled, scored reviews of a ``with_labels`` frame. ``source``:
    'human' = standing 'meaningless'/'fine' labels; 'truth' = the labels shipped with the data."""
    scored = df[df["score"].notna()]
    if source == "truth":
        lab = scored[scored["truth"].notna()]
        return lab["truth"].astype(int).to_numpy(), lab["score"].to_numpy(dtype=float)
    lab = scored[scored["human"].isin(["meaningless", "fine"])]
    return (lab["human"] == "meaningless").astype(int).to_numpy(), lab["score"].to_numpy(dtype=float)
