"""Browser-test fixtures: `streamlit run viewer/app.py` on loopback + headless Chromium.

- ``serve(db_path) -> base_url`` starts (once per db file, per test session) a Streamlit
  server against that DuckDB file on a free loopback port.
- ``demo_db`` is a session-wide store with the full demo built once (`build_demo`).
- ``page`` is a Playwright page in Debian's Chromium (/usr/bin/chromium, or
  $RECSCOPE_CHROMIUM); ``wait_idle(page)`` waits until the app has finished running.
Screenshots go to tests/artifacts/ (git-ignored): ``shot(page, name)``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.server import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("RECSCOPE_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def serve():
    servers: dict[str, tuple[subprocess.Popen, str]] = {}

    def start(db_path) -> str:
        key = str(db_path)
        if key in servers:
            return servers[key][1]
        port = _free_port()
        env = dict(os.environ, RECSCOPE_DB=str(db_path), STREAMLIT_CLIENT_SHOW_ERROR_DETAILS="full",
                   STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
        log = open(ARTIFACTS / f"streamlit-{port}.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "viewer" / "app.py"),
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        if not wait_healthy(proc, url, 90):
            raise RuntimeError(f"streamlit did not start; see {log.name}")
        servers[key] = (proc, url)
        return url

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield start
    for proc, _ in servers.values():
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """A store with the whole demo built once per test session."""
    from engine.demo import build_demo
    from engine.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(Store(path), seed=0)
    return path


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    p = ctx.new_page()
    p.set_default_timeout(60_000)
    yield p
    ctx.close()


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until the Streamlit script has finished running and the page is drawn: no
    element is still a placeholder (Streamlit shows a skeleton while an element's client
    code loads, which can end well after the script: bench/README.md, "fully drawn")."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout)
    page.wait_for_function("!document.querySelector(\"[data-testid='stSkeleton']\")",
                           timeout=timeout)
    # a rerun may be scheduled right after; give it a beat and wait again
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_exception(page) -> None:
    """Fail if Streamlit rendered an exception box or a "Page not found" dialog."""
    n = page.locator("[data-testid='stException']").count()
    assert n == 0, page.locator("[data-testid='stException']").first.inner_text()
    dialogs = page.locator("[role='dialog']").all_inner_texts()
    assert not any("Page not found" in d for d in dialogs), dialogs
