"""`recscope report` and engine/report: one self-contained file, plotly.js once, numbers
as the store holds them (printed with the metric registry's format), text escaped,
identical bytes for the same selection apart from the creation line."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from engine.cli import main
from engine.evaluate.metrics import display_format
from engine.report.html import CREATED_PREFIX, Doc, Provenance, esc
from engine.report.runs import metrics_wide
from engine.report.service import ReportSpec, build
from engine.store import Store
from engine.store.runs import run_metrics
from tests.fixtures.runs_store import build_tiny_store


@pytest.fixture()
def tiny(tmp_path):
    path = tmp_path / "tiny.duckdb"
    build_tiny_store(path)
    return path


def without_created(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith(CREATED_PREFIX))


def test_runs_report_embeds_plotly_once_and_states_provenance(tiny):
    spec = ReportSpec("runs", dataset="tiny", runs=(1, 2), k=3)
    text = build(Store(tiny), spec, created="2026-01-01 00:00:00 UTC")
    js = get_plotlyjs()
    assert text.count(js[:200]) == 1               # the library once, in <head>
    assert text.index(js[:200]) < text.index("</head>")
    n_figs = len(re.findall(r'id="fig-\d+"', text))
    assert n_figs >= 5 and text.count("Plotly.newPlot(") == n_figs
    assert "<script src=" not in text and "<link " not in text   # nothing fetched
    assert f"{CREATED_PREFIX}Made 2026-01-01 00:00:00 UTC</p>" in text
    assert f"recscope report --db &#x27;{tiny.resolve()}&#x27; --dataset &#x27;tiny&#x27; --runs 1,2 " \
           f"--metric ndcg --k 3 --out recscope-runs-1-2.html" in text
    assert '<meta charset="utf-8">' in text and "Noto Sans CJK JP" in text
    assert "東京の寿司職人" in text or "京都の旅館フロント" in text   # titles in the side-by-side lists


def test_same_selection_same_bytes_apart_from_the_creation_line(tiny):
    spec = ReportSpec("runs", dataset="tiny", runs=(2, 1), k=3)
    a = build(Store(tiny), spec, created="A")
    b = build(Store(tiny), spec, created="B")
    assert a != b and without_created(a) == without_created(b)


def test_metric_cells_are_the_stored_values_in_display_format(tiny):
    m = pd.concat([run_metrics(Store(tiny), r).assign(run_id=r) for r in (1, 2)])
    wide = metrics_wide(m, {1: "#1 popularity", 2: "#2 itemknn"})
    row = wide.set_index("metric").loc["ndcg@3"]
    for rid, label in ((1, "#1 popularity"), (2, "#2 itemknn")):
        v = m[(m["run_id"] == rid) & (m["metric"] == "ndcg")]["value"].iloc[0]
        assert row[label] == display_format("ndcg") % v
    assert display_format("ndcg") == "%.4f"


def test_text_from_people_is_escaped():
    doc = Doc("<script>alert(1)</script>")
    doc.table(pd.DataFrame({"name": ["<img src=x onerror=alert(1)>", None]}))
    out = doc.render(Provenance("now", "/tmp/<x>.duckdb", "v", "cmd '<b>'"))
    assert "<script>alert" not in out and "<img src=x" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out and "<td>—</td>" in out
    assert esc(float("nan")) == "—" and esc(pd.NaT) == "—"
    assert "<script" not in out          # no figure: no plotly.js either


def test_cli_writes_the_file_and_refuses_bad_selections(tiny, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--db", str(tiny), "--dataset", "tiny", "--runs", "1,2", "--k", "3",
                 "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    capsys.readouterr()
    for argv, words in (
            (["--dataset", "tiny", "--runs", "1,99"], "no run 99"),
            (["--dataset", "tiny", "--runs", "1", "--relevance", "apply"], "any held-out event"),
            (["--dataset", "nope", "--runs", "1"], "nope"),
            (["--runs", "1"], "--runs needs --dataset"),
            (["--dataset", "tiny", "--runs", "1,x"], "run ids separated by commas"),
            (["--dataset", "tiny", "--runs", "1", "--experiment", "1"], "Name one thing")):
        code = main(["report", "--db", str(tiny), *argv, "--out", str(tmp_path / "x.html")])
        err = capsys.readouterr().err
        assert code == 2 and words in err, (argv, err)
        assert not (tmp_path / "x.html").exists()


def test_review_report_bands_and_label_counts_by_reviewer():
    from engine.report.others import review_doc
    from engine.report.service import read_review  # noqa: F401  (the reader of these frames)

    scores = pd.DataFrame({
        "review_id": ["r1", "r2", "r3", "r4"], "score": [0.95, 0.92, 0.1, None],
        "company": ["A社", "B", "C", "D"], "text": ["<i>spam</i>", "ok", "fine", "x"],
        "human": ["meaningless", None, "fine", None], "truth": [1, 1, 0, None]})
    counts = pd.DataFrame({"reviewer": ["aki", "ben"], "fine": [0, 1], "meaningless": [2, 0]})
    doc = review_doc({"model": {"model_id": 7, "dataset": "toy", "threshold": 0.5},
                      "scores": scores, "at_threshold": None, "curve": None,
                      "label_source": "your labels", "label_counts": counts})
    out = doc.render(Provenance("now", "s", "v", "c"))
    assert "Score 0.9 to 1.0: 2 reviews" in out and "Score 0.0 to 0.3: 1 reviews" in out
    assert "Score 0.7 to 0.9: 0 reviews" in out
    assert "&lt;i&gt;spam&lt;/i&gt;" in out and "<i>spam" not in out
    assert "<td>aki</td><td>0</td><td>2</td>" in out
    assert doc.n_figures == 1          # the histogram; no curve without labels of both kinds
