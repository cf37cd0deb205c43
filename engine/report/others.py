"""The review-model and bandit-experiment reports: pure assembly of what
``engine.report.service`` read (frames, dicts and the bandit ``Report``).

Review model: its metrics, the precision-recall curve and score histogram at its
threshold, example reviews at each score band (``SCORE_BANDS``, the highest scores of
each band first), label counts by reviewer. Bandit experiment: the set-up, the stopping
rule's verdict and alarms first (they decide whether the rest reads at face value), then
allocation, posteriors, P(best) and the leaderboard. Prediction models are not in this
version: ``service.KINDS`` is where their report plugs in.
"""

from __future__ import annotations

import pandas as pd

from engine.report import bandit_charts, review_charts
from engine.report.html import Doc, esc
from engine.report.text import fmt

#: Score bands of the review examples: [low, high).
SCORE_BANDS = ((0.9, 1.01), (0.7, 0.9), (0.5, 0.7), (0.3, 0.5), (0.0, 0.3))
N_EXAMPLES = 3
#: Charts draw at most this many arms (the most likely to be best).
MAX_CHART_ARMS = 10


def review_doc(f: dict) -> Doc:
    m = f["model"]
    doc = Doc(f"recscope report: review model {int(m['model_id'])} of {m['dataset']}")
    doc.h2("Model", "model")
    cols = ["model_id", "dataset", "created_at", "n_train", "n_positive", "n_human_labels",
            "roc_auc", "pr_auc", "f1", "threshold", "cv_threshold", "n_flagged"]
    row = pd.DataFrame([{c: m.get(c) for c in cols}])
    doc.table(row, {c: "%.3f" for c in ("roc_auc", "pr_auc", "f1", "threshold", "cv_threshold")})
    doc.h2("Threshold", "threshold")
    at = f["at_threshold"]
    if at is None:
        doc.p("A precision-recall curve needs labelled reviews of both kinds.", "note")
    else:
        doc.p(f"Measured against {f['label_source']} on {at['n_labelled']:,} labelled reviews at "
              f"threshold {at['threshold']:.3f}: precision {_n(at['precision'])}, recall "
              f"{_n(at['recall'])}, F1 {_n(at['f1'])}; {at['n_flagged']:,} reviews flagged.")
        doc.figure(review_charts.pr_figure(f["curve"], at))
    doc.figure(review_charts.score_hist_figure(f["scores"]["score"], float(m["threshold"])))
    doc.h2("Examples at each score band", "examples")
    scored = f["scores"].dropna(subset=["score"])
    for lo, hi in SCORE_BANDS:
        band = scored[(scored["score"] >= lo) & (scored["score"] < hi)]
        doc.h3(f"Score {lo:.1f} to {min(hi, 1.0):.1f}: {len(band):,} reviews")
        if len(band):
            show = band.sort_values(["score", "review_id"], ascending=[False, True]).head(N_EXAMPLES)
            doc.table(show[["review_id", "score", "company", "text", "human", "truth"]]
                      .rename(columns={"human": "label", "truth": "shipped label"}),
                      {"score": "%.3f"})
    doc.h2("Labels by reviewer", "labels")
    counts = f["label_counts"]
    if counts.empty:
        doc.p("No one has labelled a review yet.", "note")
    else:
        doc.table(counts)
    return doc


def _n(v) -> str:
    return fmt(v, ".3f")


def bandit_doc(rep, rule) -> Doc:
    e = rep.experiment
    doc = Doc(f"recscope report: bandit experiment {int(e['experiment_id'])} {e['name']}")
    doc.h2("Experiment", "experiment")
    doc.table(pd.DataFrame([{c: e.get(c) for c in (
        "experiment_id", "name", "status", "policy", "environment", "batch_size", "n_steps",
        "n_batches", "prior_alpha", "prior_beta", "seed")}]))
    doc.h2("Stopping rule", "stopping")
    doc.p(f"P(best) ≥ {rule.prob_threshold:.2f}, expected loss ≤ {rule.loss_threshold:g}, at "
          f"least {rule.min_samples:,} rewards.", "note")
    verdict = "Stop" + (f": {rep.stopping.winner}" if rep.stopping.winner else "") \
        if rep.stopping.stop else "Keep going"
    doc.raw(f'<p id="verdict"><strong>{esc(verdict)}</strong></p>')
    doc.p(" ".join(rep.stopping.reasons))
    doc.h2("Alarms", "alarms")
    alarms = [a.message for a in rep.simpson]
    if rep.sample_ratio.alarm or rep.sample_ratio.warning:
        alarms.append(rep.sample_ratio.message)
    for text in alarms:
        doc.warn(text)
    if not alarms:
        doc.p(f"None. Sample-ratio check: {rep.sample_ratio.message}", "note")
    summary = rep.summary.sort_values(["prob_best", "arm"], ascending=[False, True])
    arms = summary["arm"].head(MAX_CHART_ARMS).tolist()
    colors = bandit_charts.arm_colors(rep.summary["arm"].tolist())
    doc.h2("Allocation", "allocation")
    doc.figure(bandit_charts.allocation_chart(rep.snapshots, arms, colors))
    doc.h2("Posteriors", "posteriors")
    true_rates = None
    if rep.true_rates is not None:
        by_arm = dict(zip(rep.summary["arm"], rep.true_rates))
        true_rates = [by_arm[a] for a in arms]
    doc.figure(bandit_charts.density_chart(rep.density, arms, true_rates, colors))
    doc.h2("P(best)", "pbest")
    doc.figure(bandit_charts.prob_best_chart(rep.snapshots, arms, rule.prob_threshold, colors))
    doc.h2("Leaderboard", "leaderboard")
    cols = {"arm": "Arm", "pulls": "Decisions", "n_obs": "Rewards arrived",
            "successes": "Successes", "mean": "Mean", "lo": "95% low", "hi": "95% high",
            "prob_best": "P(best)", "expected_loss": "Expected loss"}
    if "true_rate" in summary:
        cols["true_rate"] = "True rate now (sim)"
    doc.table(summary[list(cols)].rename(columns=cols),
              {"Mean": "%.4f", "95% low": "%.4f", "95% high": "%.4f", "P(best)": "%.3f",
               "Expected loss": "%.5f", "True rate now (sim)": "%.4f", "Successes": "%d"})
    return doc

