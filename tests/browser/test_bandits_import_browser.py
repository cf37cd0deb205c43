"""An experiment imported from a production log, opened by its link in a real browser."""

import numpy as np
import pandas as pd
import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def imported_db(tmp_path_factory):
    from engine.services import bandit_logs as logs
    from engine.store import Store

    folder = tmp_path_factory.mktemp("bandit-import")
    rng = np.random.default_rng(0)
    n, k = 4000, 12   # more arms than the charts draw: the rest are folded into "other"
    weights = np.linspace(1, 3, k) / np.linspace(1, 3, k).sum()
    arms = rng.choice(k, size=n, p=weights)
    df = pd.DataFrame({"timestamp": pd.date_range("2024-05-01", periods=n, freq="min"),
                       "arm": [f"ranker-{a:02d}" for a in arms], "propensity": weights[arms],
                       "reward": (rng.random(n) < 0.02 + 0.004 * arms).astype(int)})
    df.loc[df.index[-50:], "reward"] = None   # the last rewards have not arrived
    path = folder / "decisions.csv"
    df.to_csv(path, index=False)
    store = Store(folder / "imported.duckdb")
    res = logs.import_log(store, path, name="Production rankers", batch_size=250)
    return store.path, res.experiment_id


def test_imported_experiment_by_link(serve, imported_db, page):
    path, eid = imported_db
    url = serve(path)
    page.goto(f"{url}/bandits?experiment={eid}")
    wait_idle(page)
    no_exception(page)
    main = page.locator("[data-testid='stMain']")
    text = main.inner_text()
    assert "Production rankers" in text and "status imported" in text
    assert "imported from a production log" in text and "Rewards pending" in text
    for label in ("Start", "Step", "Pause"):
        assert page.get_by_role("button", name=label).is_disabled()
    assert "Expected regret" not in text and "Stopping rule" in text
    assert page.locator(".js-plotly-plot").count() >= 6
    assert "other (4 arms)" in text   # the allocation and P(best) legends
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Decisions").first
    assert metric.locator("[data-testid='stMetricValue']").inner_text() == "4,000"
    pending = page.locator("[data-testid='stMetric']").filter(has_text="Rewards pending").first
    assert pending.locator("[data-testid='stMetricValue']").inner_text() == "50"
    # nothing steps an imported experiment: the count stays
    page.wait_for_timeout(3500)
    assert metric.locator("[data-testid='stMetricValue']").inner_text() == "4,000"
    shot(page, "bandits-imported")
