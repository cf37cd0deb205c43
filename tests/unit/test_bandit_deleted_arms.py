"""An experiment whose recommender arms lost their runs: reported as deleted, never
advanced (and never a traceback)."""

import pytest

from engine.errors import DataError
from engine.services import bandit_experiments as ex
from engine.store.runs import delete_run
from tests.fixtures.runs_store import build_tiny_store


def test_deleted_arm_runs_are_reported_and_refuse_to_step(tmp_path):
    store = build_tiny_store(tmp_path / "t.duckdb")
    eid = ex.new_experiment(store, name="on runs", run_ids=[1, 2], k=3, batch_size=10, seed=0,
                            arm_names=["pop", "knn"], status="paused")
    ex.step(store, eid, 2)
    assert ex.report(store, eid).deleted_arms == []
    delete_run(store, 2)
    rep = ex.report(store, eid)
    assert rep.deleted_arms == [("knn", 2)]
    assert rep.true_rates is None and int(rep.summary["pulls"].sum()) == 20
    with pytest.raises(DataError, match=r"arm 'knn' \(run 2\) was deleted"):
        ex.step(store, eid, 1)
