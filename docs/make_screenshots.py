"""Take the README's screenshots: one per page, from a running viewer.

    .venv/bin/streamlit run viewer/app.py &        # against the demo store
    .venv/bin/python docs/make_screenshots.py [--url http://127.0.0.1:8501]

Needs Chromium (/usr/bin/chromium) and the demo store (`recscope demo`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

PAGES = {
    "home": "/",
    "runs": "/runs?dataset=jobboard&metric=ndcg&k=10",
    "compare": "/compare?dataset=jobboard&runs=1,2,3&k=10",
    "item": "/item?dataset=jobboard",
    "reviews": "/reviews?dataset=jobboard",
    "bandits": "/bandits?experiment=1",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8501")
    ap.add_argument("--height", type=int, default=1300)
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium",
                               args=["--headless=new", "--no-sandbox", "--disable-gpu"])
        page = b.new_page(viewport={"width": 1440, "height": a.height})
        page.set_default_timeout(90_000)
        for name, path in PAGES.items():
            if a.only and name not in a.only:
                continue
            page.goto(a.url + path)
            page.wait_for_selector(IDLE)
            page.wait_for_timeout(2500)
            page.wait_for_selector(IDLE)
            page.screenshot(path=str(OUT / f"{name}.png"))
            print(OUT / f"{name}.png")
        b.close()


if __name__ == "__main__":
    main()
