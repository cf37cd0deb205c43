"""The declared-once registries: metrics (engine.evaluate.metrics.REGISTRY), algorithms
(engine.recommend.registry.ALGORITHMS), the IdMap, the B − A sign convention, and
train_one (one algorithm on one prepared split)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.data.dataset import IdMap
from engine.errors import DataError
from engine.evaluate import metrics as M
from engine.evaluate.stats import paired_test, second_minus_first
from engine.pipeline import prepare_split, train_one, train_runs
from engine.recommend import registry
from engine.store import Store
from engine.store import runs as R
from engine.store.datasets import save_dataset
from tests.fixtures.datasets import HAND, tiny_dataset


# -- metrics -----------------------------------------------------------------------------
def test_metric_lists_derive_from_the_registry():
    assert M.ACCURACY == ["precision", "recall", "ndcg", "map", "mrr", "hit_rate"]
    assert M.BEYOND == ["coverage", "gini", "avg_popularity", "novelty", "ild",
                        "personalisation"]
    assert set(M.HIT_METRICS) == set(M.ACCURACY)   # "hitrate" was never a stored name
    assert "hitrate" not in M.REGISTRY
    for name, m in M.REGISTRY.items():
        assert m.scope in ("user", "catalogue")
        assert M.METRICS[name] == m.definition == M.definition(name)
        assert m.definition.endswith(".") and "\n" not in m.definition
        assert M.display_format(name) == m.fmt
    assert M.display_format("some_old_metric") == M.DEFAULT_FORMAT
    assert M.definition("some_old_metric") == "" and M.metric("some_old_metric") is None
    assert not M.REGISTRY["gini"].higher_is_better and M.REGISTRY["ndcg"].higher_is_better


def test_user_kernels_on_a_hand_built_hit_row():
    # one user, 2 test items, hits at ranks 1 and 3 of a top 3
    H = np.array([[True, False, True]])
    posn = np.arange(1, 4, dtype=float)
    disc = 1 / np.log2(posn + 1)
    cum = np.cumsum(H, axis=1, dtype=float)
    h = M.Hits(n_rel=np.array([2]), cum_hits=cum, dcg=np.cumsum(H * disc, axis=1),
               ap_terms=np.cumsum(np.where(H, cum / posn, 0.0), axis=1),
               idcg_at=np.concatenate([[0.0], np.cumsum(disc)]), first_hit=np.array([1]))
    assert M.precision(h, 3)[0] == pytest.approx(2 / 3)
    assert M.recall(h, 3)[0] == pytest.approx(1.0)
    assert M.ndcg(h, 3)[0] == pytest.approx((1 + 1 / 2) / (1 + 1 / math.log2(3)))
    assert M.map_(h, 3)[0] == pytest.approx((1 + 2 / 3) / 2)
    assert M.mrr(h, 2)[0] == 1.0 and M.hit_rate(h, 2)[0] == 1.0
    assert M.precision(h, 2)[0] == pytest.approx(1 / 2)


# -- algorithms --------------------------------------------------------------------------
def test_capabilities_are_declared_in_the_registry_entry():
    assert registry.explains("als") and not registry.explains("bpr")
    assert not registry.explains("my-imported-system") and not registry.explains(None)
    assert registry.similar_items("ease") and not registry.similar_items("popularity")
    for name, spec in registry.ALGORITHMS.items():
        model = registry.make(name)
        assert model.spec is spec
        assert model.supports_similar == spec.similar_items
        assert model.supports_explain == spec.explains
        if spec.similar_items:
            assert callable(getattr(model, "similar_items", None)), name
        if spec.explains:
            assert "item_factors" in spec.saves, name
    with pytest.raises(DataError, match="Unknown algorithm 'svd'"):
        registry.spec("svd")


# -- IdMap -------------------------------------------------------------------------------
def test_idmap_strict_and_lenient():
    m = IdMap.from_values(["b", "a", "c", "a"], "item")
    assert m.ids.tolist() == ["a", "b", "c"] and len(m) == 3 and "b" in m
    assert m.positions(["c", "a"]).tolist() == [2, 0]
    assert m.positions(pd.Series(["b", "zz"]), strict=False).tolist() == [1, -1]
    with pytest.raises(DataError, match="item 'zz' is not one of the 3 items"):
        m.positions(["a", "zz"])
    assert m.to_ids([2, 0]).tolist() == ["c", "a"]
    assert IdMap.of(m) is m and IdMap.of(["x"]).ids.tolist() == ["x"]
    with pytest.raises(DataError, match="repeats the id 'a'"):
        IdMap(["a", "b", "a"], "item")


# -- sign convention ---------------------------------------------------------------------
def test_second_minus_first_turns_a_minus_b_round():
    a = pd.Series([1.0, 0.0, 0.5, 0.2], index=list("wxyz"))
    b = pd.Series([0.0, 0.0, 1.0, 0.4], index=list("wxyz"))
    ab = paired_test(a, b, n_boot=200, seed=1)
    ba = second_minus_first(ab)
    # B − A per user: -1, 0, +0.5, +0.2 -> mean -0.075; B higher for y and z, A for w
    assert ba["mean_diff"] == pytest.approx(-0.075) and ab["mean_diff"] == pytest.approx(0.075)
    assert (ba["wins"], ba["ties"], ba["losses"]) == (2, 1, 1)
    assert (ba["mean_a"], ba["mean_b"]) == (ab["mean_b"], ab["mean_a"])
    assert (ba["ci_low"], ba["ci_high"]) == (-ab["ci_high"], -ab["ci_low"])
    direct = paired_test(b, a, n_boot=200, seed=1)     # the B − A a caller computes itself
    assert direct["mean_diff"] == pytest.approx(ba["mean_diff"])
    assert direct["ci_low"] == pytest.approx(ba["ci_low"])


# -- train_one ---------------------------------------------------------------------------
def test_train_one_maps_over_algorithms_like_train_runs(tmp_path):
    one = Store(tmp_path / "one.duckdb", lock_timeout=5)
    many = Store(tmp_path / "many.duckdb", lock_timeout=5)
    for s in (one, many):
        save_dataset(s, tiny_dataset())
    data = prepare_split(one, "tiny", split="leave_last_n")
    assert data.users.ids.tolist() == ["u1", "u2", "u3", "u4"]
    assert data.items.ids.tolist() == ["a", "b", "c"]            # train items only
    assert data.matrix.shape == (4, 3) and data.ks == [10, 20]
    got = [train_one(one, data, algo) for algo in ("popularity", "als")]
    assert [r["status"] for r in got] == ["done", "done"]
    pop = got[0]["run_id"]
    m = R.run_metrics(one, pop)
    assert float(m[(m.metric == "ndcg") & (m.k == 10)]["value"].item()) == \
        pytest.approx(HAND["ndcg"])
    # the registry says what is saved: ALS keeps its item factors with the train item ids
    Y, ids = R.item_factors(one, got[1]["run_id"])
    assert list(ids) == ["a", "b", "c"] and Y.shape[0] == 3
    assert R.item_factors(one, pop) is None
    ref = train_runs(many, "tiny", ["popularity"], split="leave_last_n")
    assert R.run_metrics(many, ref[0]["run_id"])["value"].tolist() == \
        pytest.approx(m["value"].tolist(), nan_ok=True)
