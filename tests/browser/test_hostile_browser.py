"""Text from users is text, never markup: every page opened with hostile values in every
URL parameter and over a store whose names are hostile (a dataset, runs, a bandit
experiment and its arms, items' titles, a reviews dataset, its companies and positive
class), in a real browser.

What each load must show: no ``a``/``img``/``iframe``/... pointing outside the app, no
element that a value's markup created, and no error box. Markup is detected by markers:
each hostile value wraps a marker word (PWNS, PWNB...) in some syntax (``**PWNS**``,
``<b>PWNB</b>``); rendered as text, the syntax stays beside the word in one text node,
so an element whose whole text is the bare marker can only come from interpreted markup.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from urllib.parse import quote, urlsplit

import pytest

from tests.browser.conftest import ROOT, shot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVIL = "https://evil.example"
MARKERS = ["PWNS", "PWNE", "PWND", "PWNB", "PWNA", "PWNI", "PWNR", "PWNK", "PWNH", "PWNU"]

#: Markdown, HTML, LaTeX and Streamlit-directive payloads, each around a marker.
MARKUP = (f"**PWNS** _PWNE_ ~~PWND~~ [PWNA]({EVIL}/login) ![PWNI]({EVIL}/track.png) "
          f":red[PWNR] $PWNK$ <h1>PWNH</h1>")
HTML = (f"<b>PWNB</b><img src={EVIL}/x.png onerror=alert(1)><script>alert(1)</script>"
        f"<iframe src={EVIL}/f></iframe><a href={EVIL}/h>PWNU</a>")
LINKS = f"javascript:alert(1) www.evil.example me@evil.example {EVIL}/bare <{EVIL}/auto>"
CONTROL = "a\u202eb\u200b\x1b[31mred\nline2\r\n\ttab" + "x" * 3000
#: URL values: every kind above, one per load.
HOSTILE = [MARKUP, HTML, LINKS, CONTROL]

#: Stored names (no control characters: the CLI refuses those at the door).
DS = f"jobs **PWNS** [PWNA]({EVIL}/ds) <b>PWNB</b>"
RDS = f"reviews _PWNE_ <i>PWNI</i> ![x]({EVIL}/r.png)"
RUN_NAMES = [MARKUP, HTML, LINKS]
EXP = f"exp ~~PWND~~ [PWNA]({EVIL}/exp) <b>PWNB</b>"
ARMS = [f"[PWNA]({EVIL}/arm)", "<b>PWNB</b>", ":red[PWNR]"]

_CHECK_JS = """(markers) => {
  const out = {links: [], marked: []};
  const attrs = ['href', 'src', 'xlink:href', 'action', 'formaction', 'srcset', 'poster', 'data'];
  for (const el of document.body.querySelectorAll('*')) {   // the head is Streamlit's own
    for (const a of attrs) {
      const v = el.getAttribute(a);
      if (v) out.links.push([el.tagName, a, v]);
    }
    const t = (el.textContent || '').trim();
    if (markers.includes(t)) out.marked.push([el.tagName, t]);
  }
  return out;
}"""


def _cli(db, *args) -> str:
    res = subprocess.run([sys.executable, "-m", "engine", *args, "--db", str(db)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, (args, res.stdout, res.stderr)
    return res.stdout


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    """A small store whose names and titles are hostile (built with the CLI where it
    takes the name; run names are set as `import run --name` would store them)."""
    from engine.services import bandit_experiments as ex
    from engine.store import Store
    from engine.store.runs import delete_run
    from tests.fixtures.reviews import make_reviews

    tmp = tmp_path_factory.mktemp("hostile")
    db = tmp / "hostile.duckdb"
    events, items = tmp / "events.csv", tmp / "items.csv"
    with open(events, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "item", "ts"])
        for u in range(40):
            for n in range(6):
                w.writerow([f"u{u}", f"i{(u * 7 + n * 3) % 25}", f"2026-01-{1 + n:02d}"])
    with open(items, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title"])
        for i in range(25):
            w.writerow([f"i{i}", [MARKUP, HTML, LINKS][i % 3] + f" #{i}"])
    _cli(db, "import", "csv", str(events), "--name", DS, "--user-col", "user", "--item-col",
         "item", "--time-col", "ts", "--items", str(items), "--item-id-col", "id",
         "--title-col", "title")
    _cli(db, "train", "--dataset", DS, "--algos", "popularity,itemknn,random,ease")
    store = Store(db)
    with store.transaction() as con:
        for rid, name in zip((1, 2, 3), RUN_NAMES):
            con.execute("UPDATE runs SET name = ? WHERE run_id = ?", [name, rid])
    fixed = ex.new_experiment(store, name=EXP, rates=[0.04, 0.05, 0.045], arm_names=ARMS,
                              batch_size=50, seed=0, status="paused")
    ex.step(store, fixed, 5)
    on_runs = ex.new_experiment(store, name=EXP + " runs", run_ids=[2, 4], k=10,
                                arm_names=["<b>PWNB</b> run arm", f"[PWNA]({EVIL}/r)"],
                                batch_size=20, seed=0, status="paused")
    ex.step(store, on_runs, 3)
    delete_run(store, 4)                       # an arm's run deleted: shown as "deleted"
    reviews = make_reviews(80).assign(company=lambda d: d["company"] + f" <b>PWNB</b> [PWNA]({EVIL}/c)")
    reviews.to_csv(tmp / "reviews.csv", index=False)
    _cli(db, "import", "reviews", str(tmp / "reviews.csv"), "--name", RDS, "--text-col", "text",
         "--label-col", "label", "--id-col", "review_id", "--positive-name", "spam **PWNS**")
    _cli(db, "reviews", "train", "--dataset", RDS)
    return db, fixed, on_runs


def _check(page, base: str, path: str, name: str) -> None:
    page.goto(base + path)
    wait_idle(page)
    origin = urlsplit(base)
    found = page.evaluate(_CHECK_JS, MARKERS)
    outside = []
    for tag, attr, value in found["links"]:
        v = value.strip()
        parts = urlsplit(v)
        if v.startswith(("#", "data:", "blob:", "about:blank")):
            continue
        if not parts.scheme and not parts.netloc:
            continue                                   # relative: inside the app
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc == origin.netloc:
            continue
        outside.append((tag, attr, v[:120]))
    errors = page.locator("[data-testid='stException']").count()
    if outside or found["marked"] or errors:
        shot(page, f"hostile-{name}")
    assert not outside, f"{path[:200]}: links or images outside the app: {outside}"
    assert not found["marked"], f"{path[:200]}: markup from values rendered: {found['marked']}"
    assert errors == 0, f"{path[:200]}: " + page.locator("[data-testid='stException']").first.inner_text()


def _q(**params) -> str:
    return "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())


def test_no_page_renders_markup_from_urls_or_names(serve, hostile_db, page):
    db, fixed, on_runs = hostile_db
    base = serve(db)
    loads = []
    for n, h in enumerate(HOSTILE):
        # a hostile value in every parameter, over the hostile store's real names...
        loads += [
            (f"home{n}", "/?" + _q(dataset=h)),
            (f"runs{n}", "/runs?" + _q(dataset=DS, k=h, metric=h, runs=h, view=h, dist=h, slice=h)),
            (f"compare{n}", "/compare?" + _q(dataset=DS, runs=f"1,2,{h}", k=h, user=h, view=h,
                                              pair=h)),
            (f"item{n}", "/item?" + _q(dataset=DS, item=h, simrun=h, run=h)),
            (f"reviews{n}", "/reviews?" + _q(dataset=RDS, reviewer=h, q=h, company=h, model=h,
                                              status=h, order=h, view=h, smin=h, lmax=h)),
            (f"bandits{n}", "/bandits?" + _q(experiment=h)),
            (f"predictions{n}", "/predictions?" + _q(dataset=DS, model=h)),
            (f"tuning{n}", "/runs?" + _q(dataset=DS, mode=h)),
        ]
    # ...and every page on the hostile names themselves (valid selections)
    loads += [
        ("runs-names", "/runs?" + _q(dataset=DS, runs="1,2,3")),
        ("runs-deleted", "/runs?" + _q(dataset=DS, runs="1,4")),
        ("compare-names", "/compare?" + _q(dataset=DS, runs="1,2,3", user="u1")),
        ("compare-dis", "/compare?" + _q(dataset=DS, runs="1,2", view="Where they disagree")),
        ("item-names", "/item?" + _q(dataset=DS, item="i1")),
        ("item-names2", "/item?" + _q(dataset=DS, item="i2", simrun="2")),
        ("reviews-names", "/reviews?" + _q(dataset=RDS, reviewer=MARKUP)),
        ("reviews-threshold", "/reviews?" + _q(dataset=RDS, view="threshold")),
        ("bandits-fixed", "/bandits?" + _q(experiment=fixed)),
        ("bandits-deleted-run", "/bandits?" + _q(experiment=on_runs)),
        ("dataset-unknown", "/runs?" + _q(dataset=MARKUP)),
        ("predictions-names", "/predictions?" + _q(dataset=DS)),
        ("tuning-names", "/runs?" + _q(dataset=DS, mode="tuning")),
        ("folds-names", "/runs?" + _q(dataset=DS, mode="cross-validation")),
    ]
    for name, path in loads:
        _check(page, base, path, name)


def test_a_deleted_arm_run_shows_as_deleted(serve, hostile_db, page):
    db, _, on_runs = hostile_db
    page.goto(serve(db) + f"/bandits?experiment={on_runs}")
    wait_idle(page)
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "Deleted: the run behind arm" in body and "(run 4)" in body, body[:2000]
    assert page.locator("[data-testid='stException']").count() == 0
