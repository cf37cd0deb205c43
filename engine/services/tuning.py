"""Tuning studies (Optuna) and cross-validation folds: read the store, compute, write back.

``tune`` runs (or resumes) one study of one algorithm on one split of a dataset:

- Trials are scored on ``validation_data``: a validation part carved from the split's
  TRAINING part (``engine.evaluate.validation``); the test part is never read while
  trials run (it is loaded only for the final run, after the study).
- ``run_trial(vdata, algo, params, ...)`` is one trial: fit, recommend, score. It reads
  no store and returns the objectives' values, so a distributed backend can map it.
- Trial 0 of a new study is the registry's defaults (those inside the space).
- Sampler: Optuna's TPE, seeded (a resumed study reseeds with seed + trials so far, so
  it does not propose the same points again); pruner: the median pruner on the first
  objective, for the iterative models (ALS, BPR, LMF) of a single-objective study (Optuna
  prunes single-objective studies only). A trial reports at shares of its OWN iteration
  count (``REPORT_PERCENTS``: after 25%, 50% and 75% of its epochs; the step, and the key
  of the stored intermediate values, is that percentage), and is pruned from
  ``PRUNE_FROM_PERCENT`` on: trials are compared at the same share of their budget, not
  at the same epoch. Why: a fixed epoch ladder compares a slow learning rate that needs
  many epochs with a fast one at the same early epoch, where the fast one always leads
  (and then overfits): on MovieLens 100K (ratings >= 4, leave-last-5) the median pruner
  of that ladder (epochs 10, 20, 50, ...) stopped 23 of 30 BPR trials at 10 or 20 epochs,
  every one after the first five with a learning rate near the default's (0.005-0.02),
  the region of the best validation values; the defaults (trial 0) stayed the best.
- Every finished trial is written at once (``engine.store.tuning``); Ctrl-C leaves the
  finished trials and marks the study 'interrupted'. ``--study ID`` rebuilds the Optuna
  study from the stored trials (``optuna.trial.create_trial``), so numbering continues.
- ``backend`` (``--backend ray``): one Optuna study on the driver, ask-and-tell; the
  trials run as Ray tasks, as many at once as the cluster has CPUs, and are stored on the
  driver as they finish (numbered in that order). No pruning there; intermediate values
  are still stored (``_run_remote``).
- When the study ends, the best parameters (two objectives: the Pareto-front trial best
  on the first) are trained on the whole training part and evaluated on test by
  ``pipeline.train_one``; the study row keeps that ``run_id``.

``train_folds`` is ``recscope train --folds N``: a loop around ``train_one``; with a Ray
backend every (fold, algorithm) run is one Ray task (``pipeline.fan_out_runs``), stored
and grouped by the driver as the loop stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from engine.data.dataset import IdMap
from engine.errors import DataError
from engine.evaluate import metrics as M
from engine.evaluate.folds import fold_summary, paired_by_fold
from engine.evaluate.splits import make_split
from engine.evaluate.validation import time_folds, user_folds, validation_split
from engine.pipeline import (N_NEIGHBOURS, SPLIT_DEFAULTS, RunJob, TrainingSplit,
                             check_request, ensure_split, eval_ks, fan_out_runs, fans_out,
                             positives, recommend_all, split_request, train_one)
from engine.progress import ProgressFn, null_progress
from engine.recommend import registry
from engine.recommend.matrix import build_matrix
from engine.recommend.space import Dim, parse_space
from engine.store import Store
from engine.store import runs as store_runs
from engine.store import tuning as store_tuning
from engine.store.datasets import load_dataset

#: Shares (percent) of a trial's own iterations after which an iterative model reports
#: its first-objective value; the percentage is the Optuna step (see the module doc).
REPORT_PERCENTS = (25, 50, 75)
#: The median pruner acts from this share of a trial's iterations on (Optuna's
#: ``n_warmup_steps``): at a quarter of its epochs a trial's value says little yet.
PRUNE_FROM_PERCENT = 50
#: The median pruner waits for this many finished trials before pruning.
PRUNER_STARTUP = 5


# --------------------------------------------------------------------------- objectives

def parse_objectives(text: str | None, metric: str = "ndcg", k: int = 10) -> list[tuple[str, int]]:
    """'ndcg@10,coverage@10' -> [('ndcg', 10), ('coverage', 10)]; None -> [(metric, k)]."""
    items = [t.strip() for t in text.split(",") if t.strip()] if text else [f"{metric}@{k}"]
    out = []
    for item in items:
        name, at, kk = item.partition("@")
        if M.metric(name) is None:
            raise DataError(f"{name!r} is not a metric; choose one of {', '.join(M.REGISTRY)}.")
        try:
            kv = int(kk) if at else int(k)
        except ValueError:
            raise DataError(f"{item!r}: the cut-off after '@' must be a whole number.") from None
        if kv < 1:
            raise DataError(f"{item!r}: the cut-off must be at least 1.")
        out.append((name, kv))
    if len(out) > 2:
        raise DataError(f"A study optimises one or two objectives, not {len(out)}.")
    if len(set(out)) < len(out):
        raise DataError("The two objectives are the same; name two different ones.")
    return out


def direction(metric: str) -> str:
    return "maximize" if M.metric(metric).higher_is_better else "minimize"


def label(objective: tuple[str, int]) -> str:
    return f"{objective[0]}@{objective[1]}"


# --------------------------------------------------------------------------- one trial

def _training_split(dataset: str, split_id: int, train: pd.DataFrame, test: pd.DataFrame,
                    catalogue: pd.DataFrame, ks: list[int], min_weight=None) -> TrainingSplit:
    users = IdMap.from_values(set(train["user_id"]) | set(test["user_id"]), "user")
    items = IdMap.from_values(train["item_id"], "item")
    matrix = build_matrix(train, users, items)
    test_idx = users.positions(sorted(set(test["user_id"])))
    return TrainingSplit(dataset=dataset, split_id=split_id, train=train, test=test,
                         catalogue=catalogue, users=users, items=items, matrix=matrix,
                         test_idx=test_idx, ks=ks, min_weight=min_weight)


def validation_data(dataset: str, split_id: int, train: pd.DataFrame, catalogue: pd.DataFrame,
                    method: str, split_params: dict, ks: list[int], seed: int = 0
                    ) -> TrainingSplit:
    """The trials' data: ``train`` (a split's training part, the only part passed in)
    split again into a fit part and validation targets (``validation_split``)."""
    v = validation_split(train, method, split_params, seed=seed)
    return _training_split(dataset, split_id, v.train, v.test, catalogue, ks)


def _score(recs: pd.DataFrame, vdata: TrainingSplit, objectives) -> list[float]:
    ks = sorted({k for _, k in objectives})
    user = [o for o in objectives if M.metric(o[0]).scope == "user"]
    values: dict = {}
    if user:
        per_user = M.accuracy_metrics(recs, vdata.test, ks=ks)
        s = M.summarise(per_user)
        values.update({(m, int(k)): float(v) for m, k, v in zip(s["metric"], s["k"], s["value"])})
    if len(user) < len(objectives):
        b = M.beyond_accuracy(recs, vdata.train, vdata.catalogue, ks=ks, n_items=len(vdata.items))
        values.update({(m, int(k)): (float(v) if v is not None else float("nan"))
                       for m, k, v in zip(b["metric"], b["k"], b["value"])})
    return [values.get((m, k), float("nan")) for m, k in objectives]


def run_trial(vdata: TrainingSplit, algo: str, params: dict, *, seed: int = 0,
              objectives=(("ndcg", 10),), report: Callable[[int, float], None] | None = None,
              ) -> list[float]:
    """One trial: fit ``algo`` with ``params`` on ``vdata``'s fit part, recommend for its
    validation users and return the objectives' values (one per objective). Reads no
    store: the unit a distributed backend can map. ``report(percent, value)`` is called
    by iterative models after each of the ``REPORT_PERCENTS`` of their iterations (epoch
    ``round(percent * iterations / 100)``, when that is at least 1, before the last epoch
    and not already reported) with the first objective; it may raise to stop the trial
    (Optuna's ``TrialPruned``)."""
    objectives = [tuple(o) for o in objectives]
    k = max(k for _, k in objectives)
    model = registry.make(algo, seed=seed, **params)
    if report is not None and model.spec.iterative:
        total = int(model.params.get("iterations", 1))
        at: dict[int, int] = {}  # epoch -> percent (the first percent landing on it)
        for pct in REPORT_PERCENTS:
            epoch = round(pct * total / 100)
            if 1 <= epoch < total:
                at.setdefault(epoch, pct)

        def on_epoch(done: int, fitted) -> None:
            if done not in at:
                return
            model.user_factors = np.ascontiguousarray(fitted.user_factors, dtype=np.float32)
            model.item_factors = np.ascontiguousarray(fitted.item_factors, dtype=np.float32)
            recs = recommend_all(model, vdata.matrix, vdata.test_idx, vdata.users.ids,
                                 vdata.items.ids, k)
            report(at[done], _score(recs, vdata, objectives[:1])[0])

        model.on_epoch = on_epoch
    model.fit(vdata.matrix)
    recs = recommend_all(model, vdata.matrix, vdata.test_idx, vdata.users.ids, vdata.items.ids, k)
    return _score(recs, vdata, objectives)


# --------------------------------------------------------------------------- studies

@dataclass
class StudyPlan:
    """What a study will do, checked before anything is written."""

    dataset: str
    algorithm: str
    objectives: list
    space: dict
    fixed: dict
    seed: int
    study_id: int | None = None
    split_id: int | None = None


def plan_study(store: Store, *, dataset: str | None, algo: str | None, space_items=None,
               objectives: str | None = None, metric: str = "ndcg", k: int = 10,
               trials: int | None = 30, seed: int = 0, study_id: int | None = None) -> StudyPlan:
    """Every check of a tune request (one sentence each) before the store is touched."""
    if trials is not None and int(trials) < 1:
        raise DataError(f"--trials must be at least 1, not {trials}.")
    if study_id is not None:
        st = store_tuning.get_study(store, study_id)
        if algo is not None and algo != st["algorithm"]:
            raise DataError(f"Study {study_id} tunes {st['algorithm']!r}, not {algo!r}; drop "
                            f"--algo or start a new study.")
        if dataset is not None and dataset != st["dataset"]:
            raise DataError(f"Study {study_id} is on dataset {st['dataset']!r}, not {dataset!r}.")
        space = {n: Dim.from_json(d) for n, d in st["space"].items()}
        objs = [tuple(o.split("@")[0:1]) + (int(o.split("@")[1]),) for o in st["objectives"]]
        return StudyPlan(st["dataset"], st["algorithm"], objs, space, dict(st["fixed"] or {}),
                         int(st["seed"]), study_id=int(study_id), split_id=int(st["split_id"]))
    if algo is None:
        raise DataError("Name the algorithm to tune (--algo), or a study to resume (--study).")
    entry = registry.spec(algo)
    objs = parse_objectives(objectives, metric, k)
    space, fixed = parse_space(space_items, algo, entry.defaults, entry.space,
                               check=lambda n, v: registry.check_param(algo, n, v))
    if not space:
        raise DataError(f"Algorithm {algo!r} has no parameter to tune"
                        + (" (all are pinned by --space)." if entry.space else "."))
    return StudyPlan(dataset, algo, objs, space, fixed, int(seed))


def _suggest(trial, space: dict[str, Dim], fixed: dict) -> dict:
    params = dict(fixed)
    for name, d in space.items():
        if d.integer:
            params[name] = trial.suggest_int(name, int(d.low), int(d.high), log=d.log)
        else:
            params[name] = trial.suggest_float(name, float(d.low), float(d.high), log=d.log)
    return params


def _distributions(space: dict[str, Dim]) -> dict:
    import optuna

    return {n: (optuna.distributions.IntDistribution(int(d.low), int(d.high), log=d.log)
                if d.integer else
                optuna.distributions.FloatDistribution(float(d.low), float(d.high), log=d.log))
            for n, d in space.items()}


def _rebuild(study, stored: pd.DataFrame, space: dict[str, Dim]) -> None:
    """Add the stored trials to a fresh Optuna study (numbers continue after them)."""
    import optuna
    from optuna.trial import TrialState

    dists = _distributions(space)
    for row in stored.itertuples():
        state = TrialState[row.state]
        params = {n: v for n, v in (row.params or {}).items() if n in dists}
        inter = {int(s): float(v) for s, v in (row.intermediate or {}).items()}
        values = row.vals if state == TrialState.COMPLETE else None
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={n: dists[n] for n in params}, values=values,
            intermediate_values=inter, state=state))


