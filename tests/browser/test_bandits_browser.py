"""Bandits page in a real browser: a running experiment updates itself, no clicks."""

import re

import pytest

from tests.browser.conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def bandit_db(tmp_path_factory):
    from engine.services import bandit_experiments as ex
    from engine.store import Store

    path = tmp_path_factory.mktemp("bandits") / "bandits.duckdb"
    store = Store(path)
    running = ex.new_experiment(store, name="Headlines", rates=[0.04, 0.05, 0.045],
                                arm_names=["headline A", "headline B", "headline C"],
                                batch_size=100, seed=0, delay=1, status="running")
    ex.step(store, running, 20)
    paused = ex.new_experiment(store, name="Paused one", rates=[0.1, 0.2], batch_size=100,
                               status="paused")
    ex.step(store, paused, 5)
    return path, running, paused


def _decisions(page) -> int:
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Decisions").first
    text = metric.locator("[data-testid='stMetricValue']").inner_text()
    return int(re.sub(r"[^0-9]", "", text))


def test_running_experiment_updates_itself(serve, bandit_db, page):
    path, running, _ = bandit_db
    url = serve(path)
    page.goto(f"{url}/bandits?experiment={running}")
    wait_idle(page)
    no_exception(page)
    assert page.get_by_role("heading", name="Bandits").is_visible()
    first = _decisions(page)
    assert first >= 2000
    # No clicks: the fragment re-runs on its own and advances the experiment.
    page.wait_for_function(
        """(n) => {
            const m = [...document.querySelectorAll("[data-testid='stMetric']")]
                .find(e => e.innerText.includes('Decisions'));
            if (!m) return false;
            const v = parseInt(m.querySelector("[data-testid='stMetricValue']").innerText
                               .replace(/[^0-9]/g, ''));
            return v >= n + 200;
        }""", arg=first, timeout=60_000)
    assert _decisions(page) >= first + 200
    no_exception(page)
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "Stopping rule" in text and "headline B" in text
    assert page.locator(".js-plotly-plot").count() >= 6
    shot(page, "bandits-running")


def test_paused_experiment_stays_still(serve, bandit_db, page):
    path, _, paused = bandit_db
    url = serve(path)
    page.goto(f"{url}/bandits?experiment={paused}")
    wait_idle(page)
    no_exception(page)
    assert _decisions(page) == 500
    page.wait_for_timeout(4000)
    assert _decisions(page) == 500
    assert "status paused" in page.locator("[data-testid='stMain']").inner_text()
    shot(page, "bandits-paused")
