"""The runs report: pure assembly of frames read by ``engine.report.service.read_runs``.

Sections, in order: dataset summary; runs (parameters, health warnings); metrics (every
stored metric@k, rows = metric@k, one column per run, printed with the metric registry's
display format, the same values as ``recscope metrics --json``); paired tests on
``metric@k`` (B − A, Holm-corrected, as on the Runs page); the accuracy / beyond-accuracy
trade-off; per-user distributions; metric by activity slice; the users on which the first
run and each other run disagree most (lowest RBO) with their lists side by side; exposure.
"""

from __future__ import annotations

import json

import pandas as pd

from engine.evaluate.metrics import display_format
from engine.report import charts, runs_charts
from engine.report.html import DASH, Doc, esc, side_by_side

#: Users shown per pair in "where the runs disagree most".
N_DISAGREE = 3
#: Items in the exposure table.
N_EXPOSURE = 20
#: The beyond-accuracy metric of the trade-off chart.
TRADEOFF_X = "coverage"


def run_label(row) -> str:
    """'#3 my-als (als)': run id, name, and the algorithm when the name is not it (the
    viewer's ``run_label`` says the same)."""
    name = row.get("name") or row["algorithm"]
    extra = "" if name == row["algorithm"] else f" ({row['algorithm']})"
    return f"#{int(row['run_id'])} {name}{extra}"


def _params_text(params) -> str:
    if params is None or (isinstance(params, float) and pd.isna(params)):
        return DASH
    if isinstance(params, str):
        try:
            params = json.loads(params or "{}")
        except ValueError:
            return params
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or DASH


