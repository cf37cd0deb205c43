"""Funnel prediction on MovieLens (../shared/datasets/movielens; skipped when absent).

Issue 11's bar: "rates it 4 or 5, given that they rated it" (`--target 'rating>=4'`),
ROC-AUC on the later test period above both baselines (the item's and the user's past
rate of ratings >= 4) by at least 0.02. Read through the project's own importer and
trained through the CLI, as a person would.
"""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from tests.conftest import shared_path


@pytest.mark.parametrize("folder", ["ml-100k", "ml-latest-small"])
def test_rating_model_beats_both_baselines(store, capsys, folder):
    path = shared_path("movielens", folder)
    assert main(["import", "movielens", str(path), "--name", "ml", "--db", str(store.path)]) == 0
    capsys.readouterr()
    assert main(["predict", "train", "--dataset", "ml", "--target", "rating>=4", "--json",
                 "--db", str(store.path)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["n_test"] > 19_000 and "oracle_roc_auc" not in r
    assert r["roc_auc"] - max(r["baselines"].values()) >= 0.02
