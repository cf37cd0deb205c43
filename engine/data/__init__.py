"""Datasets and their loaders."""

from engine.data.dataset import (  # noqa: F401
    DEFAULT_EVENT_WEIGHTS,
    INTERACTION_COLUMNS,
    ITEM_COLUMNS,
    REVIEW_COLUMNS,
    Dataset,
    IdMap,
)
from engine.errors import DataError  # noqa: F401