def metrics_wide(metrics: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """Long metrics (run_id, metric, k, value) -> rows 'metric@k', one text column per run,
    each value printed with ``display_format(metric)``."""
    if metrics.empty:
        return pd.DataFrame({"metric": []})
    m = metrics.copy()
    m["cell"] = [DASH if pd.isna(v) else display_format(n) % v
                 for n, v in zip(m["metric"], m["value"])]
    m["row"] = m["metric"] + "@" + m["k"].astype(int).astype(str)
    order = list(dict.fromkeys(m.sort_values(["k", "metric"])["row"]))
    wide = m.pivot_table(index="row", columns="run_id", values="cell", aggfunc="first")
    wide = wide.reindex(index=order)
    out = pd.DataFrame({"metric": wide.index})
    for r in labels:
        out[labels[r]] = wide[r].fillna(DASH).tolist() if r in wide.columns else DASH
    return out


def paired_table(tab: pd.DataFrame, labels: dict) -> pd.DataFrame:
    def p(v):
        return DASH if v is None or pd.isna(v) else ("< 0.0001" if v < 1e-4 else f"{v:.4f}")
    return pd.DataFrame({
        "A": [labels[a] for a in tab["run_a"]], "B": [labels[b] for b in tab["run_b"]],
        "Users": tab["n"].astype(int),
        "mean A": [f"{v:.4f}" for v in tab["mean_a"]], "mean B": [f"{v:.4f}" for v in tab["mean_b"]],
        "B − A": [f"{v:+.4f}" for v in tab["mean_diff"]],
        "95% interval": [f"[{lo:+.4f}, {hi:+.4f}]" for lo, hi in zip(tab["ci_low"], tab["ci_high"])],
        "B better / tie / A better": [f"{int(w):,} / {int(t):,} / {int(lo):,}" for w, t, lo
                                      in zip(tab["wins"], tab["ties"], tab["losses"])],
        "p (t-test)": [p(v) for v in tab["p_value_t"]],
        "p Holm (t)": [p(v) for v in tab.get("p_holm", pd.Series([None] * len(tab)))],
        "p (Wilcoxon)": [p(v) for v in tab["p_value_wilcoxon"]],
    })


def list_table(lists: pd.DataFrame, run_id: int, tests: set) -> pd.DataFrame:
    """One run's list for one user: rank, item (title), hit (a held-out item)."""
    g = lists[lists["run_id"] == run_id].sort_values("rank")
    return pd.DataFrame({"rank": g["rank"].astype(int),
                         "item": [t if isinstance(t, str) and t else i
                                  for t, i in zip(g["title"], g["item_id"])],
                         "hit": ["✓" if i in tests else "" for i in g["item_id"]]})


def runs_doc(f: dict) -> Doc:
    """The runs report from ``service.read_runs``' frames (keys documented there)."""
    runs: pd.DataFrame = f["runs"]
    labels = {int(r["run_id"]): run_label(r) for _, r in runs.iterrows()}
    metric, k = f["metric"], int(f["k"])
    doc = Doc(f"recscope report: {f['dataset']}, runs "
              + ", ".join(str(r) for r in labels))

    doc.h2("Dataset", "dataset")
    doc.table(f["dataset_row"], {c: "%d" for c in ("n_users", "n_items", "n_interactions",
                                                   "n_reviews")})

    doc.h2("Runs", "runs")
    doc.table(pd.DataFrame({
        "run": [labels[int(r)] for r in runs["run_id"]], "algorithm": runs["algorithm"],
        "status": runs["status"], "split": runs["split_id"],
        "K": runs["k"], "users": runs["n_users"],
        "parameters": [_params_text(p) for p in runs["params"]],
        "fit (s)": runs["fit_seconds"], "recommend (s)": runs["recommend_seconds"]}),
        {"fit (s)": "%.1f", "recommend (s)": "%.1f"})
    doc.h3("Health warnings")
    warnings = f["warnings"]
    if warnings is None or warnings.empty:
        doc.p("No health warnings for these runs (runs trained before the checks existed "
              "were not checked).", "note")
    else:
        doc.table(warnings.assign(run_id=[labels.get(int(r), r) for r in warnings["run_id"]])
                  .rename(columns={"run_id": "run"}))

    doc.h2("Metrics", "metrics")
    doc.p("Every stored metric of each run, at each cut-off.", "note")
    doc.raw('<div id="metrics-table">')
    doc.table(metrics_wide(f["metrics"], labels))
    doc.raw("</div>")

    doc.h2(f"Paired tests on {metric}@{k}", "paired")
    tab = f["paired"]
    if tab is None or tab.empty:
        doc.p("No two of these runs share a split, so none can be paired.", "note")
    else:
        doc.p("Each pair is tested on the users both runs evaluated; B − A is the mean "
              "difference with a bootstrap 95% interval; Holm's correction over all pairs.",
              "note")
        doc.table(paired_table(tab, labels))
        doc.figure(runs_charts.paired_chart(tab, labels, f"{metric}@{k}: mean difference (B − A)"))
    skipped = (tab.attrs.get("skipped") if tab is not None else None) or []
    if skipped:
        doc.p("Not paired (different splits): " + "; ".join(
            f"{labels[a]} / {labels[b]}" for a, b in skipped), "note")

    doc.h2("Accuracy against coverage", "tradeoff")
    wide = f["wide"]
    xc, yc = f"{TRADEOFF_X}@{k}", f"{metric}@{k}"
    if xc in wide.columns and yc in wide.columns:
        doc.figure(runs_charts.tradeoff_chart(wide[["run_id", xc, yc]], xc, yc, labels,
                                              x_title=xc, y_title=yc))
    else:
        doc.p(f"No run has both {xc} and {yc}.", "note")

    doc.h2(f"Per-user {metric}@{k}", "distributions")
    vals = f["user_values"]
    if vals.empty:
        doc.p("These runs stored no per-user values of this metric.", "note")
    else:
        doc.table(f["user_summary"], {c: "%.4f" for c in f["user_summary"].columns
                                      if c not in ("run_id", "n", "n_users")})
        doc.figure(runs_charts.ecdf_chart(vals, labels, f"{metric}@{k} per user"))
        doc.figure(runs_charts.box_chart(vals, labels, f"{metric}@{k} per user"))
        doc.h3("By user activity (distinct training items)")
        doc.figure(runs_charts.slice_chart(f["slices"], labels, f"mean {metric}@{k}",
                                           "user activity"))

    doc.h2("Where the runs disagree most", "disagreement")
    if not f["disagreement"]:
        doc.p("Pick at least two runs to see their disagreement.", "note")
    for (a, b), users in f["disagreement"]:
        doc.h3(f"{labels[a]} against {labels[b]}: lowest RBO@{k}")
        for user in users:
            doc.raw(f"<p>User <strong>{esc(user['user_id'])}</strong>: RBO "
                    f"{user['rbo']:.3f}, {esc(metric)} {esc(_num(user['metric_a']))} → "
                    f"{esc(_num(user['metric_b']))}</p>")
            doc.raw(side_by_side((labels[r], list_table(user["lists"], r, user["tests"]))
                                 for r in (a, b)))

    doc.h2(f"Exposure in the top {k}", "exposure")
    expo = f["exposure"]
    if expo.empty:
        doc.p("No lists stored.", "note")
    else:
        doc.figure(charts.exposure_chart(expo, list(labels), labels, top=N_EXPOSURE))
        show = pd.DataFrame({"item": [t if isinstance(t, str) and t else i
                                      for t, i in zip(expo["title"], expo["item_id"])]})
        fmts = {}
        for r in labels:
            show[labels[r]] = expo[f"share_{r}"].tolist() if f"share_{r}" in expo else None
            fmts[labels[r]] = "%.3f"
        doc.table(show.head(N_EXPOSURE), fmts)
    return doc


def _num(v) -> str:
    return DASH if v is None or pd.isna(v) else f"{v:.4f}"
