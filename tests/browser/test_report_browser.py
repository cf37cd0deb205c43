"""A report of three demo runs opened from a file:// URL with the network blocked: no
request leaves the file, every chart is drawn, and the metric cells equal
`recscope metrics --json` at the shown precision."""

from __future__ import annotations

import json
import re

from engine.cli import main
from engine.evaluate.metrics import display_format
from tests.browser.conftest import shot

RUNS = (2, 3, 5)   # demo: itemknn, als, ease


def test_report_opens_offline_with_every_chart_and_the_cli_numbers(demo_db, page, tmp_path, capsys):
    out = tmp_path / "demo-report.html"
    assert main(["report", "--db", str(demo_db), "--dataset", "jobboard", "--runs",
                 ",".join(map(str, RUNS)), "--out", str(out)]) == 0
    capsys.readouterr()
    size_mb = out.stat().st_size / 1e6
    assert size_mb < 8
    expected = {}
    for r in RUNS:
        assert main(["metrics", "--db", str(demo_db), str(r), "--json"]) == 0
        for m in json.loads(capsys.readouterr().out)["metrics"]:
            expected[(r, f"{m['metric']}@{m['k']}")] = \
                "—" if m["value"] is None else display_format(m["metric"]) % m["value"]

    left = []

    def block(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    page.route("**/*", block)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    n_figs = len(re.findall(r'<div id="fig-\d+"', out.read_text(encoding="utf-8")))
    assert n_figs == 6   # paired, trade-off, ECDF, box, slices, exposure
    page.wait_for_function(f"document.querySelectorAll('.plotly .main-svg').length >= {n_figs}")
    shot(page, "report_runs")
    assert left == [] and errors == []
    # every figure div holds a drawn plot (an svg with at least one trace layer)
    drawn = page.evaluate("""() => [...document.querySelectorAll('div[id^="fig-"]')]
        .map(d => d.querySelectorAll('.main-svg').length > 0 && d.querySelectorAll('.trace, .point, path').length > 0)""")
    assert len(drawn) == n_figs and all(drawn)

    table = page.locator("#metrics-table table")
    headers = table.locator("thead th").all_inner_texts()
    assert headers[0] == "metric" and [h.split()[0] for h in headers[1:]] == [f"#{r}" for r in RUNS]
    shown = {}
    for row in table.locator("tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        for r, cell in zip(RUNS, cells[1:]):
            shown[(r, cells[0])] = cell
    assert shown == expected
    assert page.locator("h1").inner_text().startswith("recscope report: jobboard")
    print(f"demo report of runs {RUNS}: {size_mb:.2f} MB, {n_figs} charts")
