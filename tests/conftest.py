"""Shared fixtures: where the real datasets are, temporary stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = Path(os.environ.get("RECSCOPE_SHARED", ROOT.parent / "shared")) / "datasets"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/datasets, or skip the test with a clear reason."""
    p = SHARED_DATASETS.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real dataset {p} is absent (it lives in ../shared/datasets beside the "
                    f"project root, which a fresh clone does not have)")
    return p


@pytest.fixture
def shared():
    return shared_path


@pytest.fixture
def store(tmp_path):
    from engine.store import Store

    return Store(tmp_path / "test.duckdb")
