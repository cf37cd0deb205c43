"""A batch CLI job and an open viewer share one DuckDB file without lock errors.

The viewer's bandits page writes every few seconds while its experiment runs (each
refresh steps it); at the same time `recscope train` and `recscope reviews train` run in
other processes against the same file. Both sides must finish their work: the CLI
exits 0, the page keeps updating, and nobody sees a lock error.
"""

import subprocess
import sys

import pytest

from tests.browser.conftest import ROOT, no_exception, shot, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def shared_db(tmp_path):
    from engine.services import bandit_experiments as ex
    from engine.data.synthetic import make_job_board
    from engine.store import Store
    from engine.store.datasets import save_dataset

    path = tmp_path / "shared.duckdb"
    store = Store(path)
    save_dataset(store, make_job_board(seed=3, n_users=800, n_items=300, n_reviews=300))
    exp = ex.new_experiment(store, name="Live", rates=[0.04, 0.05], batch_size=100, seed=0,
                            status="running")
    ex.step(store, exp, 3)
    return path, exp


def _decisions(page) -> int:
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Decisions").first
    return int("".join(c for c in metric.locator("[data-testid='stMetricValue']").inner_text()
                       if c.isdigit()))


def test_cli_jobs_and_an_open_page_write_the_same_file(serve, shared_db, page):
    path, exp = shared_db
    url = serve(path)
    page.goto(f"{url}/bandits?experiment={exp}")
    wait_idle(page)
    before = _decisions(page)

    cli = [sys.executable, "-m", "engine"]
    jobs = [subprocess.run(cli + ["train", "--db", str(path), "--dataset", "jobboard",
                                  "--algos", "popularity,itemknn,als"],
                           cwd=ROOT, capture_output=True, text=True, timeout=600),
            subprocess.run(cli + ["reviews", "train", "--db", str(path), "--dataset", "jobboard",
                                  "--folds", "3"],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)]
    for job in jobs:
        assert job.returncode == 0, job.stderr
        assert "lock" not in (job.stdout + job.stderr).lower()

    # the page kept stepping its experiment meanwhile (or catches up now), with no error
    page.wait_for_function(
        """(n) => {
            const m = [...document.querySelectorAll("[data-testid='stMetric']")]
                .find(e => e.innerText.includes('Decisions'));
            return m && parseInt(m.querySelector("[data-testid='stMetricValue']").innerText
                                 .replace(/[^0-9]/g, '')) > n;
        }""", arg=before, timeout=60_000)
    no_exception(page)
    assert "lock" not in page.locator("[data-testid='stMain']").inner_text().lower()
    shot(page, "coexistence-bandits")

    from engine.store import Store
    from engine.store.runs import list_runs

    runs = list_runs(Store(path), "jobboard")
    assert sorted(runs["algorithm"]) == ["als", "itemknn", "popularity"]
    assert set(runs["status"]) == {"done"}
