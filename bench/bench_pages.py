"""How long every page takes in a browser, as a ratio to an empty Streamlit page.

Starts the app (``python -m streamlit run viewer/app.py``, loopback, headless) on a store
and, in the same run, a one-line Streamlit script served the same way (the floor: what
any page costs before it does anything). Opens every page of viewer/nav.py in headless
Chromium (Playwright, /usr/bin/chromium or $RECSCOPE_CHROMIUM, ``--headless=new
--no-sandbox``) and times, median of ``--repeat`` (5):

- the first load of each page: from ``page.goto`` until the script has finished
  (``[data-testid='stApp'][data-test-script-state='notRunning']``, and no rerun follows
  within 300 ms) with the page's heading visible;
- the same load until the page is fully drawn ("drawn"): no element still a placeholder
  (Streamlit draws a skeleton while an element's code chunk loads, the 4.7 MB plotly.js
  above all) and every plotly chart has its SVG;
- one typical interaction per page, from the input event to the end of the rerun it
  triggers: Runs: change the metric; Compare: change the user; Item: change the item;
  Flagged reviews: label one review (key ``m``); Bandits: change the speed.

A second baseline, measured the same way (two loads per page, interleaved): a title and
one three-point plotly chart, what any page with a chart pays before drawing anything of
its own.

Times come from the page's own clock: a MutationObserver records every change of the
script state with ``performance.now()``. Each time prints as a ratio to the floor's load,
with the 1-minute load average before and after. Both servers take the app's settings
(``.streamlit/config.toml``: no source watcher, no full GC after a run); ``--set`` adds
Streamlit settings to both (Streamlit's defaults ``server.fileWatcherType=auto`` and
``runner.postScriptGC=true`` time the app as it was before those were turned off).

Stores: the demo (``python -m engine demo --db PATH``, built once at
/tmp/recscope-bench-pages/demo.duckdb when missing; labelling runs on a copy), or with
``--users N`` the synthetic store of bench/bench_compare_page.py (N users x 4 runs x
top-20, built once when missing; it has no reviews or bandits, so those pages show their
empty state).

``--profile`` runs each page script once (after a warm-up run, so the caches are warm the
way a rerun sees them, and once cold) under cProfile via streamlit.testing AppTest and
prints the functions where the time goes, plus each ``viewer.db.read`` call's time.

    .venv/bin/python bench/bench_pages.py [--users N] [--db PATH] [--repeat 5] [--pages runs,item]
        [--set server.fileWatcherType=auto --set runner.postScriptGC=true]
    .venv/bin/python bench/bench_pages.py --profile [--users N] [--db PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fixtures.server import wait_healthy  # noqa: E402  (one health-wait loop with the tests)

CHROMIUM = os.environ.get("RECSCOPE_CHROMIUM", "/usr/bin/chromium")
WORK = Path(tempfile.gettempdir()) / "recscope-bench-pages"
WARMUP = 1800.0
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

# records every change of the app's script state with the page clock
OBSERVER = """
window.__st = [];
const watch = () => {
  new MutationObserver(ms => { for (const m of ms) {
      const v = m.target.getAttribute && m.target.getAttribute('data-test-script-state');
      if (m.attributeName === 'data-test-script-state' && v) window.__st.push([performance.now(), v]);
  } }).observe(document.documentElement, {subtree: true, attributes: true,
                                          attributeFilter: ['data-test-script-state']});
};
if (document.documentElement) watch(); else document.addEventListener('DOMContentLoaded', watch);
"""

# records when the page is fully drawn: the script has run, no element is still a
# placeholder (Streamlit shows a skeleton while an element's code chunk loads) and every
# plotly chart has drawn its SVG
DRAWN = """
(() => { let ran = false;
  const check = () => {
    if (window.__drawn !== undefined) return;
    const app = document.querySelector("[data-testid='stApp']");
    const state = app && app.getAttribute('data-test-script-state');
    if (state === 'running') ran = true;
    if (!ran || state !== 'notRunning') return;
    if (document.querySelector("[data-testid='stSkeleton']")) return;
    for (const c of document.querySelectorAll("[data-testid='stPlotlyChart']"))
      if (!c.querySelector('.main-svg')) return;
    window.__drawn = performance.now();
  };
  const start = () => new MutationObserver(check).observe(document.documentElement,
      {subtree: true, childList: true, attributes: true});
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""

# the second baseline: a title and one three-point plotly chart (what any page with a
# chart pays for Streamlit's plotly.js before it draws anything of its own)
ONE_CHART_APP = ('import plotly.graph_objects as go\nimport streamlit as st\nst.title("Empty")\n'
                 'st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))\n')


# --------------------------------------------------------------------------- stores

def demo_store(path: Path | None) -> Path:
    path = path or WORK / "demo.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"building the demo store {path} ...", flush=True)
        subprocess.run([sys.executable, "-m", "engine", "demo", "--db", str(path)], cwd=ROOT,
                       check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                       stdout=subprocess.DEVNULL)
    return path


def synthetic_store(n_users: int, path: Path | None) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_compare_page as B
    from engine.store import Store

    path = path or Path(f"/tmp/recscope-bench-compare-{n_users}.duckdb")
    store = Store(path)
    if not path.exists() or store.scalar("SELECT count(*) FROM runs") != B.RUNS:
        path.unlink(missing_ok=True)
        print(f"building {path}: {n_users:,} users x {B.RUNS} runs x top-{B.K}", flush=True)
        B.build(store, n_users)
    return path


# --------------------------------------------------------------------------- servers

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(script: Path, db: Path, log: Path, settings: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, RECSCOPE_DB=str(db), PYTHONPATH=str(ROOT),
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         *(f"--{kv}" for kv in settings)],
        cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not wait_healthy(proc, url, 120):
        raise RuntimeError(f"streamlit did not start; see {log}")
    return proc, url


# --------------------------------------------------------------------------- timing

def _events(page) -> list:
    return page.evaluate("window.__st || []")


def _settled(page, since: float, timeout: float = 120.0) -> float:
    """Wait until a run that started after ``since`` (page clock, ms) has finished and no
    other run follows within 300 ms; return the page-clock time it finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = [e for e in _events(page) if e[0] >= since]
        if any(v == "running" for _, v in ev) and ev and ev[-1][1] == "notRunning":
            end = ev[-1][0]
            page.wait_for_timeout(300)
            ev2 = [e for e in _events(page) if e[0] >= since]
            if ev2[-1][1] == "notRunning" and ev2[-1][0] == end:
                return end
        page.wait_for_timeout(15)
    raise TimeoutError("the app did not settle")


def time_load(ctx, url: str, heading: str | None, timeout: float = 120.0) -> tuple[float, float]:
    """(script finished, page fully drawn), seconds since navigation start."""
    page = ctx.new_page()
    try:
        page.goto(url, wait_until="commit")
        end = _settled(page, 0.0, timeout)
        page.wait_for_selector(IDLE)
        if heading:
            page.get_by_role("heading", name=heading).first.wait_for()
        page.wait_for_function("window.__drawn !== undefined", timeout=timeout * 1000)
        drawn = page.evaluate("window.__drawn")
        return end / 1000.0, max(end, drawn) / 1000.0
    finally:
        page.close()


def time_action(page, action, i: int, timeout: float = 120.0) -> float:
    page.locator("h1").first.click()                 # focus the page, not an input
    t0 = page.evaluate("performance.now()")
    action(page, i)
    return (_settled(page, t0, timeout) - t0) / 1000.0


def _select(label: str, options: list[str]):
    def act(page, i):
        page.get_by_role("combobox", name=label).click()
        page.get_by_role("option", name=options[i % len(options)], exact=True).click()
    return act


def _type(label: str, values: list[str]):
    def act(page, i):
        box = page.get_by_role("textbox", name=label)
        box.fill(values[i % len(values)])
        box.press("Enter")
    return act


def _key(key: str):
    def act(page, i):
        page.keyboard.press(key)
    return act


# --------------------------------------------------------------------------- pages

def page_plan(db: Path) -> list[dict]:
    """(key, title, url path with query, heading, interaction or None) per page in nav."""
    from engine.store import Store
    from viewer.nav import PAGE_SPECS

    store = Store(db)
    ds = store.df("SELECT name, n_reviews FROM datasets ORDER BY name")
    inter = [n for n in store.df("SELECT DISTINCT dataset FROM runs")["dataset"]]
    dataset = inter[0] if inter else (ds["name"].iloc[0] if len(ds) else "")
    users = store.df("SELECT user_id FROM users WHERE dataset = ? ORDER BY user_id LIMIT 7",
                     [dataset])["user_id"].tolist()[1:]
    items = store.df("SELECT item_id FROM items WHERE dataset = ? ORDER BY item_id LIMIT 7",
                     [dataset])["item_id"].tolist()[1:]
    revs = ds[ds["n_reviews"] > 0]["name"].tolist()
    n_exp = store.scalar("SELECT count(*) FROM bandit_experiments")
    plan = {
        "home": ("", "recscope", None),
        "runs": (f"runs?dataset={dataset}", "Runs",
                 ("change the metric", _select("Metric", ["ndcg", "recall"]))),
        "compare": (f"compare?dataset={dataset}&user={users[0] if users else ''}", "Compare runs",
                    ("change the user", _type("User id", users))),
        "item": (f"item?dataset={dataset}&item={items[0] if items else ''}", "Item",
                 ("change the item", _type("Find an item", items))),
        "reviews": (f"reviews?dataset={revs[0]}&reviewer=bench" if revs else "reviews",
                    "Flagged reviews", ("label one review", _key("m")) if revs else None),
        "bandits": ("bandits", "Bandits",
                    ("change the speed", _select("Speed", ["1 batch per refresh",
                                                           "5 batches per refresh"]))
                    if n_exp else None),
    }
    out = []
    for key, _file, title, *_ in PAGE_SPECS:
        if key in plan and (ROOT / "pages" / _file).exists():
            path, heading, action = plan[key]
            out.append(dict(key=key, title=title, path=path, heading=heading, action=action))
    return out


def bench_browser(db: Path, repeat: int, only: set[str] | None, settings: tuple[str, ...] = ()) -> None:
    from playwright.sync_api import sync_playwright

    WORK.mkdir(parents=True, exist_ok=True)
    empty = WORK / "empty_app.py"
    empty.write_text('import streamlit as st\nst.title("Empty")\n')
    one_chart = WORK / "one_chart_app.py"
    one_chart.write_text(ONE_CHART_APP)
    # labelling writes: the app runs on a copy of the store
    copy = WORK / f"copy-{os.getpid()}.duckdb"
    shutil.copyfile(db, copy)
    plan = [p for p in page_plan(copy) if not only or p["key"] in only]
    load_before = os.getloadavg()
    servers = [serve(empty, copy, WORK / "empty.log", settings),
               serve(ROOT / "viewer" / "app.py", copy, WORK / "app.log", settings),
               serve(one_chart, copy, WORK / "one_chart.log", settings)]
    (_, floor_url), (_, app_url), (_, chart_url) = servers
    rows = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update"])
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
            ctx.add_init_script(OBSERVER + DRAWN)
            ctx.set_default_timeout(120_000)
            # warm-up: the server's first run imports everything; caches fill
            # (on a big store a first computation may take minutes: WARMUP seconds allowed)
            time_load(ctx, floor_url, "Empty")
            time_load(ctx, chart_url, "Empty")
            for p in plan:
                time_load(ctx, f"{app_url}/{p['path']}", p["heading"], WARMUP)
            floors, charts = [], []
            for p in plan:
                loads, acts = [], []
                for i in range(repeat):
                    floors.append(time_load(ctx, floor_url, "Empty"))  # interleaved with pages
                    if i < 2:
                        charts.append(time_load(ctx, chart_url, "Empty"))
                    loads.append(time_load(ctx, f"{app_url}/{p['path']}", p["heading"]))
                rows.append((p["title"], "load", statistics.median(t for t, _ in loads),
                             statistics.median(d for _, d in loads)))
                print(f"  {p['title']} load: {rows[-1][2] * 1000:.0f} ms, drawn "
                      f"{rows[-1][3] * 1000:.0f} ms", flush=True)
                if p["action"]:
                    name, act = p["action"]
                    page = ctx.new_page()
                    page.goto(f"{app_url}/{p['path']}", wait_until="commit")
                    _settled(page, 0.0)
                    # i = 0 is the page's initial value; i = 1 warms the caches
                    for i in range(1, repeat + 2):
                        t = time_action(page, act, i, WARMUP if i == 1 else 120.0)
                        if i > 1:
                            acts.append(t)
                    page.close()
                    rows.append((p["title"], name, statistics.median(acts), None))
                    print(f"  {p['title']} {name}: {rows[-1][2] * 1000:.0f} ms", flush=True)
                print(f"  {p['title']}: done", flush=True)
            browser.close()
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(10)
        copy.unlink(missing_ok=True)
        Path(str(copy) + ".wal").unlink(missing_ok=True)
    floor = statistics.median(t for t, _ in floors)
    chart_end = statistics.median(t for t, _ in charts)
    chart_drawn = statistics.median(d for _, d in charts)
    load_after = os.getloadavg()
    print(f"\nstore {db}; median of {repeat}; load average (1, 5, 15 min) before "
          f"{load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}, after "
          f"{load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f}; {os.cpu_count()} cores"
          + (f"; settings {' '.join(settings)}" if settings else ""))
    print(f"floor: empty Streamlit page load {floor * 1000:.0f} ms (median of {len(floors)})")
    print(f"one-chart page (a title and one 3-point plotly chart, median of {len(charts)}): "
          f"script finished {chart_end * 1000:.0f} ms = {chart_end / floor:.2f}, fully drawn "
          f"{chart_drawn * 1000:.0f} ms = {chart_drawn / floor:.2f} x the floor\n")
    print("ms: until the script has finished; drawn: until no element is a placeholder and "
          "every chart is drawn\n")
    print("| page | what | ms | / floor | drawn ms | drawn / floor |\n|---|---|---|---|---|---|")
    for title, what, t, d in rows:
        drawn = f"{d * 1000:.0f} | {d / floor:.2f}" if d is not None else "| "
        print(f"| {title} | {what} | {t * 1000:.0f} | {t / floor:.2f} | {drawn} |")


# --------------------------------------------------------------------------- profile

def profile(db: Path, only: set[str] | None, top: int, cold_stats: bool = False) -> None:
    import pstats

    os.environ["RECSCOPE_DB"] = str(db)
    from streamlit.testing.v1 import AppTest
    import streamlit as st
    from viewer import db as vdb

    plan = [p for p in page_plan(db) if not only or p["key"] in only]
    calls: list[tuple[str, float]] = []
    orig = vdb.read

    def timed_read(fn, *a, **kw):
        t0 = time.perf_counter()
        try:
            return orig(fn, *a, **kw)
        finally:
            calls.append((f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}",
                          time.perf_counter() - t0))

    vdb.read = timed_read
    from viewer.nav import PAGE_SPECS
    files = {k: f for k, f, *_ in PAGE_SPECS}
    for p in plan:
        script = ROOT / "pages" / files[p["key"]]
        params = dict(x.split("=", 1) for x in p["path"].partition("?")[2].split("&") if "=" in x)
        st.cache_data.clear()
        st.cache_resource.clear()
        for label in ("cold", "warm"):
            # AppTest runs the script in its own thread: profile inside that thread
            out = WORK / f"profile-{p['key']}-{label}.pstats"
            at = AppTest.from_string(WRAPPER.format(root=str(ROOT), script=str(script),
                                                    out=str(out)), default_timeout=600)
            for k, v in params.items():
                at.query_params[k] = v
            calls.clear()
            t0 = time.perf_counter()
            at.run()
            total = time.perf_counter() - t0
            err = [e.value for e in at.exception]
            print(f"\n=== {p['title']} ({label} cache): {total * 1000:.0f} ms"
                  + (f"  EXCEPTION {err}" if err else ""))
            agg: dict[str, list[float]] = {}
            for name, t in calls:
                agg.setdefault(name, []).append(t)
            for name, ts in sorted(agg.items(), key=lambda x: -sum(x[1]))[:top]:
                print(f"  db.read {name:<48} x{len(ts):<3} {sum(ts) * 1000:8.1f} ms")
            if label == "warm" or cold_stats:
                stats = pstats.Stats(str(out))
                rows = []
                for (file, line, fn), (cc, nc, tt, ct, _) in stats.stats.items():
                    if any(f"/{d}/" in file for d in ("viewer", "engine", "pages")) and fn != "<module>":
                        rows.append((ct, nc, f"{Path(file).parent.name}/{Path(file).name}:{line} {fn}"))
                for ct, nc, name in sorted(rows, reverse=True)[:top]:
                    print(f"  cum {ct * 1000:8.1f} ms x{nc:<4} {name}")


WRAPPER = """
import cProfile, runpy, sys
sys.path.insert(0, {root!r})
_prof = cProfile.Profile()
_prof.enable()
try:
    runpy.run_path({script!r}, run_name="__main__")
finally:
    _prof.disable()
    _prof.dump_stats({out!r})
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=None, help="synthetic store of N users x 4 runs")
    ap.add_argument("--db", type=Path, default=None, help="store file (default: built once)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pages", default=None, help="comma-separated page keys (default all)")
    ap.add_argument("--profile", action="store_true", help="cProfile each page script (AppTest)")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="a Streamlit setting for both servers, e.g. server.fileWatcherType=auto "
                         "runner.postScriptGC=true (Streamlit's defaults: the app before they "
                         "were turned off)")
    ap.add_argument("--cold-stats", action="store_true", help="with --profile: also the cold run's functions")
    args = ap.parse_args()
    bad = [kv for kv in args.set if "=" not in kv or "." not in kv.split("=", 1)[0]]
    if bad:
        ap.error(f"--set takes SECTION.KEY=VALUE (e.g. runner.postScriptGC=true), not {bad[0]!r}")
    db = synthetic_store(args.users, args.db) if args.users else demo_store(args.db)
    only = set(args.pages.split(",")) if args.pages else None
    if args.profile:
        profile(db, only, args.top, args.cold_stats)
    else:
        bench_browser(db, args.repeat, only, tuple(args.set))


if __name__ == "__main__":
    main()
