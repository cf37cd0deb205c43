"""Readers of the ``users`` and ``interactions`` tables for one user (the Compare page).

``interactions`` is written sorted by (dataset, user_id), so filtering on both with
constants lets DuckDB's zonemaps skip all row groups but the user's few."""

from __future__ import annotations

import pandas as pd

from engine.store.core import Store
from engine.store.items import with_item_meta
from engine.store.sql import text_ids


def user_exists(store: Store, dataset: str, user_id: str) -> bool:
    """Whether ``user_id`` is a user of ``dataset`` (users table or any interaction)."""
    return bool(store.scalar(
        "SELECT (EXISTS (SELECT 1 FROM users WHERE dataset = ? AND user_id = ?)) "
        "OR (EXISTS (SELECT 1 FROM interactions WHERE dataset = ? AND user_id = ?))",
        [dataset, str(user_id), dataset, str(user_id)]))


def search_users(store: Store, dataset: str, prefix: str, limit: int = 20) -> list[str]:
    """Up to ``limit`` user ids of ``dataset`` that start with ``prefix`` (sorted)."""
    return store.df("SELECT DISTINCT user_id FROM users WHERE dataset = ? AND starts_with(user_id, ?) "
                    "ORDER BY user_id LIMIT ?", [dataset, str(prefix), int(limit)])["user_id"].tolist()


def user_history(store: Store, dataset: str, user_id: str, split_id: int | None = None,
                 limit: int = 20) -> tuple[pd.DataFrame, int]:
    """The user's most recent interactions, newest first, and how many there are in all.

    DataFrame[item_id, ts, event, weight, held_out, title, category, attrs]; ``held_out``
    is True for items in the test part of ``split_id`` (what the runs did not see).
    """
    with store.session() as s:
        n = s.scalar("SELECT count(*) FROM interactions WHERE dataset = ? AND user_id = ?",
                     [dataset, str(user_id)])
        hist = s.df(
            "SELECT item_id, ts, event, weight FROM interactions WHERE dataset = ? AND user_id = ? "
            "ORDER BY ts DESC NULLS LAST, item_id LIMIT ?",
            [dataset, str(user_id), int(limit)])
        held = set()
        if split_id is not None:
            held = set(text_ids(s.df(
                "SELECT item_id FROM splits WHERE split_id = ? AND user_id = ? AND part = 'test'",
                [int(split_id), str(user_id)])["item_id"]))
        hist["held_out"] = hist["item_id"].isin(held)
        hist = with_item_meta(s, dataset, hist)
    return hist, int(n)
