"""Layout with real titles and no "None"/"nan"/"NaT" anywhere, in headless Chromium.

(a) A store whose item titles are 120 characters (Japanese and English) and whose run
    names are long (tests/fixtures/long_titles.py): Runs, Compare with 4 runs and Item
    show no clipped table or chart text. A grid is clipped when its scroller is wider
    than its box (scrollWidth > clientWidth); a chart's text is clipped when a text
    element's box leaves the chart, or a label beside a marker leaves the plot area.
    The Runs metrics table alone scrolls sideways (it has more metric columns than a
    page is wide); its Run column is pinned, so the run stays in view while it scrolls.
(b) Every page with the demo store and with a store imported without a time column and
    without titles: no whole word "None", "nan", "NaN" or "NaT" in the page text or in
    the grids' cells.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import no_exception, shot, wait_idle
from tests.fixtures.long_titles import long_titles_store, missing_store

BAD = re.compile(r"\b(None|nan|NaN|NaT)\b")

#: the grids' scrollers and whether they fit their box, with their column headers
GRIDS_JS = """() => [...document.querySelectorAll('[data-testid=stDataFrame]')].map(d => {
    const s = d.querySelector('.dvn-scroller');
    const heads = [...d.querySelectorAll('th, [role=columnheader]')].map(h => h.innerText);
    return {heads: heads.slice(0, 4), scroll: s ? s.scrollWidth : 0, client: s ? s.clientWidth : 0};
})"""

#: text of plotly charts whose box leaves the chart, or (text beside markers) the plot area
CHARTS_JS = """() => {
    const out = [];
    document.querySelectorAll('.js-plotly-plot').forEach(plot => {
        const outer = plot.getBoundingClientRect();
        const area = plot.querySelector('.nsewdrag');
        const inner = area ? area.getBoundingClientRect() : outer;
        plot.querySelectorAll('text').forEach(t => {
            const b = t.getBoundingClientRect();
            if (!t.textContent.trim() || b.width === 0) return;
            if (b.left < outer.left - 1 || b.right > outer.right + 1)
                out.push('chart: ' + t.textContent);
            if (t.closest('.textpoint') && (b.left < inner.left - 1 || b.right > inner.right + 1))
                out.push('plot area: ' + t.textContent);
        });
    });
    return out;
}"""


@pytest.fixture(scope="module")
def long_db(tmp_path_factory):
    return long_titles_store(tmp_path_factory.mktemp("long") / "long.duckdb")


@pytest.fixture(scope="module")
def bare_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bare")
    return missing_store(tmp / "bare.duckdb", tmp)


def _open(page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.wait_for_timeout(1500)          # plotly lays its text out after the script ends
    wait_idle(page)
    no_exception(page)


def _bad_words(page) -> list[str]:
    words = BAD.findall(page.inner_text("body"))
    cells = page.eval_on_selector_all("table td", "els => els.map(e => e.innerText)")
    return words + [c for c in cells if BAD.search(c)]


@pytest.mark.parametrize("path,name", [
    ("runs?dataset=long&runs=1,2,3,4", "long-runs"),
    ("runs?dataset=long&runs=1,2,3,4&view=Per-user+distribution", "long-runs-dist"),
    ("compare?dataset=long&runs=1,2,3,4&user=U001&k=10", "long-compare"),
    ("item?dataset=long&item=j00", "long-item"),
])
def test_long_titles_clip_no_table_or_chart_text(serve, long_db, page, path, name):
    page.set_viewport_size({"width": 1400, "height": 4000})
    _open(page, f"{serve(long_db)}/{path}")
    shot(page, name)
    grids = page.evaluate(GRIDS_JS)
    assert grids, "no table rendered"
    runs_table = [g for g in grids if g["heads"][:3] == ["Run", "Split", "Changed params"]]
    assert len(runs_table) == ("runs?" in path)
    clipped = [g for g in grids if g["scroll"] > g["client"] + 1 and g not in runs_table]
    assert not clipped, clipped
    assert page.locator(".js-plotly-plot").count() > 0
    assert page.evaluate(CHARTS_JS) == []
    assert _bad_words(page) == []


PAGES = ["", "runs?dataset={ds}", "compare?dataset={ds}&runs={runs}", "item?dataset={ds}",
         "reviews", "bandits"]


@pytest.mark.parametrize("path", PAGES)
def test_no_none_nan_nat_with_missing_timestamps_and_titles(serve, bare_db, page, path):
    page.set_viewport_size({"width": 1400, "height": 3000})
    _open(page, f"{serve(bare_db)}/" + path.format(ds="bare", runs="1,2"))
    assert _bad_words(page) == []


@pytest.mark.parametrize("path", PAGES)
def test_no_none_nan_nat_on_the_demo(serve, demo_db, page, path):
    page.set_viewport_size({"width": 1400, "height": 3000})
    _open(page, f"{serve(demo_db)}/" + path.format(ds="jobboard", runs="1,2,3,4"))
    assert _bad_words(page) == []
