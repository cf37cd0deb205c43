"""Reports from the store: the one place under engine/report that reads it.

``ReportSpec`` names what a report covers (runs of a dataset, a review model, a bandit
experiment); ``build(store, spec, created=None) -> str`` reads what it needs, assembles
the page (``engine.report.runs`` / ``others``) and returns the HTML text. The CLI
(`recscope report`) and the pages' "Download report" buttons both call ``build``, so the
same selection gives the same file; only the creation-time line differs (``created``
injects it, e.g. in tests).

Health warnings per run come from the store's ``run_warnings`` table (computed when a
run is trained or imported: ``engine.evaluate.health``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pandas as pd

from engine.bandits.checks import StoppingRule
from engine.errors import DataError
from engine.evaluate.compare import RBO_P
from engine.pipeline import code_version
from engine.reviews import queue as Q
from engine.reviews.labels import current_labels
from engine.reviews.threshold import at_threshold, pr_curve
from engine.services import bandit_experiments as ex
from engine.services import compare as CV
from engine.services import runs as RV
from engine.store import reviews as rdb
from engine.store import runs as store_runs
from engine.store.core import Store
from engine.store.datasets import list_datasets, require_dataset
from engine.store.runs import list_runs, run_metrics, runs_with_metrics

from engine.report import others, runs as runs_report
from engine.report.html import Provenance

KINDS = ("runs", "review-model", "experiment")   # a prediction-model kind plugs in here
#: At most this many runs in one report (the Runs page analyses as many).
MAX_RUNS = 8
#: Relevance types the runs are evaluated by. Hook: the branch that evaluates by
#: application / hire (`--relevance apply`) adds its types here and passes
#: ``spec.relevance`` to its metric readers in ``read_runs``.
RELEVANCE = ("any",)


@dataclass(frozen=True)
class ReportSpec:
    kind: str                       # one of KINDS
    dataset: str | None = None      # runs
    runs: tuple[int, ...] = field(default_factory=tuple)
    metric: str = "ndcg"
    k: int = 10
    review_model: int | None = None
    experiment: int | None = None
    relevance: str = "any"

    def command(self, db: str) -> str:
        """The `recscope report` command that remakes this report from ``db``."""
        where = f"recscope report --db '{db}'"
        if self.kind == "runs":
            extra = "" if (self.metric, self.k) == ("ndcg", 10) else \
                f" --metric {self.metric} --k {self.k}"
            extra += "" if self.relevance == "any" else f" --relevance {self.relevance}"
            return (f"{where} --dataset '{self.dataset}' --runs "
                    f"{','.join(str(r) for r in self.runs)}{extra} --out {self.filename()}")
        if self.kind == "review-model":
            return f"{where} --review-model {self.review_model} --out {self.filename()}"
        return f"{where} --experiment {self.experiment} --out {self.filename()}"

    def filename(self) -> str:
        """The file name the Download buttons offer (and the remake command writes)."""
        if self.kind == "runs":
            return f"recscope-runs-{'-'.join(str(r) for r in self.runs)}.html"
        if self.kind == "review-model":
            return f"recscope-review-model-{self.review_model}.html"
        return f"recscope-experiment-{self.experiment}.html"


def now_text() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def build(store: Store, spec: ReportSpec, created: str | None = None) -> str:
    """The report's HTML text (see the module docstring)."""
    if spec.kind == "runs":
        doc = runs_report.runs_doc(read_runs(store, spec))
    elif spec.kind == "review-model":
        doc = others.review_doc(read_review(store, int(spec.review_model)))
    elif spec.kind == "experiment":
        rule = StoppingRule()
        doc = others.bandit_doc(ex.report(store, int(spec.experiment), rule=rule), rule)
    else:
        raise DataError(f"A report covers one of {', '.join(KINDS)}, not {spec.kind!r}.")
    db = str(store.path.resolve())
    return doc.render(Provenance(created or now_text(), db, f"recscope {code_version()}", spec.command(db)))


def run_warnings(store: Store, run_ids: list[int]) -> pd.DataFrame:
    """Health warnings of the runs: DataFrame[run_id, code, message, value]."""
    return store_runs.run_warnings(store, run_ids)