def _best(study, objectives):  # -> optuna FrozenTrial | None
    from optuna.trial import TrialState

    if len(objectives) == 1:
        done = [t for t in study.trials if t.state == TrialState.COMPLETE]
        return study.best_trial if done else None
    front = study.best_trials
    if not front:
        return None
    sign = 1 if direction(objectives[0][0]) == "maximize" else -1
    return max(front, key=lambda t: sign * t.values[0])


def _split_method(store: Store, split_id: int) -> tuple[str, dict, float | None]:
    info = store_runs.get_split(store, split_id)
    request = info["params"].get("request") or {}
    params = dict(SPLIT_DEFAULTS)
    params.update(info["params"].get("params") or {})
    params.update((request.get("params") or {}))
    if isinstance(params.get("cut"), str):
        try:
            params["cut"] = float(params["cut"])
        except ValueError:
            pass
    return info["method"], params, request.get("min_weight")


def tune(store: Store, plan: StudyPlan, *, trials: int = 30, timeout: float | None = None,
         split: str = "auto", split_params: dict | None = None, min_weight: float | None = None,
         neighbours: int = N_NEIGHBOURS, on_trial: Callable[[dict], None] | None = None,
         progress: ProgressFn = null_progress, backend=None) -> dict:
    """Run (or resume) the study ``plan`` (``plan_study``) and train its final run.

    ``on_trial(info)`` after each trial: number, state, values, params, seconds, best
    (first-objective value of the best trial so far), best_number.
    Returns {study_id, algorithm, best_params, best_value, n_trials, run_id, status}.
    ``backend``: None (or the local one) runs the trials here one by one; a Ray backend
    runs them as Ray tasks, as many at once as the cluster has CPUs (``_run_remote``).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ks = eval_ks(max(k for _, k in plan.objectives))
    ds = load_dataset(store, plan.dataset)
    if plan.split_id is None:
        request = split_request(split, split_params, plan.seed, min_weight)
        plan.split_id = store_runs.find_split(store, plan.dataset, request)
        if plan.split_id is None:  # made and written now; trials still read only its train part
            plan.split_id = ensure_split(store, plan.dataset, ds.interactions, method=split,
                                         split_params=split_params, seed=plan.seed,
                                         min_weight=min_weight, progress=progress)[0]
    method, sparams, mw = _split_method(store, plan.split_id)
    # the training part only: the test part is not loaded until the final run
    train = store_runs.train_items(store, plan.split_id)
    vdata = validation_data(plan.dataset, plan.split_id, train, ds.items, method, sparams, ks,
                            seed=plan.seed)
    if plan.study_id is None:
        plan.study_id = store_tuning.create_study(
            store, dataset=plan.dataset, algorithm=plan.algorithm, split_id=plan.split_id,
            objectives=[label(o) for o in plan.objectives],
            directions=[direction(m) for m, _ in plan.objectives],
            space={n: d.to_json() for n, d in plan.space.items()}, fixed=plan.fixed,
            seed=plan.seed)
        stored = store_tuning.trials(store, plan.study_id)
    else:
        stored = store_tuning.trials(store, plan.study_id)
        store_tuning.set_study_status(store, plan.study_id, "running")
    single = len(plan.objectives) == 1
    study = optuna.create_study(
        directions=[direction(m) for m, _ in plan.objectives],
        sampler=optuna.samplers.TPESampler(seed=plan.seed + len(stored)),
        pruner=(optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP,
                                            n_warmup_steps=PRUNE_FROM_PERCENT)
                if single else optuna.pruners.NopPruner()))
    _rebuild(study, stored, plan.space)
    entry = registry.spec(plan.algorithm)
    if stored.empty:
        # trial 0 is the registry's defaults (those inside the space): the study's best is
        # then never worse on validation than the untuned model
        defaults = {n: entry.defaults[n] for n, d in plan.space.items()
                    if d.low <= entry.defaults[n] <= d.high}
        if defaults:
            study.enqueue_trial(defaults)

    def objective(trial):
        params = _suggest(trial, plan.space, plan.fixed)
        report = None
        if single and entry.iterative:
            def report(step, value):
                trial.report(value, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        try:
            values = run_trial(vdata, plan.algorithm, params, seed=plan.seed,
                               objectives=plan.objectives, report=report)
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            trial.set_user_attr("error", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise
        return values[0] if single else values

    #: Optuna's trial number -> the stored one (the same, except on Ray: see _run_remote)
    numbers: dict[int, int] = {i: i for i in range(len(stored))}

    def save(study_, ft, seconds, number):
        params = {**plan.fixed, **ft.params}
        values = list(ft.values) if ft.values is not None else None
        store_tuning.add_trial(store, plan.study_id, number, params, values, ft.state.name,
                               {int(s): float(v) for s, v in ft.intermediate_values.items()},
                               seconds, ft.user_attrs.get("error"))
        numbers[ft.number] = number
        best = _best(study_, plan.objectives)
        if on_trial is not None:
            on_trial({"number": number, "state": ft.state.name, "values": values,
                      "params": params, "seconds": seconds,
                      "best": None if best is None else best.values[0],
                      "best_number": None if best is None else numbers[best.number],
                      "objectives": [label(o) for o in plan.objectives]})

    def record(study_, ft):
        seconds = ((ft.datetime_complete - ft.datetime_start).total_seconds()
                   if ft.datetime_complete and ft.datetime_start else float("nan"))
        save(study_, ft, seconds, ft.number)

    try:
        if backend is not None and getattr(backend, "name", "local") != "local":
            _run_remote(backend, study, plan, vdata, int(trials), timeout, entry, save,
                        first=len(stored))
        else:
            study.optimize(objective, n_trials=int(trials), timeout=timeout,
                           callbacks=[record], catch=(Exception,), gc_after_trial=False)
    except KeyboardInterrupt:
        store_tuning.set_study_status(store, plan.study_id, "interrupted")
        raise
    best = _best(study, plan.objectives)
    n_trials = len(study.trials)
    if best is None:
        store_tuning.set_study_status(store, plan.study_id, "finished")
        raise DataError(f"No trial of study {plan.study_id} finished; see `recscope tune "
                        f"--study {plan.study_id}` after fixing the cause (trials failed or were "
                        f"pruned).")
    best_params = {**plan.fixed, **best.params}
    data = prepare_split_by_id(store, plan.dataset, plan.split_id, ks, mw)
    try:
        result = train_one(store, data, plan.algorithm, best_params, seed=plan.seed,
                           neighbours=neighbours, progress=progress)
    except KeyboardInterrupt:
        store_tuning.set_study_status(store, plan.study_id, "interrupted")
        raise
    store_tuning.set_study_status(store, plan.study_id, "finished", run_id=result["run_id"])
    return {"study_id": plan.study_id, "algorithm": plan.algorithm, "best_params": best_params,
            "best_value": best.values[0] if single else list(best.values),
            "n_trials": n_trials, "run_id": result["run_id"], "status": result["status"],
            "best_number": numbers[best.number], "error": result["error"]}


def _remote_trial(params: dict, *, vdata: TrainingSplit, algo: str, seed: int,
                  objectives, intermediate: bool) -> tuple[list[float], dict, float]:
    """One trial on a worker: ``run_trial`` with its intermediate values collected (not
    acted on: a remote trial is not pruned). Returns (values, {percent: value}, seconds)."""
    import time

    steps: dict[int, float] = {}
    start = time.perf_counter()
    values = run_trial(vdata, algo, params, seed=seed, objectives=objectives,
                       report=(lambda step, value: steps.__setitem__(int(step), float(value)))
                       if intermediate else None)
    return values, steps, time.perf_counter() - start


def _run_remote(backend, study, plan: StudyPlan, vdata: TrainingSplit, trials: int,
                timeout: float | None, entry, save, *, first: int) -> None:
    """Ask-and-tell on a Ray backend: one Optuna study on the driver; ``study.ask()`` as
    many trials as the cluster has CPUs, each one ``_remote_trial`` as a Ray task (the
    validation data put in the object store once), ``study.tell()`` each as it finishes and
    ask the next. Trials are not pruned (a running remote trial cannot be stopped from its
    reports cheaply); their intermediate values are reported after the fact, so the store
    holds them as the local tuner's. Stored numbers follow completion order, from
    ``first`` on, so they stay 0..n-1 without gaps when a Ctrl-C leaves trials unfinished
    (a resumed study then continues the numbering). ``save(study, frozen, seconds, number)``
    stores one trial."""
    import time

    from optuna.trial import TrialState

    single = len(plan.objectives) == 1
    pool = backend.pool(_remote_trial, shared={
        "vdata": vdata, "algo": plan.algorithm, "seed": plan.seed,
        "objectives": [tuple(o) for o in plan.objectives],
        "intermediate": bool(single and entry.iterative)})
    started = time.monotonic()
    asked = told = 0
    try:
        while True:
            while (asked < trials and pool.running < max(1, int(backend.parallelism))
                   and (timeout is None or time.monotonic() - started < timeout)):
                trial = study.ask()
                pool.submit(trial, _suggest(trial, plan.space, plan.fixed))
                asked += 1
            if not pool.running:
                break
            trial, result, error = pool.next_done()
            if error is None:
                values, steps, seconds = result
                for step, value in sorted(steps.items()):
                    trial.report(value, step)
                ft = study.tell(trial, values[0] if single else values)
            else:
                seconds = float("nan")
                text = str(error).splitlines()[0] if str(error) else type(error).__name__
                trial.set_user_attr("error", text)
                ft = study.tell(trial, state=TrialState.FAIL)
            save(study, ft, seconds, first + told)
            told += 1
    finally:
        pool.close()


def prepare_split_by_id(store: Store, dataset: str, split_id: int, ks: list[int],
                        min_weight: float | None = None) -> TrainingSplit:
    """A stored split (train and test) made ready for ``train_one``."""
    ds = load_dataset(store, dataset)
    train, test = store_runs.load_split(store, split_id)
    return _training_split(dataset, split_id, train, test, ds.items, ks, min_weight)


# --------------------------------------------------------------------------- folds

def train_folds(store: Store, dataset: str, algos: list[str], n_folds: int, *, k: int = 20,
                split: str = "auto", split_params: dict | None = None, seed: int = 0,
                params: dict[str, dict] | None = None, min_weight: float | None = None,
                neighbours: int = 0, model_seed: int | None = None,
                progress: ProgressFn = null_progress, backend=None) -> list[dict]:
    """``recscope train --folds N``: N folds (``engine.evaluate.validation``), each stored
    as a split, every algorithm trained on each (``train_one``), one fold group per call.
    Returns train_one's dicts with ``fold`` and ``fold_group`` added.

    ``backend``: None (or the local one) trains fold after fold here; a Ray backend
    makes and stores every fold's split first, then runs each (fold, algorithm) as one
    Ray task (``pipeline.fan_out_runs``: each fold's split in the object store once); the
    driver writes the runs and their fold rows in the local loop's order, so run ids,
    split ids and the group are the ones the local loop gives."""
    if int(n_folds) < 2:
        raise DataError(f"--folds must be at least 2, not {n_folds}.")
    names, algo_params, mseed = check_request(algos, params, k, seed, model_seed)
    request = split_request(split, split_params, seed, min_weight)
    ds = load_dataset(store, dataset)
    pos = positives(ds.interactions, min_weight, dataset)
    p = request["params"]
    method = split
    if method == "auto":
        method = "leave_last_n" if pd.to_datetime(pos.get("timestamp")).notna().any() else "random"
    progress("split", 0, n_folds)
    if method == "time_cut":
        scheme = "time windows"
        parts = [(s.train, s.test, s) for s in time_folds(pos, int(n_folds), seed=seed,
                                                          min_history=int(p["min_history"]))]
    else:
        scheme = "user groups"
        whole = make_split(pos, method, n=int(p["n"]), fraction=float(p["fraction"]), seed=seed,
                           min_history=int(p["min_history"]))
        parts = [(tr, te, whole) for tr, te in user_folds(whole.train, whole.test, int(n_folds),
                                                          seed=seed)]
    ks = eval_ks(k)
    group = store_tuning.new_fold_group(store)
    if fans_out(backend, len(parts) * len(names)):
        return _fan_out_folds(store, dataset, parts, int(n_folds), names, algo_params, mseed,
                              request, scheme, group, ks, min_weight, neighbours, backend,
                              progress)
    out = []
    for f, (tr, te, s) in enumerate(parts):
        split_id = _fold_split_id(store, dataset, request, int(n_folds), f, scheme, tr, te, s)
        progress("split", f + 1, n_folds)
        data = prepare_split_by_id(store, dataset, split_id, ks, min_weight)
        for name in names:
            r = train_one(store, data, name, algo_params[name], seed=mseed, neighbours=neighbours,
                          progress=progress)
            store_tuning.add_fold_run(store, r["run_id"], group, f, int(n_folds), scheme)
            out.append({**r, "fold": f, "fold_group": group})
    return out


def _fold_split_id(store: Store, dataset: str, request: dict, n_folds: int, f: int,
                   scheme: str, tr, te, s) -> int:
    """The stored split of fold ``f`` (saved when new)."""
    req = dict(request, folds={"n": int(n_folds), "fold": f, "scheme": scheme})
    split_id = store_runs.find_split(store, dataset, req)
    if split_id is None:
        split_id = store_runs.save_split(store, dataset, tr, te, method=s.method, request=req,
                                         params=dict(s.params or {}),
                                         info={**dict(s.info or {}), "fold": f})
    return split_id


def _fan_out_folds(store: Store, dataset: str, parts, n_folds: int, names, algo_params, mseed,
                   request, scheme, group, ks, min_weight, neighbours, backend,
                   progress) -> list[dict]:
    """``train_folds`` on a Ray backend: every fold's split stored first, then every
    (fold, algorithm) run one Ray task; each run's fold row is written as the run is."""
    datas = []
    for f, (tr, te, s) in enumerate(parts):
        split_id = _fold_split_id(store, dataset, request, n_folds, f, scheme, tr, te, s)
        progress("split", f + 1, n_folds)
        datas.append(prepare_split_by_id(store, dataset, split_id, ks, min_weight))
    jobs = [RunJob(datas[f], name, algo_params[name], mseed, int(neighbours))
            for f in range(len(parts)) for name in names]
    folds = [f for f in range(len(parts)) for _ in names]

    def group_run(i: int, r: dict) -> None:
        store_tuning.add_fold_run(store, r["run_id"], group, folds[i], n_folds, scheme)

    results = fan_out_runs(store, jobs, backend, progress=progress, on_stored=group_run)
    return [{**r, "fold": folds[i], "fold_group": group} for i, r in enumerate(results)]


# --------------------------------------------------------------------------- the page's reads

def fold_results(store: Store, dataset: str, metric: str, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, summary): every fold run's ``metric@k`` (``store.tuning.fold_metric_values``)
    and per (algorithm, fold group) the mean with a 95% t interval (``evaluate.folds``)."""
    values = store_tuning.fold_metric_values(store, dataset, metric, k)
    return values, fold_summary(values)


def fold_paired_test(store: Store, runs_a: list, runs_b: list, metric: str, k: int) -> dict:
    """Paired test of two algorithms' fold runs, per-user values paired by (fold, user)."""
    a = store_tuning.fold_user_values(store, runs_a, metric, k)
    b = store_tuning.fold_user_values(store, runs_b, metric, k)
    return paired_by_fold(a, b)


def studies(store: Store, dataset: str) -> pd.DataFrame:
    return store_tuning.list_studies(store, dataset)


def study_trials(store: Store, study_id: int) -> pd.DataFrame:
    """The study's trials, one column per parameter (``p_<name>``) and per objective value
    (``v0``, ``v1``) beside number, state, seconds, value."""
    t = store_tuning.trials(store, study_id)
    params = pd.DataFrame([dict(p or {}) for p in t["params"]], index=t.index).add_prefix("p_")
    vals = pd.DataFrame([list(v) if isinstance(v, list) else [] for v in t["vals"]],
                        index=t.index)
    vals.columns = [f"v{i}" for i in vals.columns]
    return pd.concat([t.drop(columns=["params", "vals"]), params, vals], axis=1)


def param_importance(store: Store, study_id: int) -> dict:
    """Optuna's own ``get_param_importances`` (fANOVA) of the first objective over the
    study's complete trials; {} with fewer than two complete trials or one parameter."""
    import optuna

    st = store_tuning.get_study(store, study_id)
    stored = store_tuning.trials(store, study_id)
    space = {n: Dim.from_json(d) for n, d in st["space"].items()}
    complete = stored[stored["state"] == "COMPLETE"]
    if len(complete) < 2 or not space:
        return {}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=st["directions"])
    _rebuild(study, complete, space)
    try:
        return dict(optuna.importance.get_param_importances(
            study, target=(lambda t: t.values[0]) if len(st["directions"]) > 1 else None))
    except (RuntimeError, ValueError):  # e.g. every trial scored the same
        return {}
