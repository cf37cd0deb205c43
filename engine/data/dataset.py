"""The Dataset: interactions plus user, item (and optionally review) tables.

Ids are the dataset's own ids, always as text (``str``), at every boundary. Contiguous
integer indices exist only inside engine computations (see ``IdMap``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.errors import DataError

#: Columns of ``Dataset.interactions``, in order.
INTERACTION_COLUMNS = ["user_id", "item_id", "timestamp", "event", "weight"]
#: Required columns of ``Dataset.items``; any further columns are display metadata.
ITEM_COLUMNS = ["item_id", "title", "category"]
#: Required columns of ``Dataset.users``; any further columns are display metadata.
USER_COLUMNS = ["user_id"]
#: Columns of ``Dataset.reviews`` (label: 1 = meaningless/spam, 0 = fine, <NA> = unknown).
REVIEW_COLUMNS = ["review_id", "text", "label", "company", "user_id", "created_at"]

#: Default weight per event type (view < favorite < apply < hire). Used when an event has no weight.
DEFAULT_EVENT_WEIGHTS = {"view": 1.0, "favorite": 3.0, "apply": 5.0, "hire": 8.0}


@dataclass
class Dataset:
    """A dataset as the engine sees it.

    interactions: one row per event with columns ``INTERACTION_COLUMNS``:
        user_id (str), item_id (str), timestamp (datetime64, may be NaT when the source
        has no time), event (str, e.g. "view", "rating"), weight (float, e.g. the rating).
    users: ``user_id`` plus display metadata columns (any).
    items: ``item_id``, ``title``, ``category`` (may be empty strings) plus display metadata.
    reviews: optional; columns ``REVIEW_COLUMNS`` (company, user_id, created_at may be null).
    """

    name: str
    interactions: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    reviews: pd.DataFrame | None = None
    source: str = ""
    info: dict = field(default_factory=dict)
    #: optional true funnel probabilities per view (synthetic data only): user_id,
    #: item_id, time, p_apply (P(apply | view)), p_hire (P(hire | apply)).
    oracle: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self.interactions = normalise_interactions(self.interactions)
        self.items = normalise_items(self.items, self.interactions)
        self.users = normalise_users(self.users, self.interactions)
        if self.reviews is not None:
            self.reviews = normalise_reviews(self.reviews)

    @property
    def n_users(self) -> int:
        return int(self.users.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.items.shape[0])

    @property
    def n_interactions(self) -> int:
        return int(self.interactions.shape[0])

    @property
    def n_reviews(self) -> int:
        return 0 if self.reviews is None else int(self.reviews.shape[0])

    @property
    def has_timestamps(self) -> bool:
        return bool(self.interactions["timestamp"].notna().any())


def ids_to_text(s: pd.Series) -> pd.Series:
    """Ids as text (missing stays missing); floats that are whole numbers lose their
    '.0', so a CSV id column that pandas read as float still gives "12", not "12.0".
    The one place ids become text: loaders, the store and imported runs call it."""
    if pd.api.types.is_float_dtype(s) and bool((s.dropna() % 1 == 0).all()):
        s = s.astype("Int64")
    return s.astype("string")


def _as_text(s: pd.Series) -> pd.Series:
    return ids_to_text(s).astype(object).where(s.notna(), None)


def normalise_interactions(df: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("user_id", "item_id") if c not in df.columns]
    if missing:
        raise DataError(f"Interactions lack the column(s) {', '.join(missing)}.")
    out = pd.DataFrame({
        "user_id": _as_text(df["user_id"]),
        "item_id": _as_text(df["item_id"]),
    })
    ts = df["timestamp"] if "timestamp" in df.columns else pd.Series(pd.NaT, index=df.index)
    out["timestamp"] = pd.to_datetime(ts).astype("datetime64[us]")
    if "event" in df.columns:
        out["event"] = df["event"].astype("string").fillna("interaction").astype(object)
    else:
        out["event"] = "interaction"
    if "weight" in df.columns:
        out["weight"] = pd.to_numeric(df["weight"]).astype("float64")
    else:
        out["weight"] = out["event"].map(DEFAULT_EVENT_WEIGHTS).fillna(1.0).astype("float64")
    return out.reset_index(drop=True)


def _with_every_id(table: pd.DataFrame | None, interactions: pd.DataFrame, id_col: str,
                   fixed: list[str]) -> pd.DataFrame:
    """``table`` with text ids, one row per id, a row added for every id that the
    interactions mention and the table lacks, and the ``fixed`` columns first."""
    ids = pd.Index(interactions[id_col].unique())
    if table is None or table.empty:
        table = pd.DataFrame({id_col: ids})
    table = table.copy()
    table[id_col] = _as_text(table[id_col])
    table = table.drop_duplicates(id_col)
    extra = ids.difference(pd.Index(table[id_col]))
    if len(extra):
        table = pd.concat([table, pd.DataFrame({id_col: extra})], ignore_index=True)
    for col in fixed:
        if col not in table.columns:
            table[col] = None
    return table[fixed + [c for c in table.columns if c not in fixed]].reset_index(drop=True)


def normalise_items(items: pd.DataFrame | None, interactions: pd.DataFrame) -> pd.DataFrame:
    items = _with_every_id(items, interactions, "item_id", ITEM_COLUMNS)
    items["title"] = items["title"].astype(object).where(items["title"].notna(), None)
    items["title"] = items["title"].fillna(items["item_id"])
    items["category"] = items["category"].fillna("").astype(str)
    return items


def normalise_users(users: pd.DataFrame | None, interactions: pd.DataFrame) -> pd.DataFrame:
    return _with_every_id(users, interactions, "user_id", USER_COLUMNS)


def normalise_reviews(df: pd.DataFrame) -> pd.DataFrame:
    if "text" not in df.columns:
        raise DataError("Reviews lack the column text.")
    out = pd.DataFrame(index=df.index)
    if "review_id" in df.columns:
        out["review_id"] = _as_text(df["review_id"])
    else:
        out["review_id"] = [str(i + 1) for i in range(len(df))]
    out["text"] = df["text"].fillna("").astype(str)
    out["label"] = pd.array(df["label"], dtype="Int64") if "label" in df.columns else pd.array([pd.NA] * len(df), dtype="Int64")
    for c in ("company", "user_id"):
        out[c] = df[c].astype("string").astype(object).where(df[c].notna(), None) if c in df.columns else None
    out["created_at"] = pd.to_datetime(df["created_at"]).astype("datetime64[us]") if "created_at" in df.columns else pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    extra = [c for c in df.columns if c not in out.columns]
    for c in extra:
        out[c] = df[c]
    return out.reset_index(drop=True)


class IdMap:
    """External text ids <-> contiguous positions 0..n-1, the one mapping of the engine
    (as RecTools' ``IdMap``). Built once per split (users: train and test users; items:
    train items) and passed along: the matrix's rows and columns, the model's factor rows
    and a run's stored item ids are all these positions.

    ``ids``: position -> id (object array of str). ``positions(ids)``: id -> position;
    ``strict=True`` raises one sentence naming the first unknown id, ``strict=False``
    gives -1 for it (e.g. a test item never seen in training).
    """

    def __init__(self, ids, what: str = "id", where: str = ""):
        self.ids = np.asarray(list(ids) if not isinstance(ids, (np.ndarray, pd.Index, pd.Series))
                              else ids, dtype=object)
        self.what = what
        self._index = pd.Index(self.ids, dtype=object)
        if not self._index.is_unique:
            dup = self._index[self._index.duplicated()][0]
            raise DataError(f"The {what} id list{where} repeats the id {dup!r}; each {what} "
                            f"must appear once.")

    @classmethod
    def from_values(cls, values, what: str = "id") -> "IdMap":
        """The sorted distinct ``values`` (e.g. a column with repeats)."""
        return cls(sorted(set(values)), what)

    @classmethod
    def of(cls, ids, what: str = "id", where: str = "") -> "IdMap":
        """``ids`` itself when it is an IdMap, else the IdMap of the id list ``ids``."""
        return ids if isinstance(ids, IdMap) else cls(ids, what, where)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, external_id) -> bool:
        return external_id in self._index

    def __repr__(self) -> str:
        return f"IdMap({len(self)} {self.what}s)"

    def positions(self, ids, strict: bool = True) -> np.ndarray:
        """int64 position of each id in ``ids`` (-1 for unknown ids when not ``strict``)."""
        wanted = ids if isinstance(ids, pd.Index) else pd.Index(np.asarray(
            ids.to_numpy(dtype=object) if isinstance(ids, pd.Series) else list(ids), dtype=object),
            dtype=object)
        pos = self._index.get_indexer(wanted).astype(np.int64, copy=False)
        if strict and (pos < 0).any():
            bad = wanted[int(np.flatnonzero(pos < 0)[0])]
            raise DataError(f"The {self.what} {bad!r} is not one of the {len(self):,} "
                            f"{self.what}s this split knows.")
        return pos

    def to_ids(self, positions) -> np.ndarray:
        """The ids at ``positions`` (object array)."""
        return self.ids[np.asarray(positions, dtype=np.int64)]