def check_runs(store: Store, dataset: str, run_ids: list[int], relevance: str = "any") -> None:
    """One sentence for a report request that cannot be met."""
    if relevance not in RELEVANCE:
        raise DataError(f"--relevance {relevance!r}: reports judge runs against any held-out "
                        f"event for now; leave it out (`recscope compare --relevance` and the "
                        f"Runs page's relevance selector judge by applications or hires).")
    require_dataset(store, dataset)
    if not run_ids:
        raise DataError("--runs names no run; give run ids such as 1,3,5.")
    if len(run_ids) > MAX_RUNS:
        raise DataError(f"A report covers at most {MAX_RUNS} runs, not {len(run_ids)}.")
    if len(set(run_ids)) != len(run_ids):
        raise DataError("--runs names a run twice.")
    runs = list_runs(store, dataset)
    known = set(runs["run_id"].astype(int))
    missing = [r for r in run_ids if r not in known]
    if missing:
        raise DataError(f"Dataset {dataset!r} has no run {missing[0]} "
                        f"(`recscope runs --dataset {dataset}` lists them).")


def read_runs(store: Store, spec: ReportSpec) -> dict:
    """The frames of a runs report (``engine.report.runs.runs_doc`` documents their use)."""
    ids = [int(r) for r in spec.runs]
    check_runs(store, spec.dataset, ids, spec.relevance)
    metric, k = spec.metric, int(spec.k)
    with store.session() as s:
        all_runs = list_runs(s, spec.dataset)
        runs = all_runs.set_index("run_id").loc[ids].reset_index()
        ds = list_datasets(s)
        metrics = pd.concat([run_metrics(s, r).assign(run_id=r) for r in ids], ignore_index=True)
        wide = runs_with_metrics(s, spec.dataset, ks=(k,))
        wide = wide[wide["run_id"].isin(ids)]
        values = RV.user_values(s, ids, metric, k)
        slices = RV.metrics_by_slice(s, ids, metric, k)
        paired = RV.paired_tests(s, ids, metric, k) if len(ids) > 1 else None
        expo = CV.exposure(s, spec.dataset, ids, k)
        disagree = []
        for b in ids[1:]:
            table = CV.disagreement(s, ids[0], b, k, metric=metric, p=RBO_P)
            users = []
            for row in table.head(runs_report.N_DISAGREE).to_dict(orient="records"):
                view = CV.user_view(s, spec.dataset, [ids[0], b], row["user_id"], k)
                users.append({**row, "lists": view["lists"],
                              "tests": set(view["tests"]["item_id"]) if len(view["tests"]) else set()})
            disagree.append(((ids[0], b), users))
        warnings = run_warnings(s, ids)
    return {"dataset": spec.dataset, "metric": metric, "k": k, "runs": runs,
            "dataset_row": ds[ds["name"] == spec.dataset].reset_index(drop=True),
            "metrics": metrics, "wide": wide, "user_values": values,
            "user_summary": RV.S.distribution_summary(values) if len(values) else values,
            "slices": slices, "paired": paired, "exposure": expo, "disagreement": disagree,
            "warnings": warnings}


def read_review(store: Store, model_id: int) -> dict:
    """The frames of a review-model report."""
    with store.session() as s:
        model = rdb.get_model(s, model_id)
        scored = rdb.scored_reviews(s, model["dataset"], model_id)
        history = rdb.label_history(s, model["dataset"])
    labels = current_labels(history)
    frame = Q.with_labels(scored, labels, model["threshold"])
    source = "human" if frame["human"].isin(["meaningless", "fine"]).any() else "truth"
    y, sc = Q.threshold_labels(frame, source)
    at, curve = None, None
    if len(y) and y.min() != y.max():
        at = at_threshold(y, sc, frame["score"].to_numpy(dtype=float), float(model["threshold"]))
        curve = pr_curve(y, sc)
    counts = (labels.groupby(["reviewer", "label"]).size().unstack(fill_value=0).reset_index()
              if len(labels) else pd.DataFrame())
    return {"model": model, "scores": frame, "at_threshold": at, "curve": curve,
            "label_source": "your labels" if source == "human" else "the labels shipped with the data",
            "label_counts": counts}
